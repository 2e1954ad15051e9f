"""The list endpoint's filters match the pages': channel, source, supervision, dates, queues."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fengqiao.disputes.models import Dispute
from fengqiao.disputes.tests.kit import ago, intake
from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/disputes"


def found(resp) -> list[int]:
    assert resp.status_code == 200, resp.content
    return [d["id"] for d in resp.json()["items"]]


@pytest.fixture
def pair(j):
    a = intake(j, source="application")
    b = intake(j, source="screening")
    Dispute.objects.filter(pk=a.pk).update(
        channel="community", reported_at=ago(10), deadline=timezone.localdate() - timedelta(days=1)
    )
    Dispute.objects.filter(pk=b.pk).update(channel="lawyer", supervision="red", status="closed")
    return a, b


@pytest.mark.parametrize(
    ("query", "which"),
    [
        ({"channel": "community"}, "a"),
        ({"channel": "lawyer"}, "b"),
        ({"source": "screening"}, "b"),
        ({"supervision": "red"}, "b"),
        ({"queue": "open"}, "a"),
        ({"queue": "overdue"}, "a"),
        ({"reported_to": "DAYS_AGO_5"}, "a"),
        ({"reported_from": "DAYS_AGO_5"}, "b"),
    ],
)
def test_list_filters(j, pair, query, which):
    a, b = pair
    day = str(timezone.localdate() - timedelta(days=5))
    query = {k: day if v == "DAYS_AGO_5" else v for k, v in query.items()}
    expected = a if which == "a" else b
    assert found(api_client(j.user("officer")).get(URL, query)) == [expected.pk]


def test_the_mine_queue(j, pair):
    officer = j.user("officer")
    mine = intake(j, officer)
    assert found(api_client(officer).get(URL, {"queue": "mine"})) == [mine.pk]


@pytest.mark.parametrize(
    "query",
    [
        {"channel": "pigeon"},
        {"queue": "everything"},
        {"reported_from": "yesterday"},
        {"reported_from": "2026-03-02", "reported_to": "2026-03-01"},
    ],
)
def test_bad_filters_are_422(j, query):
    resp = api_client(j.user("officer")).get(URL, query)
    assert_api_error(resp, 422, "validation_error")
