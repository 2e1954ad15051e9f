"""Where the dashboard's counts come from: the incident rollups, or GROUP BY over incidents.

`RollupSource` reads `IncidentMonthly` for the whole months of a range and `IncidentDaily` /
`IncidentHourly` for the days at its edges, every part in one UNION ALL round trip.
`IncidentSource` counts the same by GROUP BY over the incident table (the baseline).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
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


# --- where the counts come from ---


Trend = dict[tuple[date, str], int]  # (month, class code) → count


class Source(Protocol):
    def fetch(
        self,
        ids: tuple[int, ...],
        cur: tuple[date, date],
        ly: tuple[date, date],
        trend: tuple[date, date],
    ) -> tuple[Counts, Counts, Trend]: ...


def _counts(dims: Iterable[str]) -> Counts:
    return {d: defaultdict(lambda: [0, 0]) for d in dims}


def _add(target: dict[int, list[int]], key: Any, n: Any, v: Any) -> None:
    row = target[int(key)]
    row[0] += int(n or 0)
    row[1] += int(v or 0)


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


def _day(d: date) -> Any:
    return connection.ops.adapt_datefield_value(d)


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
    aggregates, each row tagged (tag, dim, month as yyyymm or 0, key, count, valid). The SQL
    is written out rather than composed by the ORM: composing ten aggregates cost more than
    running them.
    """

    def _parts(
        self, ids: tuple[int, ...], tag: str, first: date, last: date, dims: tuple[str, ...]
    ) -> list[Part]:
        parts: list[Part] = []
        where = f"{_q('station_id')} IN ({_marks(ids)})"
        months, edges = split_period(first, last)
        if months:
            key, count = _q("key"), _q("count")
            sql = (
                f"SELECT %s, {_q('dim')}, 0, {key}, SUM({count}), SUM({_q('valid')}) "  # noqa: S608 - quoted names, values bound
                f"FROM {_q(IncidentMonthly._meta.db_table)} WHERE {where} "
                f"AND {_q('dim')} IN ({_marks(dims)}) AND {_q('month')} >= %s "
                f"AND {_q('month')} <= %s GROUP BY {_q('dim')}, {key}"
            )
            parts.append((sql, [tag, *ids, *dims, _day(months[0]), _day(months[-1])]))
        if not edges:
            return parts
        day = _q("day")
        on = " OR ".join(f"({day} >= %s AND {day} <= %s)" for _e in edges)
        on_params = [_day(d) for edge in edges for d in edge]
        for dim in dims:
            if dim == "hour_dow":
                table, valid = IncidentHourly._meta.db_table, "0"
                key = f"({_isodow(day)} - 1) * 24 + {_q('hour')}"
            else:
                table, valid = IncidentDaily._meta.db_table, f"SUM({_q('valid')})"
                key = _q(_DAILY_COLS[dim])
                if dim == "class":
                    key = f"CAST({key} AS integer)"
            sql = (
                f"SELECT %s, %s, 0, {key}, SUM({_q('count')}), {valid} FROM {_q(table)} "  # noqa: S608 - quoted names, values bound
                f"WHERE {where} AND ({on}) GROUP BY {key}"
            )
            parts.append((sql, [tag, dim, *ids, *on_params]))
        return parts

    def _trend_part(self, ids: tuple[int, ...], first: date, last: date) -> Part:
        month = _q("month")
        sql = (
            f"SELECT %s, %s, {_yyyymm(month)}, {_q('key')}, SUM({_q('count')}), 0 "  # noqa: S608 - quoted names, values bound
            f"FROM {_q(IncidentMonthly._meta.db_table)} "
            f"WHERE {_q('station_id')} IN ({_marks(ids)}) AND {_q('dim')} = %s "
            f"AND {month} >= %s AND {month} <= %s GROUP BY {month}, {_q('key')}"
        )
        return sql, ["t", "class", *ids, "class", _day(first), _day(last)]

    def _run(
        self, parts: list[Part], dims: dict[str, tuple[str, ...]]
    ) -> tuple[dict[str, Counts], Trend]:
        out = {tag: _counts(d) for tag, d in dims.items()}
        trend: Trend = defaultdict(int)
        if not parts:
            return out, trend
        sql = " UNION ALL ".join(p[0] for p in parts)
        params = [v for p in parts for v in p[1]]
        with connection.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        for tag, dim, mo, key, n, v in rows:
            if tag == "t":
                y, m = divmod(int(mo), 100)
                trend[(date(y, m, 1), f"{int(key):06d}")] += int(n)
            else:
                _add(out[tag][dim], key, n, v)
        return out, trend

    def marginals(
        self, ids: tuple[int, ...], first: date, last: date, dims: Iterable[str]
    ) -> Counts:
        dims = tuple(dims)
        out, _trend = self._run(self._parts(ids, "c", first, last, dims), {"c": dims})
        return out["c"]

    def class_months(self, ids: tuple[int, ...], first: date, last: date) -> Trend:
        _out, trend = self._run([self._trend_part(ids, first, last)], {})
        return dict(trend)

    def fetch(
        self,
        ids: tuple[int, ...],
        cur: tuple[date, date],
        ly: tuple[date, date],
        trend: tuple[date, date],
    ) -> tuple[Counts, Counts, Trend]:
        parts = [
            *self._parts(ids, "c", *cur, CUR_DIMS),
            *self._parts(ids, "l", *ly, LY_DIMS),
            self._trend_part(ids, *trend),
        ]
        out, months = self._run(parts, {"c": CUR_DIMS, "l": LY_DIMS})
        return out["c"], out["l"], dict(months)


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
    ) -> tuple[Counts, Counts, Trend]:
        return (
            self.marginals(ids, *cur, CUR_DIMS),
            self.marginals(ids, *ly, LY_DIMS),
            self.class_months(ids, *trend),
        )


ROLLUPS = RollupSource()
INCIDENTS = IncidentSource()
