"""The monthly report (人民调解工作月报表): figures from the rollups, and the baseline from cases.

`monthly_report` reads `DisputeMonthly` only (a hundred-odd rows per station and month) plus
one indexed count of the cases open past their deadline today. `monthly_report_from_cases`
computes the very same figures from the case tables (disputes, follow-ups, screening visits)
with the same rules (`rollups.case_events` …): it is the benchmark's baseline and the tests'
yardstick. Both return the same JSON-able dict (amounts as Decimal).

Scope: the permission `dispute.report` (chief on a station, analyst on a district); a report
covers whole stations of the user's scope: one station, the user's stations in one district
(summed), or all of them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.areas.access import stations_held
from fengqiao.areas.models import Area
from fengqiao.disputes import rollups
from fengqiao.disputes.choices import Channel, Source
from fengqiao.disputes.models import FINISHED, Dispute, DisputeMonthly, DisputeType, StatType
from fengqiao.disputes.models.rollups import MEASURES

PERM = "dispute.report"
TREND_MONTHS = 13  # this month and the twelve before it: last year's month is the first
# The headline figures that get 同比 and 环比.
HEADLINE = (
    "received",
    "screened",
    "concluded",
    "succeeded",
    "success_rate",
    "amount",
    "people",
    "on_time_rate",
    "overdue",
    "mean_days",
    "prevented",
    "prevented_people",
    "followup_rate",
    "satisfaction_rate",
)
RATES = frozenset({"success_rate", "on_time_rate", "followup_rate", "satisfaction_rate"})
DIM_ORDER = ("source", "stat_type", "type_class", "channel", "community", "area")

Key = tuple[date, str, str]  # (month, dim, value)


@dataclass(frozen=True)
class ReportScope:
    """The stations a report sums, and how to name them."""

    station_ids: tuple[int, ...]
    kind: str  # "station", "district" or "all"
    area_id: int | None
    label: str


# --- scope ---


def report_stations(user: Any) -> list[Area]:
    """Return the stations the user may report on, with their districts."""
    return stations_held(user, PERM)


def report_choices(user: Any) -> list[dict[str, Any]]:
    """Return the districts and stations the user may pick, districts first."""
    stations = report_stations(user)
    districts: dict[int, Area] = {}
    for s in stations:
        if s.parent is not None and s.parent.kind == "district":
            districts.setdefault(s.parent.pk, s.parent)
    choices = [
        {"id": d.pk, "kind": "district", "label": d.name}
        for d in districts.values()
        if len([s for s in stations if s.parent_id == d.pk]) > 1
    ]
    choices += [{"id": s.pk, "kind": "station", "label": s.name} for s in stations]
    return choices


def report_scope(user: Any, area_id: int | None = None) -> ReportScope:
    """Return the stations to sum for `area_id` (a station or district), or the default.

    Raises PermissionDenied without `dispute.report`, or for an area outside the user's scope.
    """
    stations = report_stations(user)
    if not stations:
        raise PermissionDenied(_("您无权查看矛盾纠纷月报。"))
    if area_id is None:
        if len(stations) == 1:
            area_id = stations[0].pk
        else:
            parents = {s.parent_id for s in stations}
            if len(parents) == 1 and stations[0].parent_id is not None:
                area_id = stations[0].parent_id
            else:
                return ReportScope(tuple(s.pk for s in stations), "all", None, _("全部辖区"))
    for s in stations:
        if s.pk == area_id:
            return ReportScope((s.pk,), "station", s.pk, s.name)
    within = [s for s in stations if s.parent_id == area_id]
    if within:
        parent = within[0].parent
        label = parent.name if parent is not None else ""
        return ReportScope(tuple(s.pk for s in within), "district", area_id, label)
    raise PermissionDenied(_("您无权查看该辖区的月报。"))


# --- figures ---


def _rate(num: int, den: int) -> float | None:
    # Unrounded: the page and the workbook round once, for display (14/17 shows as 82.4%).
    return num / den if den else None


def figures(m: list[Any] | None) -> dict[str, Any]:
    """Return the report's figures from the summed measures (rates None when undefined)."""
    v = dict(zip(MEASURES, m or rollups.zero(), strict=True))
    out: dict[str, Any] = {name: v[name] for name in MEASURES}
    out["amount"] = Decimal(v["amount"]).quantize(Decimal("0.01"))
    out["success_rate"] = _rate(v["succeeded"], v["concluded"])
    out["on_time_rate"] = _rate(v["on_time"], v["concluded"])
    out["mean_days"] = round(v["days_total"] / v["concluded"], 1) if v["concluded"] else None
    out["followup_rate"] = _rate(v["followups_due_done"], v["followups_due"])
    out["satisfaction_rate"] = _rate(v["satisfied"], v["followed_up"])
    return out


def _change(now: Any, then: Any, *, rate: bool) -> dict[str, Any]:
    """Return the change from `then` to `now`: delta, relative change, and direction."""
    if now is None or then is None:
        return {"delta": None, "pct": None, "dir": ""}
    delta = now - then
    pct = None if rate or not then else float(delta) / float(then)
    return {"delta": delta, "pct": pct, "dir": "up" if delta > 0 else "down" if delta < 0 else ""}


def _months(year: int, month: int) -> tuple[date, list[date]]:
    """Return the month's first day and the TREND_MONTHS firsts ending with it, oldest first."""
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise ValueError("month out of range")
    firsts = []
    y, mo = year, month
    for _i in range(TREND_MONTHS):
        firsts.append(date(y, mo, 1))
        y, mo = (y, mo - 1) if mo > 1 else (y - 1, 12)
    return firsts[0], firsts[::-1]


_CODES: dict[str, tuple[float, list[tuple[str, str]]]] = {}
CODES_TTL = 300.0  # seconds: the code lists change by migration or an administrator's edit


def _code_rows(dim: str, keys: set[str]) -> list[tuple[str, str]]:
    """Return the (value, name) rows of a code list, kept a few minutes per process."""
    now = time.monotonic()
    hit = _CODES.get(dim)
    # A value the cached list does not know means the list changed: read it again.
    if hit is not None and now - hit[0] < CODES_TTL and keys <= {v for v, _n in hit[1]} | {""}:
        return hit[1]
    if dim == "stat_type":
        rows = [(str(pk), name) for pk, name in StatType.objects.values_list("pk", "name")]
    else:
        rows = list(DisputeType.objects.filter(parent__isnull=True).values_list("code", "name"))
    _CODES[dim] = (now, rows)
    return rows


def _area_names(present: dict[str, set[str]], station_ids: tuple[int, ...]) -> dict[int, str]:
    """Return the names of the grids and communities present (with the station's if several)."""
    ids = sorted({int(k) for dim in ("area", "community") for k in present[dim] if k})
    if not ids:
        return {}
    rows = Area.objects.filter(pk__in=ids).values_list("pk", "name", "station__name")
    multi = len(station_ids) > 1
    return {pk: f"{station} · {name}" if multi and station else name for pk, name, station in rows}


def _labels(dim: str, keys: set[str], names: dict[int, str]) -> list[tuple[str, str]]:
    """Return (value, label) rows of one breakdown, in the report's order."""
    rows: list[tuple[str, str]]
    if dim == "source":
        rows = [(str(v), str(label)) for v, label in Source.choices]
    elif dim == "channel":
        rows = [(str(v), str(label)) for v, label in Channel.choices]
        rows.append(("", _("未分流")))
    elif dim in ("stat_type", "type_class"):
        # The judicial bureau's list B: every row, even when zero; list A's classes likewise.
        rows = [*_code_rows(dim, keys), ("", _("未分类（排查走访）"))]
    else:
        rows = sorted(((k, names.get(int(k), k)) for k in keys if k), key=lambda r: (r[1], r[0]))
    known = {v for v, _label in rows}
    rows += [(k, k) for k in sorted(keys - known)]
    return rows


def _assemble(
    data: dict[Key, list[Any]],
    scope: ReportScope,
    year: int,
    month: int,
    open_overdue: int,
) -> dict[str, Any]:
    """Return the report from the summed monthly rows: totals, changes, breakdowns, trend."""
    first, trend_months = _months(year, month)
    previous, last_year = trend_months[-2], trend_months[0]
    totals = figures(data.get((first, "", "")))
    prev = figures(data.get((previous, "", "")))
    ly = figures(data.get((last_year, "", "")))
    changes = {
        name: {
            "mom": _change(totals[name], prev[name], rate=name in RATES),
            "yoy": _change(totals[name], ly[name], rate=name in RATES),
        }
        for name in HEADLINE
    }
    present: dict[str, set[str]] = defaultdict(set)
    for mo, dim, value in data:
        if mo == first and dim:
            present[dim].add(value)
    names = _area_names(present, scope.station_ids)
    breakdowns: dict[str, list[dict[str, Any]]] = {}
    for dim in DIM_ORDER:
        rows = []
        for value, label in _labels(dim, present[dim], names):
            m = data.get((first, dim, value))
            if m is None and value == "" and dim in ("channel", "stat_type", "type_class"):
                continue  # the "none" row only when it holds something
            rows.append({"key": value, "label": label, **figures(m)})
        breakdowns[dim] = rows
    trend = []
    for mo in trend_months:
        f = figures(data.get((mo, "", "")))
        trend.append(
            {
                "month": f"{mo:%Y-%m}",
                "received": f["received"],
                "concluded": f["concluded"],
                "succeeded": f["succeeded"],
                "screened": f["screened"],
            }
        )
    return {
        "year": year,
        "month": month,
        "period": {"start": first.isoformat(), "end": rollups.month_end(first).isoformat()},
        "unit": scope.label,
        "scope": {"kind": scope.kind, "id": scope.area_id, "station_ids": list(scope.station_ids)},
        "totals": totals,
        "previous": prev,
        "last_year": ly,
        "changes": changes,
        "open_overdue": open_overdue,
        "breakdowns": breakdowns,
        "trend": trend,
    }


def open_overdue_count(station_ids: tuple[int, ...], today: date | None = None) -> int:
    """Return the cases open today past their deadline: live, not of the month reported.

    A count on the partial index of open cases `dispute_open_deadline` (station, deadline):
    open cases are few beside the finished ones. PostgreSQL proves the index from the ORM's
    condition; SQLite uses a partial index only when the query spells its condition with the
    same literals, so there the condition is written out (the statuses are our own codes).
    """
    today = today or timezone.localdate(timezone=timezone.get_default_timezone())
    if not station_ids:
        return 0
    if connection.vendor != "sqlite":
        qs = Dispute.objects.filter(station_id__in=station_ids, deadline__lt=today)
        return qs.exclude(status__in=sorted(FINISHED)).count()
    finished = ", ".join(f"'{s}'" for s in sorted(FINISHED))
    marks = ", ".join(["%s"] * len(station_ids))
    sql = (
        f'SELECT COUNT(*) FROM "{Dispute._meta.db_table}" WHERE "station_id" IN ({marks}) '  # noqa: S608
        f'AND "deadline" < %s AND NOT ("status" IN ({finished}))'
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*station_ids, today.isoformat()])
        row = cur.fetchone()
    return int(row[0]) if row else 0


def monthly_report(
    *, user: Any, year: int, month: int, area_id: int | None = None
) -> dict[str, Any]:
    """Return the monthly report for the user's station or district, read from the rollups."""
    scope = report_scope(user, area_id)
    return report_for(scope, year=year, month=month)


def report_for(scope: ReportScope, *, year: int, month: int) -> dict[str, Any]:
    """Return the monthly report of a scope already checked, from the rollups."""
    first, trend_months = _months(year, month)
    sums = {name: Sum(name) for name in MEASURES}
    # Totals of every month of the trend, and every dimension of this month: one query.
    rows: Any = (
        DisputeMonthly.objects.filter(station_id__in=scope.station_ids)
        .filter(month__gte=trend_months[0], month__lte=first)
        .filter(Q(dim="") | Q(month=first))
        .order_by()
        .values("month", "dim", "value")
        .annotate(**sums)
    )
    data: dict[Key, list[Any]] = {}
    for row in rows:
        data[(row["month"], row["dim"], row["value"])] = [row[m] or 0 for m in MEASURES]
    return _assemble(data, scope, year, month, open_overdue_count(scope.station_ids))


def monthly_report_from_cases(
    *, user: Any, year: int, month: int, area_id: int | None = None
) -> dict[str, Any]:
    """Return the same report computed straight from the case tables (the baseline)."""
    scope = report_scope(user, area_id)
    return report_from_cases_for(scope, year=year, month=month)


def report_from_cases_for(scope: ReportScope, *, year: int, month: int) -> dict[str, Any]:
    """Return the report of a scope already checked, from disputes, follow-ups and visits."""
    first, trend_months = _months(year, month)
    daily = rollups.daily_events(list(scope.station_ids), trend_months[0], rollups.month_end(first))
    per_station = rollups.monthly_from_daily((s, d, dims, m) for (s, d, dims), m in daily.items())
    data: dict[Key, list[Any]] = defaultdict(rollups.zero)
    for (_station, mo, dim, value), m in per_station.items():
        if dim and mo != first:
            continue
        target = data[(mo, dim, value)]
        for i, v in enumerate(m):
            target[i] += v
    kept = {k: v for k, v in data.items() if any(v)}
    return _assemble(kept, scope, year, month, open_overdue_count(scope.station_ids))


def default_month(today: date | None = None) -> tuple[int, int]:
    """Return the last full month: the report the bureau asks for at the start of a month."""
    today = today or timezone.localdate(timezone=timezone.get_default_timezone())
    first = today.replace(day=1)
    return (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
