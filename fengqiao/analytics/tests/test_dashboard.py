"""The dashboard's figures read from the rollups equal the same figures over the raw rows."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fengqiao.analytics import dashboards
from fengqiao.analytics.dashboard_sources import (
    IncidentSource,
    RollupSource,
    plan_period,
    split_period,
)
from fengqiao.analytics.dashboards import (
    DashboardScope,
    change,
    class_counts,
    dashboard_for,
    dashboard_from_incidents,
    grid_counts,
    year_earlier,
)
from fengqiao.core.errors import ValidationFailed
from fengqiao.factories import Jurisdiction
from fengqiao.incidents.models import Incident, IncidentCategory
from fengqiao.incidents.rollups import rollup_rebuild, rollups_deferred
from fengqiao.incidents.tests.test_rollups import make_incident

SH = ZoneInfo("Asia/Shanghai")
CODES = ["100101", "100401", "100103", "200100", "300100", "500300", "100000"]


def seed(j: Jurisdiction, n: int, rng: random.Random, *, start: datetime, days: int) -> None:
    with rollups_deferred():
        for _ in range(n):
            at = start + timedelta(minutes=rng.randrange(days * 24 * 60))
            make_incident(
                j, at, code=rng.choice(CODES), grid=rng.randrange(3), valid=rng.random() > 0.1
            )
    rollup_rebuild(station_ids=[j.station.pk])


@pytest.fixture
def data(j: Jurisdiction, other: Jurisdiction) -> tuple[Jurisdiction, Jurisdiction]:
    rng = random.Random(4)
    start = datetime(2024, 12, 20, tzinfo=UTC)
    seed(j, 400, rng, start=start, days=720)
    seed(other, 150, rng, start=start, days=720)
    return j, other


def scope_of(*stations: Jurisdiction) -> DashboardScope:
    ids = tuple(s.station.pk for s in stations)
    return DashboardScope(ids, "station" if len(ids) == 1 else "district", ids[0], "测试")


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 1, 1), date(2026, 11, 15)),  # this year to a mid-month day
        (date(2026, 3, 1), date(2026, 5, 31)),  # whole months
        (date(2026, 2, 10), date(2026, 2, 20)),  # inside one month
        (date(2025, 6, 17), date(2026, 2, 3)),  # edges at both ends, across a year
        (date(2024, 2, 29), date(2024, 3, 1)),  # nothing then, and a leap day
        (date(2026, 1, 1), date(2026, 11, 25)),  # November as the month less its last 5 days
        (date(2025, 6, 3), date(2026, 2, 3)),  # June as the month less its first 2 days
        (date(2026, 3, 2), date(2026, 3, 30)),  # March less its first and its last day
    ],
)
def test_rollup_figures_equal_group_by_over_incidents(data, first: date, last: date) -> None:
    j, other = data
    for scope in (scope_of(j), scope_of(j, other)):
        assert dashboard_for(scope, first=first, last=last) == dashboard_from_incidents(
            scope, first=first, last=last
        )


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        # This year to date: the months to date less the days after "today", which here
        # hold incidents (the data run to December 2026), so the subtraction must see them.
        (date(2026, 11, 20), date(2026, 1, 1), date(2026, 11, 20)),
        (date(2026, 11, 20), date(2026, 11, 3), date(2026, 11, 20)),
        (date(2026, 2, 2), date(2025, 12, 30), date(2026, 2, 2)),
    ],
)
def test_month_less_the_days_after_today_equals_group_by(data, today, first, last) -> None:
    j, other = data
    _months, _plus, minus = plan_period(first, last, today)
    assert minus and minus[-1][0] == last + timedelta(days=1)
    for scope in (scope_of(j), scope_of(j, other)):
        ids = scope.station_ids
        ly = (year_earlier(first), year_earlier(last))
        trend = (date(first.year - 1, first.month, 1), date(last.year, last.month, 1))
        fast = RollupSource(today=today).fetch(ids, (first, last), ly, trend)
        slow = IncidentSource().fetch(ids, (first, last), ly, trend)
        assert fast == slow
        assert sum(c[0] for c in fast.cur["class"].values()) > 0


def test_plan_period_reads_the_cheaper_side_of_each_edge_month() -> None:
    today = date(2026, 12, 7)
    # This year to date: December less the 24 days after today (no incidents yet); last
    # year's December 1-7 read as they are (fewer than the 24 days after them).
    assert plan_period(date(2026, 1, 1), today, today) == (
        [date(2026, m, 1) for m in range(1, 13)],
        [],
        [(date(2026, 12, 8), date(2026, 12, 31))],
    )
    assert plan_period(date(2025, 1, 1), date(2025, 12, 7), today) == (
        [date(2025, m, 1) for m in range(1, 12)],
        [(date(2025, 12, 1), date(2025, 12, 7))],
        [],
    )
    # Inside one month: the days themselves when they are the fewer.
    assert plan_period(date(2026, 2, 10), date(2026, 2, 20), today) == (
        [],
        [(date(2026, 2, 10), date(2026, 2, 20))],
        [],
    )
    assert plan_period(date(2026, 3, 2), date(2026, 3, 30), today) == (
        [date(2026, 3, 1)],
        [],
        [(date(2026, 3, 1), date(2026, 3, 1)), (date(2026, 3, 31), date(2026, 3, 31))],
    )


def test_figures_equal_a_count_of_the_raw_rows(data) -> None:
    j, _other = data
    first, last = date(2025, 3, 14), date(2025, 12, 9)
    rows = [
        i
        for i in Incident.objects.filter(station=j.station).select_related("category__parent")
        if first <= i.reported_at.astimezone(SH).date() <= last
    ]
    by_code: Counter[str] = Counter()
    for i in rows:
        node = i.category
        while node is not None:
            by_code[node.code] += 1
            node = node.parent
    assert class_counts(station_ids=[j.station.pk], first=first, last=last) == dict(by_code)
    assert grid_counts(station_ids=[j.station.pk], first=first, last=last) == dict(
        Counter(i.area_id for i in rows)
    )
    d = dashboard_for(scope_of(j), first=first, last=last)
    assert d["totals"]["count"] == len(rows)
    assert d["totals"]["valid"] == sum(i.valid for i in rows)
    assert d["totals"]["daily_mean"] == len(rows) / ((last - first).days + 1)
    heat = Counter(
        (i.reported_at.astimezone(SH).hour, i.reported_at.astimezone(SH).weekday()) for i in rows
    )
    assert {(h, w): n for h, w, n in d["heatmap"] if n} == dict(heat)
    # The fourth grid never had an incident: it is a zero-incident grid
    assert [g["id"] for g in d["zero_grids"]] == [j.grids[3].pk]
    assert d["zero_communities"] == []


def test_yoy_and_mom_arithmetic(j: Jurisdiction) -> None:
    # Given 4 burglaries in March 2025, 5 in March 2026, none in February 2026
    with rollups_deferred():
        for d in range(4):
            make_incident(j, datetime(2025, 3, 2 + d, 3, tzinfo=UTC))
        for d in range(5):
            make_incident(j, datetime(2026, 3, 2 + d, 3, tzinfo=UTC))
    rollup_rebuild()
    d = dashboard_for(scope_of(j), first=date(2026, 3, 1), last=date(2026, 3, 31))
    burglary = d["headline"][0]
    assert (burglary["code"], burglary["count"], burglary["last_year"]) == ("100101", 5, 4)
    assert burglary["yoy"] == pytest.approx(0.25)
    fraud = d["headline"][1]
    assert (fraud["count"], fraud["last_year"], fraud["yoy"]) == (0, 0, None)
    criminal = next(s for s in d["trend"]["classes"] if s["code"] == "100000")
    assert criminal["counts"] == [5]
    assert criminal["yoy"] == [pytest.approx(0.25)]
    assert criminal["mom"] == [None]  # February had none: no ratio, shown as —
    assert d["totals"]["count_yoy"] == pytest.approx(0.25)
    assert d["one_down_one_up"]["incidents_down"] is False
    assert d["one_down_one_up"]["satisfaction_up"] is None


def test_arithmetic_helpers() -> None:
    assert change(3, 4) == pytest.approx(-0.25)
    assert change(3, 0) is None
    assert change(0, 2) == -1
    assert year_earlier(date(2024, 2, 29)) == date(2023, 2, 28)
    assert split_period(date(2026, 1, 15), date(2026, 3, 31)) == (
        [date(2026, 2, 1), date(2026, 3, 1)],
        [(date(2026, 1, 15), date(2026, 1, 31))],
    )
    with pytest.raises(ValidationFailed):
        dashboards.check_period(date(2026, 2, 1), date(2026, 1, 1))
    with pytest.raises(ValidationFailed):
        dashboards.check_period(date(2020, 1, 1), date(2026, 1, 1))


def test_tree_counts_add_descendants(j: Jurisdiction) -> None:
    cat = {c.code: c.pk for c in IncidentCategory.objects.all()}
    got = dashboards.tree_counts({cat["100101"]: 2, cat["100100"]: 1, cat["200100"]: 3})
    assert got == {"100101": 2, "100100": 3, "100000": 3, "200100": 3, "200000": 3}
