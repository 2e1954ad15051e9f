"""Incident dashboards (警情统计): every figure read from the incident rollups.

`dashboard` reads `IncidentMonthly` for the whole months of the range and `IncidentDaily` /
`IncidentHourly` for the days at its edges (see `dashboard_sources`), so a year of a
station's figures reads a few hundred rows in one round trip. `dashboard_from_incidents`
computes the very same figures by GROUP BY over the incident table (the benchmark's baseline
and the tests' yardstick). Both go through
`_assemble`, so they differ only in where the counts come from.

The selectors `class_counts`, `grid_counts`, `community_counts`, `hour_dow_counts` and
`monthly_class_counts` are for other parts (the morning briefing): they take station ids
already checked and read only the rollups.

Scope: `dashboard.view` (chief and officers on a station, the analyst on a district); a
dashboard covers whole stations: one station or the sum of a district's stations.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.analytics.dashboard_sources import (
    INCIDENTS,
    ROLLUPS,
    AreaRow,
    Counts,
    Source,
    add_months,
)
from fengqiao.areas.access import stations_held
from fengqiao.areas.models import Area
from fengqiao.core.errors import ValidationFailed
from fengqiao.disputes import report as dispute_report
from fengqiao.disputes import rollups as dispute_rollups
from fengqiao.incidents.models import IncidentCategory
from fengqiao.incidents.rollups import hour_dow_key, month_start

PERM = "dashboard.view"
# The figures a station is judged by: burglary and telecom fraud, year on year.
HEADLINE_CODES = ("100101", "100401")
MAX_DAYS = 3 * 366 + 1


@dataclass(frozen=True)
class DashboardScope:
    """The stations a dashboard sums, and how to name them."""

    station_ids: tuple[int, ...]
    kind: str  # "station" or "district"
    area_id: int
    label: str


# --- scope ---


def dashboard_stations(user: Any) -> list[Area]:
    """Return the whole stations where the user may see the dashboard, with their districts."""
    return stations_held(user, PERM)


def whole_districts(stations: list[Area]) -> set[int]:
    """Return the districts of which the user sees every station (so may see the sum)."""
    parents = {s.parent_id for s in stations if s.parent and s.parent.kind == "district"}
    if not parents:
        return set()
    seen = Counter(s.parent_id for s in stations)
    totals = (
        Area.objects.filter(parent_id__in=parents, kind="station")
        .values_list("parent_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {pk for pk, n in totals if seen[pk] == n}


def dashboard_choices(stations: list[Area]) -> list[dict[str, Any]]:
    """Return the whole districts (of two or more stations) and stations to pick, districts
    first."""
    whole = whole_districts(stations)
    districts: dict[int, Area] = {}
    for s in stations:
        if s.parent is not None and s.parent_id in whole:
            districts.setdefault(s.parent.pk, s.parent)
    choices = [
        {"id": d.pk, "kind": "district", "label": d.name}
        for d in districts.values()
        if sum(1 for s in stations if s.parent_id == d.pk) > 1
    ]
    choices += [{"id": s.pk, "kind": "station", "label": s.name} for s in stations]
    return choices


def dashboard_scope(
    user: Any, area_id: int | None = None, stations: list[Area] | None = None
) -> DashboardScope:
    """Return the stations to sum for `area_id` (a station or a district), or the default.

    The default is the user's only station, else the district of their stations when they
    see all of it, else their first station. A district sums all its stations, so only a
    user who sees every one of them may see it. Raises PermissionDenied without
    `dashboard.view` or for an area outside the user's scope (the same answer for a missing
    area).
    """
    stations = dashboard_stations(user) if stations is None else stations
    if not stations:
        raise PermissionDenied(_("您无权查看警情统计。"))
    whole: set[int] | None = None
    if area_id is None:
        area_id = stations[0].pk
        if len(stations) > 1:
            whole = whole_districts(stations)
            if stations[0].parent_id in whole:
                area_id = stations[0].parent_id
    for s in stations:
        if s.pk == area_id:
            return DashboardScope((s.pk,), "station", s.pk, s.name)
    within = [s for s in stations if s.parent_id == area_id]
    if within and area_id in (whole_districts(stations) if whole is None else whole):
        parent = within[0].parent
        return DashboardScope(
            tuple(s.pk for s in within), "district", area_id, parent.name if parent else ""
        )
    raise PermissionDenied(_("您无权查看该辖区的警情统计。"))


def access_dashboard(user: Any, area_id: int | None) -> tuple[DashboardScope, list[Area]]:
    """Return the scope to show and the user's stations, or 404 alike missing and forbidden."""
    stations = dashboard_stations(user)
    try:
        return dashboard_scope(user, area_id, stations), stations
    except PermissionDenied as e:
        raise Http404(str(e)) from e


# --- periods ---


def today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def default_period(on: date | None = None) -> tuple[date, date]:
    """Return this year to date."""
    on = on or today()
    return date(on.year, 1, 1), on


def year_earlier(day: date) -> date:
    """Return the same day a year before (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def check_period(first: date, last: date) -> None:
    """Raise ValidationFailed for a range that ends before it starts or spans over 3 years."""
    if first > last:
        raise ValidationFailed(
            _("开始日期晚于结束日期。"), fields={"from": [_("开始日期晚于结束日期。")]}
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            _("统计区间不能超过三年。"), fields={"to": [_("统计区间不能超过三年。")]}
        )


# --- selectors for other parts (rollups only; station ids already checked) ---


def class_counts(*, station_ids: Iterable[int], first: date, last: date) -> dict[str, int]:
    """Return the incidents reported first..last by code of the tree: each class, category
    and subcategory counts itself and everything beneath it."""
    m = ROLLUPS.marginals(tuple(station_ids), first, last, ("category",))
    return tree_counts({k: v[0] for k, v in m["category"].items()})


def grid_counts(*, station_ids: Iterable[int], first: date, last: date) -> dict[int, int]:
    """Return the incidents reported first..last by grid (area id); grids without any left out."""
    m = ROLLUPS.marginals(tuple(station_ids), first, last, ("grid",))
    return {k: v[0] for k, v in m["grid"].items() if v[0]}


def community_counts(*, station_ids: Iterable[int], first: date, last: date) -> dict[int, int]:
    """Return the incidents reported first..last by community or village (area id)."""
    m = ROLLUPS.marginals(tuple(station_ids), first, last, ("community",))
    return {k: v[0] for k, v in m["community"].items() if v[0]}


def hour_dow_counts(
    *, station_ids: Iterable[int], first: date, last: date
) -> dict[tuple[int, int], int]:
    """Return the incidents reported first..last by (ISO weekday 1-7, hour 0-23)."""
    m = ROLLUPS.marginals(tuple(station_ids), first, last, ("hour_dow",))
    return {(k // 24 + 1, k % 24): v[0] for k, v in m["hour_dow"].items() if v[0]}


def totals(*, station_ids: Iterable[int], first: date, last: date) -> dict[str, int]:
    """Return {"count": incidents, "valid": valid ones} reported first..last."""
    m = ROLLUPS.marginals(tuple(station_ids), first, last, ("class",))
    return {
        "count": sum(v[0] for v in m["class"].values()),
        "valid": sum(v[1] for v in m["class"].values()),
    }


def monthly_class_counts(
    *, station_ids: Iterable[int], first_month: date, last_month: date
) -> dict[date, dict[str, int]]:
    """Return whole months' incidents by class code: {month start: {class code: count}}."""
    data = ROLLUPS.class_months(tuple(station_ids), first_month, last_month)
    out: dict[date, dict[str, int]] = defaultdict(dict)
    for (m, code), n in data.items():
        out[m][code] = n
    return dict(out)


# --- the code tree ---

_TREE: dict[str, Any] = {}
TREE_TTL = 300.0  # seconds: the tree changes by migration or an administrator's edit


def category_tree() -> dict[int, tuple[str, str, int | None]]:
    """Return {category id: (code, name, parent id)}, kept a few minutes per process."""
    now = time.monotonic()
    hit = _TREE.get("rows")
    if hit is not None and now - hit[0] < TREE_TTL:
        return hit[1]
    rows: dict[int, tuple[str, str, int | None]] = {
        pk: (code, name, parent)
        for pk, code, name, parent in IncidentCategory.objects.order_by("sort", "code").values_list(
            "pk", "code", "name", "parent_id"
        )
    }
    _TREE["rows"] = (now, rows)
    return rows


def tree_counts(by_category: dict[int, int]) -> dict[str, int]:
    """Return counts per code with each node's descendants added in."""
    tree = category_tree()
    if any(pk not in tree for pk in by_category):
        _TREE.clear()
        tree = category_tree()
    out: dict[str, int] = defaultdict(int)
    for pk, n in by_category.items():
        node: int | None = pk
        while node is not None and node in tree:
            code, _name, parent = tree[node]
            out[code] += n
            node = parent
    return dict(out)


# --- arithmetic ---


def change(now: int | float | None, then: int | float | None) -> float | None:
    """Return the relative change from `then` to `now` (0.25 is +25%); None when then is 0."""
    if now is None or then is None or not then:
        return None
    return (now - then) / then


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


# --- the dashboard ---


def _satisfaction(got: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """Return each period's follow-up satisfaction rate (the disputes' own rule) and counts."""
    out = {}
    for name, (satisfied, followed_up) in got.items():
        m = dispute_rollups.zero()
        m[dispute_rollups.IDX["satisfied"]] = satisfied
        m[dispute_rollups.IDX["followed_up"]] = followed_up
        out[name] = {
            "rate": dispute_report.figures(m)["satisfaction_rate"],
            "followed_up": followed_up,
            "satisfied": satisfied,
        }
    return out


def dashboard(
    *, user: Any, first: date | None = None, last: date | None = None, area_id: int | None = None
) -> dict[str, Any]:
    """Return every figure of the dashboard for the user's station or district, from rollups."""
    scope = dashboard_scope(user, area_id)
    d_first, d_last = default_period()
    return dashboard_for(scope, first=first or d_first, last=last or d_last)


def dashboard_for(scope: DashboardScope, *, first: date, last: date) -> dict[str, Any]:
    """Return every figure of the dashboard of a scope already checked, from the rollups."""
    return _gather(ROLLUPS, scope, first, last)


def dashboard_from_incidents(scope: DashboardScope, *, first: date, last: date) -> dict[str, Any]:
    """Return the same figures by GROUP BY over the incident table (the baseline)."""
    return _gather(INCIDENTS, scope, first, last)


def _gather(source: Source, scope: DashboardScope, first: date, last: date) -> dict[str, Any]:
    check_period(first, last)
    ids = scope.station_ids
    ly_first, ly_last = year_earlier(first), year_earlier(last)
    m_first, m_last = month_start(first), month_start(last)
    trend = (add_months(m_first, -12), m_last)
    got = source.fetch(ids, (first, last), (ly_first, ly_last), trend)
    sat = _satisfaction(got.satisfaction)
    return _assemble(scope, first, last, got.cur, got.ly, got.trend, sat, got.areas)


def _tree_rows(now: dict[str, int], then: dict[str, int]) -> list[dict[str, Any]]:
    """Return the classes, each with its categories and their subcategories."""
    tree = category_tree()
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, (_code, _name, parent) in tree.items():
        children[parent].append(pk)

    def node(pk: int) -> dict[str, Any]:
        code, name, _parent = tree[pk]
        kids = [node(c) for c in children[pk] if now.get(tree[c][0]) or then.get(tree[c][0])]
        n, t = now.get(code, 0), then.get(code, 0)
        return {
            "code": code,
            "name": name,
            "count": n,
            "last_year": t,
            "yoy": change(n, t),
            "children": kids,
        }

    return [node(pk) for pk in children[None]]


def _assemble(
    scope: DashboardScope,
    first: date,
    last: date,
    cur: Counts,
    ly: Counts,
    months: dict[tuple[date, str], int],
    sat: dict[str, Any],
    areas: list[AreaRow],
) -> dict[str, Any]:
    now_tree = tree_counts({k: v[0] for k, v in cur["category"].items()})
    then_tree = tree_counts({k: v[0] for k, v in ly["category"].items()})
    count = sum(v[0] for v in cur["class"].values())
    valid = sum(v[1] for v in cur["class"].values())
    count_ly = sum(v[0] for v in ly["class"].values())
    valid_ly = sum(v[1] for v in ly["class"].values())
    days = (last - first).days + 1
    tree = category_tree()
    names = {code: name for code, name, _p in tree.values()}
    multi = len(scope.station_ids) > 1

    def label(name: str, station_name: str | None) -> str:
        return f"{station_name or ''} · {name}" if multi else name

    grids, communities = [], []
    for pk, name, kind, parent, station_name in areas:
        row = {"id": pk, "name": label(name, station_name)}
        if kind == "grid":
            c = cur["grid"].get(pk, [0, 0])
            grids.append({**row, "community_id": parent, "count": c[0], "valid": c[1]})
        else:
            c = cur["community"].get(pk, [0, 0])
            communities.append({**row, "count": c[0], "valid": c[1]})
    known = {a[0] for a in areas}
    for dim, rows in (("grid", grids), ("community", communities)):
        for pk, c in cur[dim].items():
            if pk not in known and c[0]:  # a grid moved out of the station since
                rows.append({"id": pk, "name": str(pk), "count": c[0], "valid": c[1]})
    heat = [
        [h, w - 1, cur["hour_dow"].get(hour_dow_key(w, h), [0, 0])[0]]
        for w in range(1, 8)
        for h in range(24)
    ]

    # Trends: the months the range touches, whole, each against the month before and last year.
    m_first, m_last = month_start(first), month_start(last)
    trend_months = []
    m = m_first
    while m <= m_last:
        trend_months.append(m)
        m = add_months(m, 1)
    top = {code for code, _n, parent in tree.values() if parent is None}
    classes = sorted({code for (_m, code) in months} | (set(now_tree) & top))
    series = []
    for code in classes:
        counts = [months.get((mo, code), 0) for mo in trend_months]
        series.append(
            {
                "code": code,
                "name": names.get(code, code),
                "counts": counts,
                "mom": [
                    change(months.get((mo, code), 0), months.get((add_months(mo, -1), code), 0))
                    for mo in trend_months
                ],
                "yoy": [
                    change(months.get((mo, code), 0), months.get((add_months(mo, -12), code), 0))
                    for mo in trend_months
                ],
            }
        )

    by_month: dict[date, int] = defaultdict(int)
    for (m2, _c), n in months.items():
        by_month[m2] += n

    def month_total(mo: date) -> int:
        return by_month.get(mo, 0)

    total_series = {
        "counts": [month_total(mo) for mo in trend_months],
        "mom": [change(month_total(mo), month_total(add_months(mo, -1))) for mo in trend_months],
        "yoy": [change(month_total(mo), month_total(add_months(mo, -12))) for mo in trend_months],
    }
    headline = [
        {
            "code": code,
            "name": names.get(code, code),
            "count": now_tree.get(code, 0),
            "last_year": then_tree.get(code, 0),
            "yoy": change(now_tree.get(code, 0), then_tree.get(code, 0)),
        }
        for code in HEADLINE_CODES
    ]
    s_now, s_then = sat["now"]["rate"], sat["then"]["rate"]
    down = count < count_ly
    up = None if s_now is None or s_then is None else s_now > s_then
    return {
        "unit": scope.label,
        "scope": {"kind": scope.kind, "id": scope.area_id, "station_ids": list(scope.station_ids)},
        "period": {"from": first.isoformat(), "to": last.isoformat(), "days": days},
        "compare": {"from": year_earlier(first).isoformat(), "to": year_earlier(last).isoformat()},
        "totals": {
            "count": count,
            "valid": valid,
            "valid_rate": _rate(valid, count),
            "daily_mean": count / days,
            "count_last_year": count_ly,
            "valid_last_year": valid_ly,
            "count_yoy": change(count, count_ly),
            "valid_yoy": change(valid, valid_ly),
        },
        "headline": headline,
        "classes": _tree_rows(now_tree, then_tree),
        "grids": sorted(grids, key=lambda r: (-r["count"], r["name"])),
        "communities": sorted(communities, key=lambda r: (-r["count"], r["name"])),
        "zero_grids": [{"id": r["id"], "name": r["name"]} for r in grids if not r["count"]],
        "zero_communities": [
            {"id": r["id"], "name": r["name"]} for r in communities if not r["count"]
        ],
        "heatmap": heat,
        "trend": {
            "months": [f"{mo:%Y-%m}" for mo in trend_months],
            "total": total_series,
            "classes": series,
        },
        "one_down_one_up": {
            "incidents_now": count,
            "incidents_then": count_ly,
            "incidents_down": down,
            "satisfaction_now": s_now,
            "satisfaction_then": s_then,
            "followed_up_now": sat["now"]["followed_up"],
            "followed_up_then": sat["then"]["followed_up"],
            "satisfaction_up": up,
            "achieved": bool(down and up),
        },
    }
