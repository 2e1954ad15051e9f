"""Where the dashboard's counts come from: the incident rollups, or GROUP BY over incidents.

`RollupSource` reads `IncidentMonthly` for the whole months of a range and `IncidentDaily` /
`IncidentHourly` for the days at its edges, every part (and the dispute follow-ups'
satisfaction) in one UNION ALL round trip.
`IncidentSource` counts the same by GROUP BY over the incident table (the baseline).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from django.db import connection
from django.db.models import Count, IntegerField, Sum
from django.db.models.functions import (
    Cast,
    ExtractHour,
    ExtractIsoWeekDay,
    TruncMonth,
)
from django.utils import timezone

from fengqiao.areas.models import Area
from fengqiao.disputes.models import DisputeDaily
from fengqiao.incidents.models import Incident, IncidentDaily, IncidentHourly, IncidentMonthly
from fengqiao.incidents.rollups import day_bounds, hour_dow_key, month_end, month_start

CUR_DIMS = ("category", "class", "grid", "community", "hour_dow")
LY_DIMS = ("category", "class")

Counts = dict[str, dict[int, list[int]]]  # dim → key → [count, valid]


def add_months(month: date, n: int) -> date:
    y, m = divmod(month.year * 12 + month.month - 1 + n, 12)
    return date(y, m + 1, 1)


def split_period(first: date, last: date) -> tuple[list[date], list[tuple[date, date]]]:
    """Return the whole months inside first..last and the runs of days left at its edges."""
    months: list[date] = []
    edges: list[tuple[date, date]] = []
    m = month_start(first)
    while m <= last:
        lo, hi = max(m, first), min(month_end(m), last)
        if lo == m and hi == month_end(m):
            months.append(m)
        else:
            edges.append((lo, hi))
        m = add_months(m, 1)
    return months, edges


def local_today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def _live_days(lo: date, hi: date, today: date) -> int:
    """Return how many days of lo..hi are not after today (later days hold no incidents yet)."""
    return max(0, (min(hi, today) - lo).days + 1)


def plan_period(
    first: date, last: date, today: date
) -> tuple[list[date], list[tuple[date, date]], list[tuple[date, date]]]:
    """Return the months to read whole, the runs of days to add and the runs to subtract.

    A month the range covers in part is read as its days inside the range, or as the whole
    month less its days outside when fewer of those are up to today. Either is exact: a month's
    rollup is the sum of its days. The months stay consecutive: the whole months of the range
    plus, maybe, the months at its two ends.
    """
    months, edges = split_period(first, last)
    plus: list[tuple[date, date]] = []
    minus: list[tuple[date, date]] = []
    for lo, hi in edges:
        m = month_start(lo)
        outside = [
            (a, b)
            for a, b in ((m, lo - timedelta(days=1)), (hi + timedelta(days=1), month_end(m)))
            if a <= b
        ]
        if sum(_live_days(a, b, today) for a, b in outside) < _live_days(lo, hi, today):
            months.append(m)
            minus += outside
        else:
            plus.append((lo, hi))
    return sorted(months), plus, minus


# --- where the counts come from ---


Trend = dict[tuple[date, str], int]  # (month, class code) → count


AreaRow = tuple[int, str, str, int | None, str | None]  # id, name, kind, parent, station name


@dataclass
class Fetched:
    """Everything a dashboard reads: this period's counts, last year's, the monthly trend, the
    dispute follow-ups ({"now"|"then": (satisfied, followed up)}) and the grids and communities
    to list."""

    cur: Counts
    ly: Counts
    trend: Trend
    satisfaction: dict[str, tuple[int, int]]
    areas: list[AreaRow] = field(default_factory=list)


def areas_query(ids: tuple[int, ...]) -> Any:
    """Return the stations' grids and communities (villages) in code order, as AreaRow."""
    return (
        Area.objects.filter(station_id__in=ids, kind__in=("grid", "community", "village"))
        .order_by("code", "id")
        .values_list("pk", "name", "kind", "parent_id", "station__name")
    )


class Source(Protocol):
    def fetch(
        self,
        ids: tuple[int, ...],
        cur: tuple[date, date],
        ly: tuple[date, date],
        trend: tuple[date, date],
    ) -> Fetched: ...


def _counts(dims: Iterable[str]) -> Counts:
    return {d: defaultdict(lambda: [0, 0]) for d in dims}


def _add(target: dict[int, list[int]], key: Any, n: Any, v: Any) -> None:
    row = target[int(key)]
    row[0] += int(n or 0)
    row[1] += int(v or 0)


# The edge days are read by pairs of columns: (key, key2) and the dimensions they feed.
_PAIRS = {"cat": ("category_id", "class_code"), "area": ("area_id", "community_id")}
_PAIR_DIMS = {"cat": ("category", "class"), "area": ("grid", "community")}

_DAILY_COLS = {
    "category": "category_id",
    "class": "class_code",
    "grid": "area_id",
    "community": "community_id",
}
Part = tuple[str, list[Any]]  # one SELECT of the union and its parameters


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _marks(values: Iterable[Any]) -> str:
    return ", ".join("%s" for _v in values)


def _stations(ids: tuple[int, ...]) -> tuple[str, list[Any]]:
    """Return the condition on station_id and its parameters: one array on PostgreSQL (a
    district's hundred ids, in every part, cost more to quote and plan one by one)."""
    if connection.vendor == "postgresql":
        return f"{_q('station_id')} = ANY(%s)", [list(ids)]
    return f"{_q('station_id')} IN ({_marks(ids)})", list(ids)


def _day(d: date) -> Any:
    return connection.ops.adapt_datefield_value(d)


def _batched() -> bool:
    """Return whether to send several statements at once (PostgreSQL with client-side binding),
    SET LOCAL jit = off first."""
    options = connection.settings_dict.get("OPTIONS", {})
    return connection.vendor == "postgresql" and not options.get("server_side_binding")


def _isodow(col: str) -> str:
    """Return SQL for the ISO weekday (1 Monday .. 7 Sunday) of a date column."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(ISODOW FROM {col}) AS integer)"
    return f"((CAST(strftime('%%w', {col}) AS integer) + 6) %% 7 + 1)"


def _yyyymm(col: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {col}) * 100 + EXTRACT(MONTH FROM {col}) AS integer)"
    return f"CAST(strftime('%%Y%%m', {col}) AS integer)"


class RollupSource:
    """Counts read from IncidentMonthly (whole months) and IncidentDaily/Hourly (edges).

    Every count the page needs comes back in one round trip: a UNION ALL of small
    aggregates, each row tagged (tag, dim, month as yyyymm or 0, key, key2, count, valid). The
    SQL is written out rather than composed by the ORM: composing ten aggregates cost more
    than running them.

    A month the range covers only in part is read from the daily rows of the days it covers,
    or, when fewer days with incidents lie outside them, as the whole month less the days
    outside: this year to date is then the months to date less the days after today, which
    have no rows. The edge days are read in two passes (category with its class, grid with
    its community) whatever the dimensions asked for. `today` (the local date when None) only
    steers that choice; the counts are the same either way.
    """

    def __init__(self, today: date | None = None) -> None:
        self.today = today

    def _parts(
        self, ids: tuple[int, ...], tag: str, first: date, last: date, dims: tuple[str, ...]
    ) -> list[Part]:
        parts: list[Part] = []
        where, station_params = _stations(ids)
        months, plus, minus = plan_period(first, last, self.today or local_today())
        if months:
            key, count = _q("key"), _q("count")
            sql = (
                f"SELECT %s, {_q('dim')}, 0, {key}, 0, SUM({count}), SUM({_q('valid')}) "  # noqa: S608 - quoted names, values bound
                f"FROM {_q(IncidentMonthly._meta.db_table)} WHERE {where} "
                f"AND {_q('dim')} IN ({_marks(dims)}) AND {_q('month')} >= %s "
                f"AND {_q('month')} <= %s GROUP BY {_q('dim')}, {key}"
            )
            parts.append((sql, [tag, *station_params, *dims, _day(months[0]), _day(months[-1])]))
        day = _q("day")
        for sign, runs in (("", plus), ("-", minus)):
            if not runs:
                continue
            on = " OR ".join(f"({day} >= %s AND {day} <= %s)" for _r in runs)
            params = [*station_params, *(_day(d) for run in runs for d in run)]
            for pair, (key, second) in _PAIRS.items():
                if not set(dims) & set(_PAIR_DIMS[pair]):
                    continue
                key2 = _q(second)
                if second == "class_code":
                    key2 = f"CAST({key2} AS integer)"
                sql = (
                    f"SELECT %s, %s, 0, {_q(key)}, {key2}, {sign}SUM({_q('count')}), "  # noqa: S608 - quoted names, values bound
                    f"{sign}SUM({_q('valid')}) FROM {_q(IncidentDaily._meta.db_table)} "
                    f"WHERE {where} AND ({on}) GROUP BY {_q(key)}, {key2}"
                )
                parts.append((sql, [tag, pair, *params]))
            if "hour_dow" in dims:
                key = f"({_isodow(day)} - 1) * 24 + {_q('hour')}"
                sql = (
                    f"SELECT %s, %s, 0, {key}, 0, {sign}SUM({_q('count')}), 0 "  # noqa: S608 - quoted names, values bound
                    f"FROM {_q(IncidentHourly._meta.db_table)} WHERE {where} AND ({on}) "
                    f"GROUP BY {key}"
                )
                parts.append((sql, [tag, "hour_dow", *params]))
        return parts

    def _trend_part(self, ids: tuple[int, ...], first: date, last: date) -> Part:
        where, station_params = _stations(ids)
        month = _q("month")
        sql = (
            f"SELECT %s, %s, {_yyyymm(month)}, {_q('key')}, 0, SUM({_q('count')}), 0 "  # noqa: S608 - quoted names, values bound
            f"FROM {_q(IncidentMonthly._meta.db_table)} "
            f"WHERE {where} AND {_q('dim')} = %s "
            f"AND {month} >= %s AND {month} <= %s GROUP BY {month}, {_q('key')}"
        )
        return sql, ["t", "class", *station_params, "class", _day(first), _day(last)]

    def _satisfaction_part(self, ids: tuple[int, ...], name: str, first: date, last: date) -> Part:
        where, station_params = _stations(ids)
        sql = (
            f"SELECT %s, %s, 0, 0, 0, SUM({_q('satisfied')}), "  # noqa: S608 - quoted names, values bound
            f"SUM({_q('followed_up')}) FROM {_q(DisputeDaily._meta.db_table)} "
            f"WHERE {where} AND {_q('day')} >= %s "
            f"AND {_q('day')} <= %s"
        )
        return sql, ["s", name, *station_params, _day(first), _day(last)]

    def _run(
        self, parts: list[Part], dims: dict[str, tuple[str, ...]], then: Part | None = None
    ) -> Fetched:
        out = {tag: _counts(d) for tag, d in dims.items()}
        got = Fetched(out.get("c", {}), out.get("l", {}), defaultdict(int), {})
        if not parts:
            return got
        sql = " UNION ALL ".join(p[0] for p in parts)
        params = [v for p in parts for v in p[1]]
        with connection.cursor() as cur:
            if _batched():
                # Compiling a district's plan (costed high for the daily rows' heap reads) took
                # longer than running it: JIT off for these statements only (SET LOCAL lasts
                # the implicit transaction of one multi-statement query). `then` rides along.
                extra = f"; {then[0]}" if then else ""
                cur.execute(
                    f"SET LOCAL jit = off; {sql}{extra}", params + (then[1] if then else [])
                )
                cur.nextset()
                rows = cur.fetchall()
                if then:
                    cur.nextset()
                    got.areas = list(cur.fetchall())
            else:
                cur.execute(sql, params)
                rows = cur.fetchall()
                if then:
                    cur.execute(*then)
                    got.areas = list(cur.fetchall())
        for tag, dim, mo, key, key2, n, v in rows:
            if tag == "t":
                y, m = divmod(int(mo), 100)
                got.trend[(date(y, m, 1), f"{int(key):06d}")] += int(n)
            elif tag == "s":
                got.satisfaction[dim] = (int(n or 0), int(v or 0))
            elif dim in _PAIRS:
                first_dim, second_dim = _PAIR_DIMS[dim]
                if first_dim in out[tag]:
                    _add(out[tag][first_dim], key, n, v)
                if second_dim in out[tag]:
                    _add(out[tag][second_dim], key2, n, v)
            else:
                _add(out[tag][dim], key, n, v)
        # A key whose days outside the range held all of its month's incidents nets to zero:
        # left out, as a count of the range's own rows has no such key.
        for counts in out.values():
            for by_key in counts.values():
                for k in [k for k, c in by_key.items() if not c[0] and not c[1]]:
                    del by_key[k]
        got.trend = dict(got.trend)
        return got

    def marginals(
        self, ids: tuple[int, ...], first: date, last: date, dims: Iterable[str]
    ) -> Counts:
        dims = tuple(dims)
        return self._run(self._parts(ids, "c", first, last, dims), {"c": dims}).cur

    def class_months(self, ids: tuple[int, ...], first: date, last: date) -> Trend:
        return self._run([self._trend_part(ids, first, last)], {}).trend

    def fetch(
        self,
        ids: tuple[int, ...],
        cur: tuple[date, date],
        ly: tuple[date, date],
        trend: tuple[date, date],
    ) -> Fetched:
        parts = [
            *self._parts(ids, "c", *cur, CUR_DIMS),
            *self._parts(ids, "l", *ly, LY_DIMS),
            self._trend_part(ids, *trend),
            self._satisfaction_part(ids, "now", *cur),
            self._satisfaction_part(ids, "then", *ly),
        ]
        areas_sql, areas_params = areas_query(ids).query.sql_with_params()
        return self._run(parts, {"c": CUR_DIMS, "l": LY_DIMS}, (areas_sql, list(areas_params)))


class IncidentSource:
    """The same counts by GROUP BY over the incident table (the baseline)."""

    def marginals(
        self, ids: tuple[int, ...], first: date, last: date, dims: Iterable[str]
    ) -> Counts:
        dims = tuple(dims)
        out = _counts(dims)
        start, end = day_bounds(first, last)
        tz = timezone.get_default_timezone()
        qs = Incident.objects.filter(
            station_id__in=ids, reported_at__gte=start, reported_at__lt=end
        ).order_by()
        valid = Sum(Cast("valid", IntegerField()))
        for dim in dims:
            if dim == "hour_dow":
                rows = (
                    qs.annotate(
                        w=ExtractIsoWeekDay("reported_at", tzinfo=tz),
                        h=ExtractHour("reported_at", tzinfo=tz),
                    )
                    .values_list("w", "h")
                    .annotate(n=Count("id"))
                )
                for w, h, n in rows:
                    _add(out[dim], hour_dow_key(w, h), n, 0)
                continue
            for key, n, v in qs.values_list(_DAILY_COLS[dim]).annotate(n=Count("id"), v=valid):
                _add(out[dim], key, n, v)
        return out

    def class_months(
        self, ids: tuple[int, ...], first: date, last: date
    ) -> dict[tuple[date, str], int]:
        tz = timezone.get_default_timezone()
        start, end = day_bounds(first, month_end(last))
        rows = (
            Incident.objects.filter(station_id__in=ids, reported_at__gte=start, reported_at__lt=end)
            .order_by()
            .annotate(m=TruncMonth("reported_at", tzinfo=tz))
            .values_list("m", "class_code")
            .annotate(n=Count("id"))
        )
        out: dict[tuple[date, str], int] = defaultdict(int)
        for m, code, n in rows:
            month = m.astimezone(tz).date() if hasattr(m, "astimezone") else m
            out[(month, code)] += int(n)
        return out

    def fetch(
        self,
        ids: tuple[int, ...],
        cur: tuple[date, date],
        ly: tuple[date, date],
        trend: tuple[date, date],
    ) -> Fetched:
        return Fetched(
            self.marginals(ids, *cur, CUR_DIMS),
            self.marginals(ids, *ly, LY_DIMS),
            self.class_months(ids, *trend),
            {name: satisfaction(ids, *period) for name, period in (("now", cur), ("then", ly))},
            list(areas_query(ids)),
        )


def satisfaction(ids: tuple[int, ...], first: date, last: date) -> tuple[int, int]:
    """Return (satisfied, followed up) of the dispute follow-ups first..last (the ORM's way)."""
    got = DisputeDaily.objects.filter(station_id__in=ids, day__gte=first, day__lte=last).aggregate(
        s=Sum("satisfied"), f=Sum("followed_up")
    )
    return int(got["s"] or 0), int(got["f"] or 0)


ROLLUPS = RollupSource()
INCIDENTS = IncidentSource()
