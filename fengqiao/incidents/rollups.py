"""Keep the incident rollups current: daily, hourly and monthly counts every figure reads.

Three tables, all counted on the day an incident was reported (接警日期) in settings.TIME_ZONE:

- `IncidentDaily` (station, day, grid, category; community and class copied): count, valid;
- `IncidentHourly` (station, day, hour, class): count;
- `IncidentMonthly` (station, month, dim, key): the month's marginals along one dimension
  (category, class, grid, community, hour_dow), derived from the two tables above, so a year of
  figures reads a few hundred rows.

Three ways in (the same as the dispute rollups, ADR 10):

- hooks: post_save/post_delete of Incident queue the (station, day) keys the row touches,
  as loaded and as saved, and an on_commit callback recomputes those days from the incident
  table, then their months' marginals. A derived read model, not domain flow: no service
  depends on it, and any writer through save()/delete() leaves the rollup right. Queryset
  update(), bulk_create and COPY send no signal: their callers call `rollup_rebuild`.
- `rollups_deferred()`: suspends the hooks in this thread for a bulk load; the loader then
  calls `rollup_rebuild` over the stations and days it wrote.
- `rollup_rebuild(station_ids=..., first=..., last=...)`: set-based, INSERT … SELECT … GROUP BY
  in the database (the local day computed by the database on both SQLite and PostgreSQL).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, IntegerField, Max, Min, QuerySet, Sum, Value
from django.db.models.functions import (
    Cast,
    ExtractHour,
    ExtractIsoWeekDay,
    TruncDate,
    TruncMonth,
)
from django.db.models.signals import post_delete, post_init, post_save
from django.utils import timezone

from fengqiao.areas.models import Area
from fengqiao.incidents.models import Incident, IncidentDaily, IncidentHourly, IncidentMonthly

log = logging.getLogger(__name__)

# The month marginals read from the daily rows: dim → the daily column that keys it
# ("class" keys the class code as a number: 100000 for 刑事).
DAILY_DIMS = {
    "category": "category_id",
    "class": "class_code",
    "grid": "area_id",
    "community": "community_id",
}
HOUR_DOW = "hour_dow"
DIMS = (*DAILY_DIMS, HOUR_DOW)


def local_day(value: datetime) -> date:
    """Return the day of `value` in the site's time zone (TIME_ZONE), whatever is active."""
    return value.astimezone(timezone.get_default_timezone()).date()


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Return the aware [start, end) of the local days first..last."""
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(first, time.min), tz)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
    return start, end


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(first: date) -> date:
    """Return the last day of the month of `first`."""
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def hour_dow_key(weekday: int, hour: int) -> int:
    """Return the monthly key of an ISO weekday (1 = Monday) and an hour: (weekday-1)*24+hour."""
    return (weekday - 1) * 24 + hour


# --- the set-based queries ---


def _incidents(station_ids: list[int] | None, first: date | None, last: date | None) -> Any:
    qs = Incident.objects.all()
    if station_ids is not None:
        qs = qs.filter(station_id__in=station_ids)
    if first is not None:
        qs = qs.filter(reported_at__gte=day_bounds(first, first)[0])
    if last is not None:
        qs = qs.filter(reported_at__lt=day_bounds(last, last)[1])
    return qs.order_by()


def daily_query(station_ids: list[int] | None, first: date | None, last: date | None) -> Any:
    """Return the daily rollup's rows computed from the incident table (a values queryset).

    Columns in _DAILY_COLS order. Community and class follow from the grid and the category;
    MIN keeps one row per key even if a row disagrees.
    """
    tz = timezone.get_default_timezone()
    return (
        _incidents(station_ids, first, last)
        .annotate(d=TruncDate("reported_at", tzinfo=tz))
        .values("station_id", "d", "area_id", "category_id")
        .annotate(
            c_id=Min("community_id"),
            cls=Min("class_code"),
            n=Count("id"),
            v=Sum(Cast("valid", IntegerField())),
        )
        .values_list("station_id", "d", "area_id", "category_id", "c_id", "cls", "n", "v")
        # In key order: the unique index takes the rows in sequence, not at random.
        .order_by("station_id", "d", "area_id", "category_id")
    )


def hourly_query(station_ids: list[int] | None, first: date | None, last: date | None) -> Any:
    """Return the hourly rollup's rows computed from the incident table."""
    tz = timezone.get_default_timezone()
    return (
        _incidents(station_ids, first, last)
        .annotate(d=TruncDate("reported_at", tzinfo=tz), h=ExtractHour("reported_at", tzinfo=tz))
        .values("station_id", "d", "h", "class_code")
        .annotate(n=Count("id"))
        .values_list("station_id", "d", "h", "class_code", "n")
        .order_by("station_id", "d", "h", "class_code")
    )


_DAILY_COLS = (
    "station_id",
    "day",
    "area_id",
    "category_id",
    "community_id",
    "class_code",
    "count",
    "valid",
)
_HOURLY_COLS = ("station_id", "day", "hour", "class_code", "count")
_MONTHLY_COLS = ("station_id", "month", "dim", "key", "count", "valid")


def _insert_select(model: Any, cols: tuple[str, ...], query: QuerySet[Any]) -> int:
    """INSERT INTO the model's table the rows of a values_list query; return the rows written."""
    sql, params = query.query.sql_with_params()
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in cols)
    # Table and column names come from the models; the SELECT is compiled by the ORM.
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {qn(model._meta.db_table)} ({names}) {sql}", params)
        return max(cur.rowcount, 0)


def _month_queries(station_ids: list[int] | None, months: list[date] | None) -> list[Any]:
    """Return the monthly marginals' rows, computed from the daily and hourly rows."""
    daily = IncidentDaily.objects.all()
    hourly = IncidentHourly.objects.all()
    if station_ids is not None:
        daily, hourly = (
            daily.filter(station_id__in=station_ids),
            hourly.filter(station_id__in=station_ids),
        )
    if months is not None:
        first, last = min(months), month_end(max(months))
        daily = daily.filter(day__gte=first, day__lte=last)
        hourly = hourly.filter(day__gte=first, day__lte=last)
    out: list[Any] = []
    for dim, col in DAILY_DIMS.items():
        out.append(
            daily.order_by()
            .annotate(
                m=TruncMonth("day"),
                k=Cast(col, IntegerField()) if dim == "class" else F(col),
            )
            .values("station_id", "m", "k")
            .annotate(n=Sum("count"), v=Sum("valid"), dm=Value(dim))
            .values_list("station_id", "m", "dm", "k", "n", "v")
        )
    out.append(
        hourly.order_by()
        .annotate(
            m=TruncMonth("day"),
            k=(ExtractIsoWeekDay("day") - 1) * 24 + F("hour"),
        )
        .values("station_id", "m", "k")
        .annotate(n=Sum("count"), dm=Value(HOUR_DOW), zero=Value(0))
        .values_list("station_id", "m", "dm", "k", "n", "zero")
    )
    return out


def _lock_stations(station_ids: list[int]) -> None:
    """Serialise the recomputes of these stations on PostgreSQL (SQLite serialises all writes)."""
    if connection.vendor == "postgresql" and station_ids:
        list(
            Area.objects.select_for_update(no_key=True)
            .filter(pk__in=station_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def _filter(qs: Any, station_ids: list[int] | None, field: str, first: Any, last: Any) -> Any:
    if station_ids is not None:
        qs = qs.filter(station_id__in=station_ids)
    if first is not None:
        qs = qs.filter(**{f"{field}__gte": first})
    if last is not None:
        qs = qs.filter(**{f"{field}__lte": last})
    return qs


def rollup_rebuild(
    *,
    station_ids: list[int] | None = None,
    first: date | None = None,
    last: date | None = None,
) -> int:
    """Rebuild the incident rollups from the incident table; return the daily rows written.

    The stations given (default: all), the local days first..last (default: all days). The
    daily and hourly rows of those days are recounted by GROUP BY in the database, then the
    monthly marginals of every month they touch are recounted from the daily rows. One
    transaction: a reader sees the old rollup or the new one, never half.
    """
    ids = None if station_ids is None else sorted(set(station_ids))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The GROUP BY of millions of rows sorts in memory rather than on disk.
            with connection.cursor() as cur:
                cur.execute("SET LOCAL work_mem = '256MB'")
        if ids is not None:
            _lock_stations(ids)
        _filter(IncidentDaily.objects.all(), ids, "day", first, last).delete()
        _filter(IncidentHourly.objects.all(), ids, "day", first, last).delete()
        written = _insert_select(IncidentDaily, _DAILY_COLS, daily_query(ids, first, last))
        _insert_select(IncidentHourly, _HOURLY_COLS, hourly_query(ids, first, last))
        m_first = None if first is None else month_start(first)
        m_last = None if last is None else month_start(last)
        _filter(IncidentMonthly.objects.all(), ids, "month", m_first, m_last).delete()
        months = None
        if m_first is not None or m_last is not None:
            months = _months_between(m_first, m_last, ids)
        if months != []:
            for query in _month_queries(ids, months):
                _insert_select(IncidentMonthly, _MONTHLY_COLS, query)
    return written


def _months_between(first: date | None, last: date | None, ids: list[int] | None) -> list[date]:
    """Return the month starts first..last; an open end is taken from the daily rows."""
    if first is None or last is None:
        days = _filter(IncidentDaily.objects.all(), ids, "day", first, None)
        if last is not None:
            days = days.filter(day__lte=month_end(last))
        span = days.aggregate(lo=Min("day"), hi=Max("day"))
        if span["lo"] is None:
            return []
        first = first or month_start(span["lo"])
        last = last or month_start(span["hi"])
    out = []
    month = first
    while month <= last:
        out.append(month)
        month = month_end(month) + timedelta(days=1)
    return out


def rollup_refresh(keys: Iterable[tuple[int, date]]) -> None:
    """Recompute the rollups of these (station, day) keys from the incident table.

    Each station-day's daily and hourly rows are recounted (an indexed read of one day of
    incidents), then each touched month's marginals from its daily rows.
    """
    by_station: dict[int, set[date]] = defaultdict(set)
    for station_id, day in keys:
        by_station[station_id].add(day)
    for station_id, days in sorted(by_station.items()):
        with transaction.atomic():
            _lock_stations([station_id])
            for day in sorted(days):
                IncidentDaily.objects.filter(station_id=station_id, day=day).delete()
                IncidentHourly.objects.filter(station_id=station_id, day=day).delete()
                _insert_select(IncidentDaily, _DAILY_COLS, daily_query([station_id], day, day))
                _insert_select(IncidentHourly, _HOURLY_COLS, hourly_query([station_id], day, day))
            for month in sorted({month_start(d) for d in days}):
                IncidentMonthly.objects.filter(station_id=station_id, month=month).delete()
                for query in _month_queries([station_id], [month]):
                    _insert_select(IncidentMonthly, _MONTHLY_COLS, query)


# --- the hooks: which keys a write touches ---

_pending = threading.local()


@contextmanager
def rollups_deferred() -> Iterator[None]:
    """Suspend the per-write refreshes in this thread; the caller then calls rollup_rebuild.

    For bulk loads (imports, the demo, benchmarks): one set-based rebuild of the stations and
    days written costs far less than a refresh after every commit.
    """
    outer = getattr(_pending, "deferred", False)
    _pending.deferred = True
    try:
        yield
    finally:
        _pending.deferred = outer


def _queue(keys: Iterable[tuple[int | None, date | None]]) -> None:
    if getattr(_pending, "deferred", False):
        return
    queued: set[tuple[int, date]] = _pending.__dict__.setdefault("keys", set())
    queued.update((s, d) for s, d in keys if s is not None and d is not None)
    # One callback per write: each flushes whatever is queued, the later ones find it empty.
    transaction.on_commit(_flush, robust=True)


def _flush() -> None:
    keys: set[tuple[int, date]] = _pending.__dict__.get("keys", set())
    if not keys:
        return
    _pending.keys = set()
    try:
        rollup_refresh(keys)
    except Exception:
        # The write itself is committed; a later write or `rollup_incidents` repairs the rollup.
        log.exception("incident rollup refresh failed for %d keys", len(keys))
        raise


_LOADED = "_rollup_loaded"


def _remember(sender: type, instance: Incident, **_: Any) -> None:
    # __dict__, not getattr: a deferred field must not cost a query per row loaded.
    instance.__dict__[_LOADED] = (
        instance.__dict__.get("station_id"),
        instance.__dict__.get("reported_at"),
    )


def _touched(instance: Incident) -> list[tuple[int | None, date | None]]:
    """Return the (station, day) keys of the row now and as it was loaded."""
    keys: list[tuple[int | None, date | None]] = []
    if instance.reported_at is not None:
        keys.append((instance.station_id, local_day(instance.reported_at)))
    loaded = instance.__dict__.get(_LOADED)
    if loaded and loaded[1] is not None:
        keys.append((loaded[0] or instance.station_id, local_day(loaded[1])))
    return keys


def _changed(sender: type, instance: Incident, **_: Any) -> None:
    _queue(_touched(instance))
    _remember(sender, instance)


def connect() -> None:
    """Connect the rollup's hooks (from the incidents app's ready())."""
    post_init.connect(_remember, sender=Incident, dispatch_uid="incident_rollup_init")
    post_save.connect(_changed, sender=Incident, dispatch_uid="incident_rollup_saved")
    post_delete.connect(_changed, sender=Incident, dispatch_uid="incident_rollup_deleted")
