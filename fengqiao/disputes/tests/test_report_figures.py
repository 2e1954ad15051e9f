"""The monthly report's figures, recomputed by hand; 同比/环比; scope; XLSX; page and API."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Dispute, FollowUp, ScreeningVisit, StatType
from fengqiao.disputes.report import monthly_report, monthly_report_from_cases
from fengqiao.disputes.rollups import rollup_rebuild
from fengqiao.disputes.tests.kit import intake
from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db


def month_ago(n: int) -> date:
    """Return the first day of the month n months before this one."""
    first = timezone.localdate().replace(day=1)
    for _i in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()) + timedelta(hours=hour))


def case(j: Any, reported: date, **finish: Any) -> Dispute:
    """Register a case reported on `reported`, then write its ending straight to the table."""
    extra = {
        k: finish.pop(k)
        for k in ("source", "grid", "people_count", "amount", "violence", "type_code")
        if k in finish
    }
    d = intake(j, reported_at=at(reported), occurred_at=at(reported, 8), **extra)
    if finish:
        Dispute.objects.filter(pk=d.pk).update(**finish)
    return d


def build_month(j: Any, m: date) -> None:
    """The month m by hand: see test_figures_recomputed_by_hand for what each case counts."""

    def d(days: int) -> date:
        return m + timedelta(days=days)

    # A: from screening, settled on day 5, on time, 3 days
    case(
        j,
        d(days=1),
        source="screening",
        people_count=2,
        amount="1000",
        status="closed",
        outcome="success",
        closed_at=at(d(days=4)),
        deadline=d(days=10),
        channel="community",
    )
    # B: failed and referred on day 20, after its deadline: overdue, 17 days
    case(
        j,
        d(days=2),
        grid=1,
        amount="5000.50",
        status="referred",
        outcome="failed",
        closed_at=at(d(days=19)),
        deadline=d(days=10),
        channel="lawyer",
    )
    # C: withdrawn: received, not mediated
    case(j, d(days=3), status="withdrawn", outcome="withdrawn", closed_at=at(d(days=5)))
    # D: violence, settled: prevented (防止民转刑), 6 people; no deadline counts as on time
    case(
        j,
        d(days=4),
        grid=2,
        violence=True,
        people_count=6,
        status="closed",
        outcome="partial",
        closed_at=at(d(days=6)),
        channel="joint",
    )
    # E: received the month before, settled in this one
    e = case(
        j,
        m - timedelta(days=3),
        status="closed",
        outcome="success",
        closed_at=at(d(days=7)),
        channel="community",
    )
    # F: open: received this month, nothing else
    case(j, d(days=8))
    # Follow-ups of E: two recorded this month (satisfied, not), one due this month not done.
    for due, visited, satisfaction in (
        (d(days=10), at(d(days=10)), 5),
        (d(days=11), at(d(days=12)), 2),
        (d(days=20), None, None),
    ):
        FollowUp.objects.create(
            dispute=e,
            station=j.station,
            kind="other",
            due_date=due,
            state="done" if visited else "scheduled",
            visited_at=visited,
            satisfaction=satisfaction,
        )
    officer = j.user("officer")
    for result in ("resolved", "nothing", "dispute"):
        ScreeningVisit.objects.create(
            station=j.station,
            community=j.grids[0].parent,
            area=j.grids[0],
            visited_at=at(d(days=9)),
            visitor=officer,
            visited="住户",
            address="枫桥路",
            findings="走访",
            result=result,
        )


@pytest.fixture
def month(j: Any) -> date:
    m = month_ago(2)
    build_month(j, m)
    # The month before m holds E's reception; the month after m must not leak in; the same
    # month last year holds two cases.
    case(j, month_ago(1) + timedelta(days=2))
    for i in range(2):
        case(j, month_ago(14) + timedelta(days=3 + i))
    rollup_rebuild()
    return m


def test_figures_recomputed_by_hand(j, month):
    chief = j.user("chief")
    r = monthly_report(user=chief, year=month.year, month=month.month)
    t = r["totals"]
    assert t["received"] == 5  # A B C D F
    assert t["screened"] == 3  # A, and the visits that found a dispute and opened no case
    assert t["people"] == 2 + 2 + 2 + 6 + 2
    assert t["amount"] == Decimal("6000.50")
    assert t["concluded"] == 4  # A B D E; C withdrawn is not a mediated case
    assert t["succeeded"] == 3 and t["failed"] == 1
    assert t["success_rate"] == 0.75
    assert t["overdue"] == 1 and t["on_time_rate"] == 0.75
    assert t["mean_days"] == round((3 + 17 + 2 + 10) / 4, 1)
    assert t["prevented"] == 1 and t["prevented_people"] == 6
    assert t["followed_up"] == 2 and t["satisfaction_rate"] == 0.5
    assert t["followups_due"] == 3 and t["followup_rate"] == 2 / 3
    # Breakdowns: all 18 statistical types even when zero; channels as assigned.
    stat_rows = [row for row in r["breakdowns"]["stat_type"] if row["key"]]
    assert len(stat_rows) == StatType.objects.count() == 18
    assert sum(row["received"] for row in stat_rows) == 5
    channels = {row["key"]: row for row in r["breakdowns"]["channel"]}
    assert channels["community"]["concluded"] == 2 and channels["lawyer"]["failed"] == 1
    assert channels["joint"]["prevented"] == 1
    sources = {row["key"]: row["received"] for row in r["breakdowns"]["source"]}
    assert sources["screening"] == 1 and sources["application"] == 4
    grids = {row["key"]: row for row in r["breakdowns"]["area"]}
    assert grids[str(j.grids[1].pk)]["overdue"] == 1
    assert sum(row["received"] for row in r["breakdowns"]["community"]) == 5
    assert r == monthly_report_from_cases(user=chief, year=month.year, month=month.month)


def test_year_on_year_and_month_on_month(j, month):
    r = monthly_report(user=j.user("chief"), year=month.year, month=month.month)
    assert r["previous"]["received"] == 1 and r["last_year"]["received"] == 2
    assert r["changes"]["received"]["mom"] == {"delta": 4, "pct": 4.0, "dir": "up"}
    assert r["changes"]["received"]["yoy"] == {"delta": 3, "pct": 1.5, "dir": "up"}
    # A rate's change is in points; from a month with no mediated case it is undefined.
    assert r["changes"]["success_rate"]["mom"]["delta"] is None
    assert [p["received"] for p in r["trend"]][-2:] == [1, 5]  # the month before, this one
    assert r["trend"][-1]["month"] == f"{month:%Y-%m}" and r["trend"][-1]["received"] == 5
    assert r["trend"][0]["received"] == 2  # the same month last year opens the trend


def test_success_rate_without_mediated_cases_is_a_dash(j, client):
    chief = j.user("chief")
    m = month_ago(3)
    case(j, m + timedelta(days=1))
    rollup_rebuild()
    r = monthly_report(user=chief, year=m.year, month=m.month)
    assert r["totals"]["concluded"] == 0 and r["totals"]["success_rate"] is None
    client.force_login(chief)
    page = client.get(reverse("disputes:report"), {"month": f"{m:%Y-%m}"})
    assert page.status_code == 200
    html = page.content.decode()
    card = html.split('data-figure="success_rate"')[1].split("</div>")[2]
    assert "—" in card


def test_scope_other_station_invisible_and_analyst_sums_the_district(j, other, month):
    case(other, month + timedelta(days=1), people_count=3)
    rollup_rebuild()
    chief, other_chief = j.user("chief"), other.user("chief")
    mine = monthly_report(user=chief, year=month.year, month=month.month)
    theirs = monthly_report(user=other_chief, year=month.year, month=month.month)
    assert mine["totals"]["received"] == 5 and theirs["totals"]["received"] == 1
    assert mine["scope"]["station_ids"] == [j.station.pk]
    with pytest.raises(PermissionDenied):
        monthly_report(user=chief, year=month.year, month=month.month, area_id=other.station.pk)
    with pytest.raises(PermissionDenied):
        monthly_report(user=j.user("officer"), year=month.year, month=month.month)
    analyst = j.user("analyst", area=j.district)
    district = monthly_report(user=analyst, year=month.year, month=month.month)
    assert district["scope"]["kind"] == "district"
    assert district["totals"]["received"] == 6
    assert district["totals"]["people"] == mine["totals"]["people"] + 3
    one = monthly_report(user=analyst, year=month.year, month=month.month, area_id=other.station.pk)
    assert one["totals"]["received"] == 1
    assert district == monthly_report_from_cases(user=analyst, year=month.year, month=month.month)


def test_xlsx_opens_holds_the_numbers_and_is_audited(j, client, month):
    chief = j.user("chief")
    client.force_login(chief)
    resp = client.get(reverse("disputes:report_xlsx"), {"month": f"{month:%Y-%m}"})
    assert resp.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    sheet = book.active
    rows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "人民调解工作月报表"
    assert rows[2][1] == j.station.name
    by_label = {row[0]: row for row in rows if row and row[0]}
    assert by_label["受理纠纷（件）"][1] == 5 and by_label["受理纠纷（件）"][2] == 1
    assert by_label["调解成功率"][1] == 0.75
    assert by_label["涉及金额（元）"][1] == 6000.5
    assert by_label["防止民转刑（人）"][1] == 6
    titles = [
        row[0] for row in rows if row and row[0] and str(row[0]).startswith("按") and row[1] is None
    ]
    assert titles == [
        "按案件来源",
        "按人民调解统计类型",
        "按纠纷类型（大类）",
        "按调解方式",
        "按社区/村",
        "按网格",
    ]
    entry = AuditEntry.objects.get(action="disputes.report.exported")
    assert entry.actor == chief and entry.station_id == j.station.pk
    assert entry.changes["month"] == month.month


def test_page_renders_cards_tables_and_chart_data(j, client, month):
    client.force_login(j.user("chief"))
    resp = client.get(reverse("disputes:report"), {"month": f"{month:%Y-%m}"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'id="report-data"' in html and "js/dispute_report.js" in html
    assert "<script>" not in html.replace('<script id="report-data"', "")  # no inline JS
    charts = resp.context["charts"]
    assert charts["trend"][-1]["received"] == 5
    assert {c["name"]: c["value"] for c in charts["source"]}["主动排查"] == 1
    assert 'id="breakdown-stat_type"' in html and "婚姻家庭" in html
    # A bad month comes back with a message and the last full month.
    bad = client.get(reverse("disputes:report"), {"month": "2024-13"})
    assert bad.status_code == 200 and "月份格式不正确" in bad.content.decode()


def test_page_refuses_roles_without_the_report(j, other, client):
    client.force_login(j.user("officer"))
    assert client.get(reverse("disputes:report")).status_code == 403
    client.force_login(j.user("chief"))
    resp = client.get(reverse("disputes:report"), {"area": other.station.pk})
    assert resp.status_code == 403


def test_api_gives_the_same_figures_and_refuses_out_of_scope(j, other, month):
    chief = j.user("chief")
    api = api_client(chief)
    resp = api.get("/api/v1/disputes/report", {"year": month.year, "month": month.month})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    r = monthly_report(user=chief, year=month.year, month=month.month)
    assert body["totals"]["received"] == 5 and body["totals"]["success_rate"] == 0.75
    assert Decimal(body["totals"]["amount"]) == r["totals"]["amount"]
    assert len(body["breakdowns"]["stat_type"]) == len(r["breakdowns"]["stat_type"])
    assert body["changes"]["received"]["yoy"]["pct"] == 1.5
    denied = api.get(
        "/api/v1/disputes/report",
        {"year": month.year, "month": month.month, "station_id": other.station.pk},
    )
    assert_api_error(denied, 403, "forbidden")
    assert_api_error(
        api_client(j.user("officer")).get(
            "/api/v1/disputes/report", {"year": month.year, "month": month.month}
        ),
        403,
        "forbidden",
    )
    assert_api_error(
        api.get("/api/v1/disputes/report", {"year": 2024, "month": 13}), 422, "validation_error"
    )
    assert (
        api_client(None).get("/api/v1/disputes/report", {"year": 2024, "month": 1}).status_code
        == 401
    )
    xlsx = api.get("/api/v1/disputes/report.xlsx", {"year": month.year, "month": month.month})
    assert xlsx.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active["A1"].value


def test_open_cases_past_their_deadline_are_counted_live(j, other):
    today = timezone.localdate()
    late = case(j, today - timedelta(days=20), deadline=today - timedelta(days=1))
    case(j, today - timedelta(days=20), deadline=today + timedelta(days=1))
    case(
        j,
        today - timedelta(days=30),
        deadline=today - timedelta(days=10),
        status="closed",
        outcome="success",
        closed_at=at(today - timedelta(days=2)),
    )
    case(other, today - timedelta(days=20), deadline=today - timedelta(days=1))
    m = month_ago(5)  # any month: the count is of today
    r = monthly_report(user=j.user("chief"), year=m.year, month=m.month)
    assert r["open_overdue"] == 1
    Dispute.objects.filter(pk=late.pk).update(status="withdrawn", closed_at=timezone.now())
    assert monthly_report(user=j.user("chief"), year=m.year, month=m.month)["open_overdue"] == 0
    analyst = j.user("analyst", area=j.district)
    assert monthly_report(user=analyst, year=m.year, month=m.month)["open_overdue"] == 1


def test_a_rate_is_rounded_once_for_display():
    from fengqiao.disputes.report import _rate
    from fengqiao.disputes.report_xlsx import show

    # 14 of 17 is 82.35…%: shown as 82.4%, not 82.3% from a rate already cut to 0.8235
    assert show("success_rate", _rate(14, 17)) == "82.4%"
