"""Keep the dispute rollups current: recompute the (station, day) keys a write touched.

The measures and their rules are documented on `models.rollups`. Three ways in:

- signals: post_save/post_delete of Dispute, FollowUp and ScreeningVisit queue the keys the
  row touches (its days before and after the write) and register a `transaction.on_commit`
  callback, which recomputes those days from the case tables (indexed, one station-day at a
  time) and then the month marginals of the months they fall in. Whatever service wrote the
  row, the rollups are right after commit. A rolled-back write leaves its keys queued; the
  next flush recomputes them, which is harmless (a recompute is idempotent).
- `rollup_rebuild(station_ids=..., start=..., end=...)`: recompute whole months from the case
  tables, for bulk loads (bulk_create and update bypass signals) and the `rollup_disputes`
  command.
- `case_events` and friends: the per-row rules, shared with the report's baseline
  (`report.monthly_report_from_cases`), so both read the same definitions.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_init, post_save, pre_delete
from django.utils import timezone

from fengqiao.areas.models import Area
from fengqiao.disputes.choices import (
    Colour,
    FollowUpState,
    Outcome,
    Source,
    Status,
    ThreatState,
    VisitResult,
)
from fengqiao.disputes.models import (
    FINISHED,
    Dispute,
    DisputeDaily,
    DisputeMonthly,
    FollowUp,
    ScreeningVisit,
)
from fengqiao.disputes.models.rollups import MEASURES

log = logging.getLogger(__name__)

# A daily row's dimensions besides station and day; community follows from the grid.
DIMS = ("area_id", "community_id", "source", "stat_type_id", "type_class", "channel")
# The month marginals: dim name → index in the dims tuple ("" is the total).
MONTH_DIMS = {
    "source": 2,
    "stat_type": 3,
    "type_class": 4,
    "channel": 5,
    "area": 0,
    "community": 1,
}
Dims = tuple[int, int, str, int | None, str, str]
Measures = list[Any]  # in MEASURES order; amount is a Decimal
IDX = {name: i for i, name in enumerate(MEASURES)}
SATISFIED_MIN = 4
# Read from the status when a finished case has no outcome recorded.
STATUS_OUTCOME: dict[str, str] = {
    Status.CLOSED: Outcome.SUCCESS,
    Status.REFERRED: Outcome.FAILED,
    Status.WITHDRAWN: Outcome.WITHDRAWN,
    Status.TERMINATED: Outcome.TERMINATED,
}
MEDIATED = frozenset({Outcome.SUCCESS, Outcome.PARTIAL, Outcome.FAILED})
SUCCEEDED = frozenset({Outcome.SUCCESS, Outcome.PARTIAL})
FOUND = (VisitResult.DISPUTE, VisitResult.RESOLVED)


def zero() -> Measures:
    return [Decimal(0) if m == "amount" else 0 for m in MEASURES]


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
    """Return the last day of the month that starts at `first`."""
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


# --- the per-row rules ---

# The columns of a dispute the rules read, in this order (values_list rows).
CASE_FIELDS = (
    "station_id",
    "area_id",
    "community_id",
    "source",
    "stat_type_id",
    "type__code",
    "channel",
    "people_count",
    "amount",
    "reported_at",
    "closed_at",
    "status",
    "outcome",
    "deadline",
    "violence",
    "threat_state",
    "colour",
)
FOLLOWUP_FIELDS = (
    "station_id",
    "dispute__area_id",
    "dispute__community_id",
    "dispute__source",
    "dispute__stat_type_id",
    "dispute__type__code",
    "dispute__channel",
    "state",
    "visited_at",
    "due_date",
    "satisfaction",
)
VISIT_FIELDS = ("station_id", "area_id", "community_id", "visited_at")


def _dims(row: tuple[Any, ...]) -> Dims:
    return (row[1], row[2], row[3], row[4], (row[5] or "")[:2], row[6] or "")


def effective_outcome(status: str, outcome: str) -> str:
    """Return how a finished case ended: its recorded outcome, else read from its status."""
    return outcome or STATUS_OUTCOME.get(status, "")


def case_events(row: tuple[Any, ...]) -> Iterator[tuple[date, Dims, dict[str, Any]]]:
    """Yield (day, dims, measures) for a dispute row: its reception, and its finish if mediated."""
    dims = _dims(row)
    (people, amount, reported_at, closed_at, status, outcome, deadline) = row[7:14]
    violence, threat_state, colour = row[14:17]
    reported = local_day(reported_at)
    received = {"received": 1, "people": people, "amount": Decimal(amount)}
    if row[3] == Source.SCREENING:
        received["screened"] = 1
    yield reported, dims, received
    if closed_at is None or status not in FINISHED:
        return
    ended = effective_outcome(status, outcome)
    if ended not in MEDIATED:
        return
    closed = local_day(closed_at)
    late = deadline is not None and closed > deadline
    done: dict[str, Any] = {
        "concluded": 1,
        "on_time": 0 if late else 1,
        "overdue": 1 if late else 0,
        "days_total": max((closed - reported).days, 0),
    }
    if ended in SUCCEEDED:
        done["succeeded"] = 1
        if threat_state == ThreatState.CONFIRMED or violence or colour == Colour.RED:
            done["prevented"] = 1
            done["prevented_people"] = people
    else:
        done["failed"] = 1
    yield closed, dims, done


def followup_events(row: tuple[Any, ...]) -> Iterator[tuple[date, Dims, dict[str, Any]]]:
    """Yield (day, dims, measures) for a follow-up row: when recorded, and when due."""
    dims = _dims(row)
    state, visited_at, due_date, satisfaction = row[7:11]
    done = state == FollowUpState.DONE and visited_at is not None
    if done:
        yield (
            local_day(visited_at),
            dims,
            {
                "followed_up": 1,
                "satisfied": 1 if (satisfaction or 0) >= SATISFIED_MIN else 0,
            },
        )
    if state != FollowUpState.CANCELLED:
        yield due_date, dims, {"followups_due": 1, "followups_due_done": 1 if done else 0}


def visit_events(row: tuple[Any, ...]) -> Iterator[tuple[date, Dims, dict[str, Any]]]:
    """Yield the event of a screening visit that found a dispute and opened no case."""
    yield local_day(row[3]), (row[1], row[2], Source.SCREENING, None, "", ""), {"screened": 1}


def add(into: Measures, measures: dict[str, Any]) -> None:
    for name, value in measures.items():
        into[IDX[name]] += value


# --- the queries: events of some stations over some local days ---


def _case_rows(station_ids: list[int], start: datetime, end: datetime) -> Any:
    """Return the disputes reported or finished in [start, end)."""
    return (
        Dispute.objects.filter(station_id__in=station_ids)
        .filter(
            Q(reported_at__gte=start, reported_at__lt=end)
            | Q(closed_at__gte=start, closed_at__lt=end)
        )
        .order_by()
        .values_list(*CASE_FIELDS)
    )


def _followup_rows(station_ids: list[int], start: datetime, end: datetime) -> Any:
    """Return the follow-ups recorded or falling due in [start, end)."""
    first, last = local_day(start), local_day(end - timedelta(microseconds=1))
    return (
        FollowUp.objects.filter(station_id__in=station_ids)
        .filter(
            Q(visited_at__gte=start, visited_at__lt=end)
            | Q(due_date__gte=first, due_date__lte=last)
        )
        .order_by()
        .values_list(*FOLLOWUP_FIELDS)
    )


def _visit_rows(station_ids: list[int], start: datetime, end: datetime) -> Any:
    return (
        ScreeningVisit.objects.filter(
            station_id__in=station_ids,
            visited_at__gte=start,
            visited_at__lt=end,
            dispute__isnull=True,
            result__in=FOUND,
        )
        .order_by()
        .values_list(*VISIT_FIELDS)
    )


Daily = dict[tuple[int, date, Dims], Measures]


def daily_events(station_ids: list[int], first: date, last: date) -> Daily:
    """Return the daily rollup of the stations over the local days first..last, from the cases."""
    start, end = day_bounds(first, last)
    out: Daily = defaultdict(zero)
    for rows, events in (
        (_case_rows(station_ids, start, end), case_events),
        (_followup_rows(station_ids, start, end), followup_events),
        (_visit_rows(station_ids, start, end), visit_events),
    ):
        for row in rows:
            for day, dims, measures in events(row):
                if first <= day <= last:
                    add(out[(row[0], day, dims)], measures)
    return out


Monthly = dict[tuple[int, date, str, str], Measures]


def monthly_from_daily(rows: Iterable[tuple[int, date, Dims, Measures]]) -> Monthly:
    """Return the month totals and marginals of daily rows (station, day, dims, measures)."""
    out: Monthly = defaultdict(zero)
    for station_id, day, dims, measures in rows:
        month = month_start(day)
        targets = [out[(station_id, month, "", "")]]
        for dim, i in MONTH_DIMS.items():
            value = dims[i]
            targets.append(out[(station_id, month, dim, "" if value is None else str(value))])
        nonzero = [(i, v) for i, v in enumerate(measures) if v]
        for target in targets:
            for i, v in nonzero:
                target[i] += v
    return out


# --- writing rows ---

_DAILY_COLS = (
    "station_id",
    "day",
    "area_id",
    "community_id",
    "source",
    "stat_type_id",
    "type_class",
    "channel",
    *MEASURES,
)
_MONTHLY_COLS = ("station_id", "month", "dim", "value", *MEASURES)
# SQLite as Django configures it takes at most 999 parameters a statement.
_BATCH = 40


def _insert(table: str, cols: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert rows with multi-row VALUES in batches; raw, as bulk loads need it fast."""
    if not rows:
        return
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        # COPY: a rebuild writes as many rows as there are cases.
        names = ", ".join(qn(c) for c in cols)
        with (
            connection.cursor() as cur,
            cur.cursor.copy(f"COPY {qn(table)} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    one = "(" + ", ".join(["%s"] * len(cols)) + ")"
    # Table and column names come from the models, never from input.
    head = f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in cols)}) VALUES "  # noqa: S608
    with connection.cursor() as cur:
        for i in range(0, len(rows), _BATCH):
            chunk = rows[i : i + _BATCH]
            cur.execute(head + ", ".join([one] * len(chunk)), [v for r in chunk for v in r])


def _write_daily(daily: Daily) -> None:
    rows = [(s, d, *dims, *m) for (s, d, dims), m in daily.items() if any(m)]
    _insert(DisputeDaily._meta.db_table, _DAILY_COLS, rows)


def _write_monthly(monthly: Monthly) -> None:
    rows = [(s, mo, dim, value, *m) for (s, mo, dim, value), m in monthly.items() if any(m)]
    _insert(DisputeMonthly._meta.db_table, _MONTHLY_COLS, rows)


def _stored_daily(station_id: int, first: date, last: date) -> Iterator[tuple[Any, ...]]:
    qs = DisputeDaily.objects.filter(station_id=station_id, day__gte=first, day__lte=last)
    for row in qs.order_by().values_list("station_id", "day", *DIMS, *MEASURES):
        yield row[0], row[1], tuple(row[2:8]), list(row[8:])


def _lock_station(station_id: int) -> None:
    """Serialise the recomputes of one station on PostgreSQL (SQLite serialises all writes)."""
    if connection.vendor == "postgresql":
        # NO KEY UPDATE: it does not wait for the inserts that reference the station.
        list(
            Area.objects.select_for_update(no_key=True)
            .filter(pk=station_id)
            .values_list("pk", flat=True)
        )


def rollup_refresh(keys: Iterable[tuple[int, date]]) -> None:
    """Recompute the daily rows of these (station, day) keys, then their months' marginals.

    A day is recomputed from the case tables; its month's marginals move by the difference
    between the day's old and new rows, so a write reads one day of cases and one month of
    marginals (a hundred-odd rows), not the month's daily rows.
    """
    by_station: dict[int, set[date]] = defaultdict(set)
    for station_id, day in keys:
        by_station[station_id].add(day)
    for station_id, days in sorted(by_station.items()):
        with transaction.atomic():
            _lock_station(station_id)
            delta: Monthly = defaultdict(zero)
            for day in sorted(days):
                old = list(_stored_daily(station_id, day, day))
                new = daily_events([station_id], day, day)
                DisputeDaily.objects.filter(station_id=station_id, day=day).delete()
                _write_daily(new)
                for key, m in monthly_from_daily(old).items():
                    target = delta[key]
                    for i, v in enumerate(m):
                        target[i] -= v
                rows = ((s, d, dims, m) for (s, d, dims), m in new.items())
                for key, m in monthly_from_daily(rows).items():
                    target = delta[key]
                    for i, v in enumerate(m):
                        target[i] += v
            for month in sorted({mo for (_s, mo, _d, _v), m in delta.items() if any(m)}):
                _move_month(station_id, month, delta)


def _move_month(station_id: int, month: date, delta: Monthly) -> None:
    """Add the month's share of `delta` to its stored marginals and write them back."""
    stored = DisputeMonthly.objects.filter(station_id=station_id, month=month)
    current: Monthly = defaultdict(zero)
    for row in stored.order_by().values_list("dim", "value", *MEASURES):
        current[(station_id, month, row[0], row[1])] = list(row[2:])
    for key, m in delta.items():
        if key[1] == month and any(m):
            target = current[key]
            for i, v in enumerate(m):
                target[i] += v
    if any(v < 0 for m in current.values() for v in m):
        # Rows written behind the signals left the month inconsistent: count it afresh.
        daily = _stored_daily(station_id, month, month_end(month))
        current = monthly_from_daily(daily)
    stored.delete()
    _write_monthly(current)


@dataclass
class RebuildResult:
    stations: int
    months: int
    daily_rows: int
    monthly_rows: int


def rollup_rebuild(
    *,
    station_ids: Iterable[int] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> RebuildResult:
    """Rebuild the rollups from the case tables: the stations given (default all), whole months.

    start and end are widened to whole months; without them every month that has a case,
    follow-up or screening visit is rebuilt. One station at a time, each in its own
    transaction, so memory stays at one station's rows.
    """
    if station_ids is None:
        ids = sorted(Area.objects.filter(kind="station").values_list("pk", flat=True))
    else:
        ids = sorted(set(station_ids))
    result = RebuildResult(stations=len(ids), months=0, daily_rows=0, monthly_rows=0)
    for station_id in ids:
        first, last = start, end
        if first is None or last is None:
            span = _station_span(station_id)
            if span is None:
                with transaction.atomic():
                    _clear(station_id, first, last)
                continue
            first, last = first or span[0], last or span[1]
        first, last = month_start(first), month_end(month_start(last))
        with transaction.atomic():
            _lock_station(station_id)
            _clear(station_id, first, last)
            daily = daily_events([station_id], first, last)
            _write_daily(daily)
            monthly = monthly_from_daily((s, d, dims, m) for (s, d, dims), m in daily.items())
            _write_monthly(monthly)
        result.daily_rows += sum(1 for m in daily.values() if any(m))
        result.monthly_rows += sum(1 for m in monthly.values() if any(m))
        result.months += len({mo for (_s, mo, _d, _v) in monthly})
    return result


def _clear(station_id: int, first: date | None, last: date | None) -> None:
    daily = DisputeDaily.objects.filter(station_id=station_id)
    monthly = DisputeMonthly.objects.filter(station_id=station_id)
    if first is not None:
        daily, monthly = daily.filter(day__gte=first), monthly.filter(month__gte=first)
    if last is not None:
        daily, monthly = daily.filter(day__lte=last), monthly.filter(month__lte=last)
    daily.delete()
    monthly.delete()


def _station_span(station_id: int) -> tuple[date, date] | None:
    """Return the first and last local day any event of the station falls on."""
    moments: list[datetime] = []
    days: list[date] = []
    for qs, field in (
        (Dispute.objects.filter(station_id=station_id), "reported_at"),
        (Dispute.objects.filter(station_id=station_id), "closed_at"),
        (FollowUp.objects.filter(station_id=station_id), "visited_at"),
        (ScreeningVisit.objects.filter(station_id=station_id), "visited_at"),
    ):
        ordered = qs.exclude(**{f"{field}__isnull": True}).order_by(field)
        for row in (ordered.first(), ordered.last()):
            if row is not None:
                moments.append(getattr(row, field))
    due = FollowUp.objects.filter(station_id=station_id).order_by("due_date")
    for row in (due.first(), due.last()):
        if row is not None:
            days.append(row.due_date)
    days += [local_day(m) for m in moments]
    return (min(days), max(days)) if days else None


# --- the signals: which keys a write touches ---

_pending = threading.local()


@contextmanager
def rollups_deferred() -> Iterator[None]:
    """Hold the per-write refreshes; rebuild the stations touched once, at the end.

    For loaders that write thousands of cases through the services (the demo): one rebuild
    of whole stations costs less than a refresh after every commit.
    """
    outer = _pending.__dict__.get("deferred")
    if outer is not None:  # nested: the outermost block rebuilds
        yield
        return
    _pending.deferred = set()
    try:
        yield
        stations = sorted({s for s, _d in _pending.deferred})
    finally:
        _pending.deferred = None
    if stations:
        rollup_rebuild(station_ids=stations)


def _queue(keys: Iterable[tuple[int | None, date | None]]) -> None:
    deferred = _pending.__dict__.get("deferred")
    if deferred is not None:
        deferred.update((s, d) for s, d in keys if s is not None and d is not None)
        return
    queued: set[tuple[int, date]] = _pending.__dict__.setdefault("keys", set())
    queued.update((s, d) for s, d in keys if s is not None and d is not None)
    # One callback per write: each flushes whatever is queued, the later ones find it empty.
    transaction.on_commit(_flush, robust=True)


def _flush() -> None:
    keys: set[tuple[int, date]] = _pending.__dict__.get("keys", set())
    disputes: set[int] = _pending.__dict__.get("disputes", set())
    if not keys and not disputes:
        return
    _pending.keys, _pending.disputes = set(), set()
    try:
        if disputes:
            keys |= _related_keys(sorted(disputes))
        rollup_refresh(keys)
    except Exception:
        # The write itself is committed; a later write or `rollup_disputes` repairs the rollup.
        log.exception("dispute rollup refresh failed for %d keys", len(keys))
        raise


def _related_keys(dispute_ids: list[int]) -> set[tuple[int, date]]:
    """Return the days of the cases' follow-ups and screening visits, read at commit.

    A case is counted under its own dimensions on its follow-ups' days, and services write
    follow-ups in bulk (bulk_create, update) next to the case's own save: reading them after
    commit catches those rows, which send no signal.
    """
    keys: set[tuple[int, date]] = set()
    rows = FollowUp.objects.filter(dispute_id__in=dispute_ids).values_list(
        "station_id", "visited_at", "due_date"
    )
    for station_id, visited_at, due in rows:
        keys.add((station_id, due))
        if visited_at is not None:
            keys.add((station_id, local_day(visited_at)))
    visits = ScreeningVisit.objects.filter(dispute_id__in=dispute_ids).values_list(
        "station_id", "visited_at"
    )
    keys.update((station_id, local_day(at)) for station_id, at in visits)
    return keys


def _day(value: Any) -> date | None:
    if value is None:
        return None
    return local_day(value) if isinstance(value, datetime) else value


# What each model's rows remember of their loaded state: the fields that place them.
_TRACKED: dict[type, tuple[str, ...]] = {
    Dispute: ("station_id", "reported_at", "closed_at"),
    FollowUp: ("station_id", "visited_at", "due_date"),
    ScreeningVisit: ("station_id", "visited_at"),
}
_LOADED = "_rollup_loaded"


def _remember(sender: type, instance: Any, **_: Any) -> None:
    # __dict__, not getattr: a deferred field must not cost a query per row loaded.
    instance.__dict__[_LOADED] = {f: instance.__dict__.get(f) for f in _TRACKED[sender]}


def _touched(instance: Any, fields: tuple[str, ...]) -> list[tuple[int | None, date | None]]:
    """Return the (station, day) keys of the row now and as it was loaded."""
    loaded = instance.__dict__.get(_LOADED) or {}
    station, old_station = instance.station_id, loaded.get("station_id") or instance.station_id
    keys: list[tuple[int | None, date | None]] = []
    for f in fields:
        keys.append((station, _day(getattr(instance, f))))
        if f in loaded:
            keys.append((old_station, _day(loaded[f])))
    return keys


def _dispute_saved(sender: type, instance: Dispute, **_: Any) -> None:
    deferred = _pending.__dict__.get("deferred")
    if deferred is None and instance.pk is not None:
        # Its follow-ups and visits are recounted too, read at commit (see _related_keys).
        _pending.__dict__.setdefault("disputes", set()).add(instance.pk)
    _queue(_touched(instance, ("reported_at", "closed_at")))
    _remember(sender, instance)


def _dispute_deleting(sender: type, instance: Dispute, **_: Any) -> None:
    # Its screening visits lose the link (SET NULL, no signal) and count again: recount them.
    keys = [
        (instance.station_id, _day(v))
        for v in ScreeningVisit.objects.filter(dispute_id=instance.pk).values_list(
            "visited_at", flat=True
        )
    ]
    if keys:
        _queue(keys)


def _dispute_deleted(sender: type, instance: Dispute, **_: Any) -> None:
    _queue(_touched(instance, ("reported_at", "closed_at")))


def _followup_changed(sender: type, instance: FollowUp, **_: Any) -> None:
    _queue(_touched(instance, ("visited_at", "due_date")))
    _remember(sender, instance)


def _visit_changed(sender: type, instance: ScreeningVisit, **_: Any) -> None:
    _queue(_touched(instance, ("visited_at",)))
    _remember(sender, instance)


def connect() -> None:
    """Connect the rollup's signals (from the app's ready())."""
    for model in _TRACKED:
        post_init.connect(_remember, sender=model, dispatch_uid=f"rollup_init_{model.__name__}")
    post_save.connect(_dispute_saved, sender=Dispute, dispatch_uid="rollup_dispute_saved")
    pre_delete.connect(_dispute_deleting, sender=Dispute, dispatch_uid="rollup_dispute_deleting")
    post_delete.connect(_dispute_deleted, sender=Dispute, dispatch_uid="rollup_dispute_deleted")
    for uid, model, handler in (
        ("followup", FollowUp, _followup_changed),
        ("visit", ScreeningVisit, _visit_changed),
    ):
        post_save.connect(handler, sender=model, dispatch_uid=f"rollup_{uid}_saved")
        post_delete.connect(handler, sender=model, dispatch_uid=f"rollup_{uid}_deleted")
