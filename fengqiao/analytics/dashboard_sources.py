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

from django.db.models import Count, F, IntegerField, Q, Sum, Value
from django.db.models.functions import (
    Cast,
    ExtractHour,
    ExtractIsoWeekDay,
    ExtractMonth,
    ExtractYear,
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
_ROW = ("t", "dm", "mo", "k", "n", "v")  # tag, dim, month (yyyymm or 0), key, count, valid


def _tagged(qs: Any, tag: str, dim: str | None, *, valid: bool = True, month: bool = False) -> Any:
    """Finish an aggregate part of the union: (tag, dim, month, key, count, valid) rows."""
    extra: dict[str, Any] = {"t": Value(tag)}
    if dim is not None:
        extra["dm"] = Value(dim)
    if not month:
        extra["mo"] = Value(0)
    return qs.annotate(n=Sum("count"), v=Sum("valid") if valid else Value(0), **extra).values_list(
        *_ROW
    )


class RollupSource:
    """Counts read from IncidentMonthly (whole months) and IncidentDaily/Hourly (edges).

    Every count the page needs comes back in one round trip: a UNION ALL of small
    aggregates, each tagged with its period and dimension.
    """

    def _parts(
        self, ids: tuple[int, ...], tag: str, first: date, last: date, dims: tuple[str, ...]
    ) -> list[Any]:
        parts = []
        months, edges = split_period(first, last)
        if months:
            monthly = IncidentMonthly.objects.filter(
                station_id__in=ids, dim__in=dims, month__gte=months[0], month__lte=months[-1]
            )
            parts.append(
                _tagged(
                    monthly.order_by().annotate(dm=F("dim"), k=F("key")).values("dm", "k"),
                    tag,
                    None,
                )
            )
        if not edges:
            return parts
        on_edges = Q()
        for lo, hi in edges:
            on_edges |= Q(day__gte=lo, day__lte=hi)
        daily = IncidentDaily.objects.filter(on_edges, station_id__in=ids).order_by()
        for dim in dims:
            if dim == "hour_dow":
                hourly = IncidentHourly.objects.filter(on_edges, station_id__in=ids).order_by()
                hd = (ExtractIsoWeekDay("day") - 1) * 24 + F("hour")
                parts.append(_tagged(hourly.annotate(k=hd).values("k"), tag, dim, valid=False))
                continue
            col = _DAILY_COLS[dim]
            key = Cast(col, IntegerField()) if dim == "class" else F(col)
            parts.append(_tagged(daily.annotate(k=key).values("k"), tag, dim))
        return parts

    def _trend_part(self, ids: tuple[int, ...], first: date, last: date) -> Any:
        monthly = IncidentMonthly.objects.filter(
            station_id__in=ids, dim="class", month__gte=first, month__lte=last
        ).order_by()
        mo = ExtractYear("month") * 100 + ExtractMonth("month")
        return _tagged(
            monthly.annotate(mo=mo, k=F("key")).values("mo", "k"), "t", "class", month=True
        )

    def _run(
        self, parts: list[Any], dims: dict[str, tuple[str, ...]]
    ) -> tuple[dict[str, Counts], Trend]:
        out = {tag: _counts(d) for tag, d in dims.items()}
        trend: Trend = defaultdict(int)
        if not parts:
            return out, trend
        qs = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        for tag, dim, mo, key, n, v in qs:
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
