"""Every list of every app, page and API alike, survives a broken cursor: a page lists from the
top, the API says 422 on the cursor. A cursor is read from the URL, so anybody can hand-edit one."""

from __future__ import annotations

import pytest

from fengqiao.core.pagination import encode_cursor
from fengqiao.disputes.tests.kit import intake
from fengqiao.factories import api_client

pytestmark = pytest.mark.django_db

BROKEN = {
    "not base64": "%%%",
    "a text id": encode_cursor(["abc"]),
    "beyond a bigint": encode_cursor([2**70]),
    "no such day": encode_cursor(["2026-02-30", 1]),
    "two texts": encode_cursor(["x", "y"]),
    "a nested list": encode_cursor([[1], {"a": 1}]),
}

PAGES = [
    "/incidents/",
    "/disputes/",
    "/disputes/followups/",
    "/disputes/extensions/",
    "/disputes/screening/",
    "/disputes/{dispute}/timeline/",
    "/areas/places/",
    "/accounts/notifications/",
    "/audit/",
    "/analytics/briefings/",
    "/analytics/briefings/orders/",
]

APIS = [
    "/api/v1/incidents",
    "/api/v1/disputes",
    "/api/v1/disputes/followups",
    "/api/v1/disputes/extensions",
    "/api/v1/disputes/notifications",
    "/api/v1/disputes/mediators",
    "/api/v1/disputes/screening-visits",
    "/api/v1/disputes/{dispute}/timeline",
    "/api/v1/places",
    "/api/v1/analytics/briefings",
    "/api/v1/analytics/orders",
]


@pytest.fixture
def chief(j):
    user = j.user("chief")
    user.is_superuser = True  # the audit log and the user list as well
    user.save(update_fields=["is_superuser"])
    return user


@pytest.mark.parametrize("what", BROKEN)
@pytest.mark.parametrize("path", PAGES)
def test_a_page_lists_from_the_top_after_a_broken_cursor(client, j, chief, path, what):
    dispute = intake(j, chief)
    client.force_login(chief)
    url = path.format(dispute=dispute.pk)
    assert client.get(url).status_code == 200
    resp = client.get(url, {"cursor": BROKEN[what]}, follow=True)
    assert resp.status_code == 200, (url, what)
    assert "cursor=" not in resp.request["QUERY_STRING"]


@pytest.mark.parametrize("what", BROKEN)
@pytest.mark.parametrize("path", APIS)
def test_an_api_list_refuses_a_broken_cursor(j, chief, path, what):
    dispute = intake(j, chief)
    api = api_client(chief)
    url = path.format(dispute=dispute.pk)
    assert api.get(url).status_code == 200
    resp = api.get(url, {"cursor": BROKEN[what]})
    assert resp.status_code == 422, (url, what, resp.status_code)
    assert "cursor" in resp.json()["fields"]
