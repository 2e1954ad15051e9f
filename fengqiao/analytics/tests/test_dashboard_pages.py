"""The dashboard page and API: permission matrix, figures against the raw rows, dates, queries."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fengqiao.core.models import AuditEntry
from fengqiao.factories import Jurisdiction, UserFactory, api_client, assert_api_error
from fengqiao.incidents.models import Incident
from fengqiao.incidents.rollups import rollup_rebuild, rollups_deferred
from fengqiao.incidents.tests.test_rollups import make_incident

URL = "/analytics/dashboard/"
API = "/api/v1/analytics/dashboard"
SH = ZoneInfo("Asia/Shanghai")
FIRST, LAST = date(2026, 1, 1), date(2026, 6, 15)
PERIOD = {"first": FIRST.isoformat(), "last": LAST.isoformat()}


def seed(j: Jurisdiction, *, burglaries: tuple[int, int] = (4, 5), frauds: int = 3) -> None:
    """Burglaries in spring 2025 and 2026, frauds in 2026, a theft on grid 1 after the period."""
    with rollups_deferred():
        for d in range(burglaries[0]):
            make_incident(j, datetime(2025, 3, 2, 3, tzinfo=UTC) + timedelta(hours=d * 24))
        for d in range(burglaries[1]):
            at = datetime(2026, 3, 2, 3, tzinfo=UTC) + timedelta(hours=d * 24)
            make_incident(j, at, valid=d != 0)
        for d in range(frauds):
            at = datetime(2026, 5, 10, 13, tzinfo=UTC) + timedelta(hours=d * 24)
            make_incident(j, at, code="100401", grid=2)
        make_incident(j, datetime(2026, 6, 20, 13, tzinfo=UTC), code="100103", grid=1)
    rollup_rebuild()


def page_client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def user_for(j: Jurisdiction, other: Jurisdiction, role: str):
    if role == "anonymous":
        return None
    if role == "resident":
        return UserFactory(username="resident-1")
    if role == "other_officer":
        return other.user("officer")
    if role == "analyst":
        return j.user("analyst", j.district)
    return j.user(role)


def _state() -> tuple[int, int]:
    return (Incident.objects.count(), AuditEntry.objects.count())


def raw_counts(j: Jurisdiction, first: date, last: date) -> Counter[str]:
    """Count the station's incidents reported first..last by every code above them."""
    out: Counter[str] = Counter()
    for i in Incident.objects.filter(station=j.station).select_related("category__parent"):
        if first <= i.reported_at.astimezone(SH).date() <= last:
            node = i.category
            while node is not None:
                out[node.code] += 1
                node = node.parent
    return out


# --- the page ---


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("resident", 404),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 200),
        ("chief", 200),
        ("analyst", 200),
    ],
)
def test_page_permission_matrix(j, other, role, status):
    seed(j)
    user = user_for(j, other, role)
    before = _state()
    resp = page_client(user).get(URL, {**PERIOD, "area": j.station.pk})
    assert resp.status_code == status
    if status == 200:
        assert resp.context["data"]["totals"]["count"] == 8
        assert 'id="dashboard-data"' in resp.content.decode()
    else:
        assert b"dashboard-data" not in resp.content
    assert _state() == before


def test_page_figures_equal_the_raw_rows(j):
    seed(j)
    resp = page_client(j.user("chief")).get(URL, PERIOD)
    assert resp.status_code == 200
    raw_now = raw_counts(j, FIRST, LAST)
    raw_then = raw_counts(j, date(2025, 1, 1), date(2025, 6, 15))
    cards = {c["key"]: c for c in resp.context["cards"]}
    # Burglary: 5 now, 4 a year before: +25%
    assert (cards["100101"]["value"], cards["100101"]["then"]) == (
        raw_now["100101"],
        raw_then["100101"],
    )
    assert cards["100101"]["yoy_text"] == "+25.0%"
    assert cards["100401"]["value"] == raw_now["100401"] == 3
    assert cards["100401"]["yoy_text"] == "—"  # none last year: no ratio
    assert cards["count"]["value"] == raw_now["100000"] == 8
    assert cards["valid"]["value"] == 7
    body = resp.content.decode()
    assert "2026-01-01 至 2026-06-15" in body
    assert "+25.0%" in body
    # the theft of 20 June is after the period: grid 1 and grid 3 had none
    zero = [g["name"] for g in resp.context["data"]["zero_grids"]]
    assert zero == [j.grids[1].name, j.grids[3].name]
    assert 'id="zero-grids"' in body and j.grids[3].name in body
    heat = {(r["hour"], w): n for r in resp.context["heat_rows"] for w, n in enumerate(r["cells"])}
    local = [i.reported_at.astimezone(SH) for i in Incident.objects.all()]
    raw_heat = Counter((t.hour, t.weekday()) for t in local if FIRST <= t.date() <= LAST)
    assert {k: n for k, n in heat.items() if n} == dict(raw_heat)
    assert heat[(11, 0)] == 1  # the burglary of Monday 2 March, 03:00 UTC
    months = [r["month"] for r in resp.context["trend_rows"]]
    assert months == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    march = resp.context["trend_rows"][2]
    assert (march["count"], march["mom"], march["yoy"]) == (5, "—", "+25.0%")


def test_page_reports_bad_dates_and_shows_the_default(j):
    seed(j)
    c = page_client(j.user("chief"))
    resp = c.get(URL, {"first": "2026-02-30", "last": "1899-01-01"})
    assert resp.status_code == 200
    msgs = [str(m) for m in resp.context["messages"]]
    assert any("开始日期" in m for m in msgs)
    assert any("结束日期" in m for m in msgs)
    assert resp.context["first"] == date(resp.context["last"].year, 1, 1)
    resp = c.get(URL, {"first": "2026-06-01", "last": "2026-05-01"})
    msgs = [str(m) for m in resp.context["messages"]]
    assert any("开始日期晚于结束日期" in m for m in msgs)
    resp = c.get(URL, {**PERIOD, "area": "abc"})
    assert any("辖区" in str(m) for m in resp.context["messages"])


def test_analyst_picks_the_district_or_a_station(j, other):
    seed(j)
    seed(other, burglaries=(1, 2), frauds=0)
    analyst = j.user("analyst", j.district)
    c = page_client(analyst)
    resp = c.get(URL, PERIOD)  # default: the district of their stations
    data = resp.context["data"]
    assert data["scope"]["kind"] == "district"
    assert data["totals"]["count"] == 8 + 2
    assert [ch["kind"] for ch in resp.context["choices"]] == ["district", "station", "station"]
    assert b'name="area"' in resp.content
    resp = c.get(URL, {**PERIOD, "area": other.station.pk})
    assert resp.context["data"]["totals"]["count"] == 2
    # an officer of one station has no picker and cannot reach the district
    officer = j.user("officer")
    resp = page_client(officer).get(URL, PERIOD)
    assert b'name="area"' not in resp.content
    assert page_client(officer).get(URL, {**PERIOD, "area": j.district.pk}).status_code == 404


def test_page_query_count_does_not_grow_with_incidents(j):
    chief = j.user("chief")
    seed(j, burglaries=(1, 1), frauds=1)
    c = page_client(chief)
    c.get(URL, PERIOD)  # warm the session and the code tree
    with CaptureQueriesContext(connection) as small:
        c.get(URL, PERIOD)
    seed(j, burglaries=(30, 40), frauds=25)
    with CaptureQueriesContext(connection) as big:
        resp = c.get(URL, PERIOD)
    assert resp.context["data"]["totals"]["count"] > 60
    assert len(big.captured_queries) == len(small.captured_queries)
    assert len(big.captured_queries) <= 11


# --- the API ---


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
def test_api_permission_matrix(j, other, role, status):
    seed(j)
    user = user_for(j, other, role)
    before = _state()
    resp = api_client(user).get(API, {**PERIOD, "area": j.station.pk})
    if status == 200:
        assert resp.status_code == 200, resp.content
        assert resp.json()["totals"]["count"] == 8
    else:
        assert_api_error(resp, status, {401: "unauthorized", 404: "not_found"}[status])
    assert _state() == before


def test_api_returns_every_figure_of_the_page(j):
    seed(j)
    chief = j.user("chief")
    body = api_client(chief).get(API, PERIOD).json()
    page = page_client(chief).get(URL, PERIOD).context["data"]
    assert body["period"] == {"from": "2026-01-01", "to": "2026-06-15", "days": 166}
    assert body["compare"]["from"] == "2025-01-01"
    burglary = body["headline"][0]
    assert (burglary["code"], burglary["count"], burglary["last_year"]) == ("100101", 5, 4)
    assert burglary["yoy"] == pytest.approx(0.25)
    for key in ("totals", "headline", "classes", "heatmap", "trend", "one_down_one_up"):
        assert body[key] == page[key], key
    assert [g["id"] for g in body["zero_grids"]] == [g["id"] for g in page["zero_grids"]]
    assert [c["code"] for c in body["classes"]] == [c["code"] for c in page["classes"]]
    assert len(body["heatmap"]) == 7 * 24


def test_api_rejects_bad_dates_with_clear_messages(j):
    seed(j)
    client = api_client(j.user("chief"))
    body = assert_api_error(client.get(API, {"first": "2026-02-30"}), 422, "validation_error")
    assert "first" in body["fields"]
    body = assert_api_error(client.get(API, {"last": "1999-12-31"}), 422, "validation_error")
    assert "last" in body["fields"]
    resp = client.get(API, {"first": "2026-06-01", "last": "2026-05-01"})
    body = assert_api_error(resp, 422, "validation_error")
    assert "开始日期晚于结束日期" in body["message"]
    resp = client.get(API, {"first": "2020-01-01", "last": "2026-01-01"})
    assert "三年" in assert_api_error(resp, 422, "validation_error")["message"]
    assert_api_error(client.get(API, {"area": "x"}), 422, "validation_error")


def test_api_area_out_of_reach_is_404_like_a_missing_one(j, other):
    seed(other)
    client = api_client(j.user("chief"))
    missing = assert_api_error(client.get(API, {"area": 999999}), 404, "not_found")
    forbidden = assert_api_error(client.get(API, {"area": other.station.pk}), 404, "not_found")
    assert missing == forbidden
    assert_api_error(client.get(API, {"area": j.district.pk}), 404, "not_found")
    analyst = api_client(j.user("analyst", j.district))
    body = analyst.get(API, {**PERIOD, "area": j.district.pk}).json()
    assert body["scope"]["kind"] == "district"
    assert sorted(body["scope"]["station_ids"]) == sorted([j.station.pk, other.station.pk])
    assert body["totals"]["count"] == 8
