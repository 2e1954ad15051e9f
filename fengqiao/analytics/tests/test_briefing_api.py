"""The briefing and orders API: every action, permission matrices, 409s with reasons, 404s alike."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fengqiao.analytics.models import Briefing, Order
from fengqiao.analytics.orders import order_acknowledge
from fengqiao.analytics.services import briefing_generate
from fengqiao.analytics.tests.test_briefing_pages import PHONE, issued, morning, state
from fengqiao.core.models import AuditEntry
from fengqiao.factories import UserFactory, api_client, assert_api_error

pytestmark = pytest.mark.django_db

API = "/api/v1/analytics"


def client_for(j: Any, other: Any, role: str, user: Any = None) -> Any:
    """Return an API client for one row of the permission matrix."""
    if user is not None:
        return api_client(user)
    if role == "anonymous":
        return api_client(None)
    if role == "resident":
        return api_client(UserFactory())
    if role == "other_officer":
        return api_client(other.user("officer"))
    return api_client(j.user(role))


def post(client: Any, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}, default=str), content_type="application/json")


def due(hours: float = 3) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


# --- briefings ---


@pytest.mark.parametrize(
    ("role", "status", "sees"),
    [
        ("anonymous", 401, False),
        ("resident", 403, False),
        ("volunteer", 403, False),
        ("other_officer", 200, False),
        ("officer", 200, True),
        ("chief", 200, True),
    ],
)
def test_briefing_list_matrix(j, other, role, status, sees):
    b = morning(j)
    resp = client_for(j, other, role).get(f"{API}/briefings")
    assert resp.status_code == status
    if status == 200:
        ids = [x["id"] for x in resp.json()["items"]]
        assert ids == ([b.pk] if sees else [])


def test_briefing_list_pages_by_cursor_in_constant_queries(j):
    chief = j.user("chief")
    c = api_client(chief)
    briefing_generate(actor=chief, station_id=j.station.pk)
    c.get(f"{API}/briefings")  # the token's first use records it; count from the second
    with CaptureQueriesContext(connection) as one:
        c.get(f"{API}/briefings")
    for _ in range(4):
        briefing_generate(actor=chief, station_id=j.station.pk)
    with CaptureQueriesContext(connection) as five:
        first = c.get(f"{API}/briefings", {"limit": 3}).json()
    assert len(five) == len(one)
    rest = c.get(f"{API}/briefings", {"limit": 3, "cursor": first["next_cursor"]}).json()
    ids = [x["id"] for x in first["items"] + rest["items"]]
    assert ids == sorted(Briefing.objects.values_list("pk", flat=True), reverse=True)
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("resident", 404),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 403),
        ("chief", 201),
    ],
)
def test_generate_matrix(j, other, role, status):
    before = state()
    resp = post(client_for(j, other, role), f"{API}/briefings", {"station_id": j.station.pk})
    assert resp.status_code == status, resp.content
    if status == 201:
        data = resp.json()
        b = Briefing.objects.get()
        assert data["id"] == b.pk and data["kind"] == "on_demand"
        assert data["content"] == b.content and data["content"]["station"]["id"] == j.station.pk
        assert AuditEntry.objects.filter(action="analytics.briefing.generated").count() == 1
    else:
        assert state() == before


def test_generate_for_a_future_day_is_422(j):
    tomorrow = timezone.localdate() + timedelta(days=1)
    resp = post(
        api_client(j.user("chief")),
        f"{API}/briefings",
        {"station_id": j.station.pk, "day": tomorrow},
    )
    body = assert_api_error(resp, 422, "validation_error")
    assert "day" in body["fields"]
    assert not Briefing.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("resident", 404),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 200),
        ("chief", 200),
    ],
)
def test_briefing_read_and_xlsx_matrix(j, other, role, status):
    b = morning(j)
    c = client_for(j, other, role)
    resp = c.get(f"{API}/briefings/{b.pk}")
    assert resp.status_code == status
    xlsx = c.get(f"{API}/briefings/{b.pk}.xlsx")
    assert xlsx.status_code == status
    if status == 200:
        data = resp.json()
        assert data["content"]["overnight"]["count"] == 2
        assert data["content"]["repeats"]["callers"][0]["name_masked"] == "张**"
        assert PHONE not in resp.content.decode() and "patrols" not in data["content"]
        wb = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
        assert wb["概况"]["B1"].value == j.station.name


def test_missing_and_other_stations_briefing_are_the_same_404(j, other):
    theirs = briefing_generate(actor=None, station_id=other.station.pk)
    c = api_client(j.user("chief"))
    a = c.get(f"{API}/briefings/{theirs.pk}")
    b = c.get(f"{API}/briefings/{theirs.pk + 999}")
    assert_api_error(a, 404, "not_found")
    assert a.json() == assert_api_error(b, 404, "not_found")


# --- orders ---


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("resident", 404),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 403),
        ("chief", 201),
    ],
)
def test_issue_matrix(j, other, role, status):
    b = morning(j)
    officer = j.user("officer")
    before = state()
    resp = post(
        client_for(j, other, role),
        f"{API}/orders",
        {
            "station_id": j.station.pk,
            "briefing_id": b.pk,
            "title": "走访张某",
            "instructions": "上门了解情况",
            "assignee_id": officer.pk,
            "due_at": due(),
        },
    )
    assert resp.status_code == status, resp.content
    if status == 201:
        data = resp.json()
        o = Order.objects.get()
        assert (data["id"], data["status"], data["assignee_id"]) == (o.pk, "issued", officer.pk)
        assert data["briefing_id"] == b.pk and data["number"] == o.number
        assert data["overdue"] is False and data["version"] == 1
        assert AuditEntry.objects.filter(action="analytics.order.issued").count() == 1
    else:
        assert state() == before


def test_issue_to_a_team_and_bad_input(j):
    c = api_client(j.user("chief"))
    base = {
        "station_id": j.station.pk,
        "title": "巡逻",
        "instructions": "夜间加密",
        "due_at": due(),
    }
    resp = post(c, f"{API}/orders", {**base, "team": "巡逻一组"})
    assert resp.status_code == 201 and resp.json()["team"] == "巡逻一组"
    body = assert_api_error(post(c, f"{API}/orders", base), 422, "validation_error")
    assert "assignee_id" in body["fields"]
    past = {**base, "team": "一组", "due_at": due(-1)}
    body = assert_api_error(post(c, f"{API}/orders", past), 422, "validation_error")
    assert "due_at" in body["fields"]
    assert Order.objects.count() == 1


def test_the_whole_life_of_an_order_through_the_api(j):
    chief, officer = j.user("chief"), j.user("officer")
    boss, me = api_client(chief), api_client(officer)
    o = post(
        boss,
        f"{API}/orders",
        {
            "station_id": j.station.pk,
            "title": "走访",
            "instructions": "上门",
            "assignee_id": officer.pk,
            "due_at": due(),
        },
    ).json()
    url = f"{API}/orders/{o['id']}"
    assert [x["id"] for x in me.get(f"{API}/orders", {"view": "mine"}).json()["items"]] == [o["id"]]
    # Completing before acknowledging is refused with the reason
    body = assert_api_error(
        post(me, f"{url}/complete", {"result": "做完了"}), 409, "illegal_transition"
    )
    assert "尚未签收" in body["message"]
    ack = post(me, f"{url}/acknowledge", {"version": 1})
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert ack.json()["acknowledged_by_id"] == officer.pk
    body = assert_api_error(post(me, f"{url}/acknowledge"), 409, "illegal_transition")
    assert "已签收" in body["message"]
    # A stale version is a conflict
    stale = post(me, f"{url}/complete", {"result": "做完了", "version": 1})
    assert_api_error(stale, 409, "conflict")
    done = post(me, f"{url}/complete", {"result": "已调解", "version": 2})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["result"], done.json()["version"]) == (
        "done",
        "已调解",
        3,
    )
    body = assert_api_error(
        post(boss, f"{url}/cancel", {"reason": "晚了"}), 409, "illegal_transition"
    )
    assert "已经结束" in body["message"]
    assert boss.get(url).json()["status"] == "done"
    assert list(
        AuditEntry.objects.filter(object_id=str(o["id"]), object_type="analytics.order")
        .order_by("seq")
        .values_list("action", flat=True)
    ) == ["analytics.order.issued", "analytics.order.acknowledged", "analytics.order.done"]


def test_the_chief_cancels_through_the_api(j):
    chief, officer = j.user("chief"), j.user("officer")
    o = issued(j, chief, officer)
    c = api_client(chief)
    assert_api_error(
        post(c, f"{API}/orders/{o.pk}/cancel", {"reason": ""}), 422, "validation_error"
    )
    resp = post(c, f"{API}/orders/{o.pk}/cancel", {"reason": "已由他人处置"})
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    assert resp.json()["cancel_reason"] == "已由他人处置"
    assert AuditEntry.objects.filter(action="analytics.order.cancelled").count() == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("resident", 404),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 403),  # of the station, but not the one it was given to
    ],
)
@pytest.mark.parametrize("action", ["acknowledge", "complete", "cancel"])
def test_order_move_matrix(j, other, role, status, action):
    chief, assignee = j.user("chief"), j.user("officer")
    o = issued(j, chief, assignee)
    if action == "complete":
        order_acknowledge(actor=assignee, order=o)
    before = (state(), Order.objects.get(pk=o.pk).status)
    resp = post(
        client_for(j, other, role),
        f"{API}/orders/{o.pk}/{action}",
        {"result": "好", "reason": "好"},
    )
    assert resp.status_code == status
    assert (state(), Order.objects.get(pk=o.pk).status) == before


def test_missing_and_other_stations_order_are_the_same_404(j, other):
    theirs = issued(other, other.user("chief"), other.user("officer"))
    c = api_client(j.user("chief"))
    for url in (f"{API}/orders/{theirs.pk}", f"{API}/orders/{theirs.pk + 999}"):
        assert assert_api_error(c.get(url), 404, "not_found")["message"]
        assert_api_error(post(c, f"{url}/cancel", {"reason": "x"}), 404, "not_found")
    assert Order.objects.get(pk=theirs.pk).status == "issued"


@pytest.mark.parametrize("view", ["mine", "open", "overdue", "all"])
def test_order_list_views_in_constant_queries(j, view):
    chief, officer = j.user("chief"), j.user("officer")
    c = api_client(chief)
    issued(j, chief, officer)
    c.get(f"{API}/orders")  # the token's first use records it; count from the second
    with CaptureQueriesContext(connection) as one:
        assert c.get(f"{API}/orders", {"view": view}).status_code == 200
    for _ in range(5):
        issued(j, chief, officer)
    Order.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    with CaptureQueriesContext(connection) as six:
        items = c.get(f"{API}/orders", {"view": view}).json()["items"]
    assert len(six) == len(one)
    assert len(items) == {"mine": 0, "open": 6, "overdue": 6, "all": 6}[view]
    if view == "overdue":
        assert all(x["overdue"] for x in items)


def test_order_list_refuses_who_handles_no_orders(j, other):
    issued(j, j.user("chief"), j.user("officer"))
    assert client_for(j, other, "volunteer").get(f"{API}/orders").status_code == 403
    resp = client_for(j, other, "other_officer").get(f"{API}/orders", {"view": "all"})
    assert resp.status_code == 200 and resp.json()["items"] == []
