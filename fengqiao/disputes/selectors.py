"""Dispute reads: filtered lists, repeat candidates and the case timeline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from django.db.models import Count, Q
from django.utils import timezone

from fengqiao.core.models import AuditEntry
from fengqiao.core.search import search_filter
from fengqiao.core.selectors import object_timeline
from fengqiao.disputes.choices import Colour
from fengqiao.disputes.models import Dispute, DisputeType, Mediator, Party
from fengqiao.disputes.querysets import DisputeQuerySet
from fengqiao.disputes.triage import REPEAT_WINDOW_DAYS

# Matching keys in the order a link's reason names them.
MATCH_KEYS = (
    ("id_number", "id_number_bidx"),
    ("phone", "phone_bidx"),
    ("name_address", "name_address_bidx"),
)


class PartyKeys(Protocol):
    """Anything with a party's blind-index keys: a saved Party or a validated input."""

    @property
    def id_number_bidx(self) -> str: ...

    @property
    def phone_bidx(self) -> str: ...

    @property
    def name_address_bidx(self) -> str: ...


@dataclass(frozen=True)
class RepeatMatch:
    """An earlier (or later) dispute of the station between the same parties."""

    dispute_id: int
    case_number: str
    status: str
    occurred_at: datetime
    days_apart: int
    matched_on: tuple[str, ...]


def _matched_on(p: PartyKeys, row: dict[str, Any]) -> set[str]:
    found = set()
    for name, attr in MATCH_KEYS:
        value = getattr(p, attr)
        if value and value == row[attr]:
            found.add(name)
    return found


def repeat_matches(
    *,
    station_id: int,
    occurred_at: datetime,
    parties: Sequence[PartyKeys],
    exclude_id: int | None = None,
) -> list[RepeatMatch]:
    """Return the station's disputes within 90 calendar days that are between the same parties.

    Parties match on the ID number's blind index, the phone's, or the name with the address.
    "The same parties": as many parties match as the smaller side has, up to two; so A–B
    repeats as A–B or B–A, A alone repeats A–B, but A–B does not repeat as A–C.
    """
    keys = [
        Q(**{f"{attr}__in": values})
        for _name, attr in MATCH_KEYS
        if (values := sorted({getattr(p, attr) for p in parties if getattr(p, attr)}))
    ]
    if not keys:
        return []
    cond = keys[0]
    for key in keys[1:]:
        cond |= key
    # Calendar days in local time: 1 March and 30 May are 90 days apart whatever the hour.
    day = timezone.localtime(occurred_at).date()
    start = timezone.make_aware(
        datetime.combine(day - timedelta(days=REPEAT_WINDOW_DAYS), time.min)
    )
    end = timezone.make_aware(
        datetime.combine(day + timedelta(days=REPEAT_WINDOW_DAYS + 1), time.min)
    )
    candidates = (
        Party.objects.filter(cond, station_id=station_id)
        .filter(dispute__occurred_at__gte=start, dispute__occurred_at__lt=end)
        .values(
            "id",
            "dispute_id",
            "dispute__case_number",
            "dispute__status",
            "dispute__occurred_at",
            *(attr for _name, attr in MATCH_KEYS),
        )
    )
    if exclude_id is not None:
        candidates = candidates.exclude(dispute_id=exclude_id)
    by_dispute: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in candidates:
        by_dispute[row["dispute_id"]].append(row)
    if not by_dispute:
        return []
    sizes = dict(
        Party.objects.filter(dispute_id__in=sorted(by_dispute))
        .values_list("dispute_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    matches = []
    for dispute_id, rows in sorted(by_dispute.items()):
        new_side: set[int] = set()
        old_side: set[int] = set()
        kinds: set[str] = set()
        for i, p in enumerate(parties):
            for row in rows:
                found = _matched_on(p, row)
                if found:
                    new_side.add(i)
                    old_side.add(row["id"])
                    kinds |= found
        needed = min(2, len(parties), sizes.get(dispute_id, 0))
        if min(len(new_side), len(old_side)) < needed:
            continue
        first = rows[0]
        other_at: datetime = first["dispute__occurred_at"]
        matches.append(
            RepeatMatch(
                dispute_id=dispute_id,
                case_number=first["dispute__case_number"],
                status=first["dispute__status"],
                occurred_at=other_at,
                days_apart=abs((timezone.localtime(other_at).date() - day).days),
                matched_on=tuple(name for name, _attr in MATCH_KEYS if name in kinds),
            )
        )
    return matches


def dispute_repeat_days(*, dispute: Dispute) -> int | None:
    """Return the days to the nearest linked repeat of this dispute, either way, or None."""
    days = [
        *dispute.links.values_list("days_apart", flat=True),
        *dispute.linked_from.values_list("days_apart", flat=True),
    ]
    return min(days) if days else None


def dispute_timeline(*, dispute: Dispute, limit: int = 200) -> list[AuditEntry]:
    """Return the case's timeline: its audit entries, newest first."""
    return object_timeline(obj=dispute, limit=limit)


# The list's queues (tabs): what each one starts from, before the filters.
QUEUES = ("all", "mine", "open", "overdue")


def local_day_start(day: date) -> datetime:
    """Return the aware moment a local calendar day starts."""
    return timezone.make_aware(datetime.combine(day, time.min))


def dispute_search(
    *,
    user: Any,
    status: str | None = None,
    colour: str | None = None,
    grade: str | None = None,
    community_id: int | None = None,
    grid_id: int | None = None,
    type_code: str | None = None,
    q: str = "",
    channel: str | None = None,
    source: str | None = None,
    supervision: str | None = None,
    reported_from: date | None = None,
    reported_to: date | None = None,
    queue: str | None = None,
) -> DisputeQuerySet:
    """Return the visible disputes matching the filters; a class's code takes its subtypes.

    Queues: "mine" is the open cases assigned to a mediator whose account is the user, or
    registered by the user; "open" the cases not finished; "overdue" the open cases whose
    deadline is before today. `reported_to` is inclusive (the whole local day).
    """
    qs = Dispute.objects.visible_to(user)
    if queue in ("mine", "open", "overdue"):
        qs = qs.open()
    if queue == "mine":
        mediator_ids = list(Mediator.objects.filter(user=user).values_list("id", flat=True))
        mine = Q(created_by=user)
        if mediator_ids:
            mine |= Q(mediator_id__in=mediator_ids)
        qs = qs.filter(mine)
    elif queue == "overdue":
        qs = qs.filter(deadline__lt=timezone.localdate())
    if status:
        qs = qs.filter(status=status)
    if colour:
        qs = qs.filter(colour=colour)
    if grade:
        qs = qs.filter(grade=grade)
    if channel:
        qs = qs.filter(channel=channel)
    if source:
        qs = qs.filter(source=source)
    if supervision:
        qs = qs.filter(supervision=supervision)
    if community_id:
        qs = qs.filter(community_id=community_id)
    if grid_id:
        qs = qs.filter(area_id=grid_id)
    if type_code:
        # The class and its subtypes by id, from the small code list: no join in the list.
        type_ids = DisputeType.objects.filter(Q(code=type_code) | Q(parent__code=type_code))
        qs = qs.filter(type_id__in=list(type_ids.values_list("id", flat=True)))
    if reported_from:
        qs = qs.filter(reported_at__gte=local_day_start(reported_from))
    if reported_to:
        qs = qs.filter(reported_at__lt=local_day_start(reported_to + timedelta(days=1)))
    if q:
        qs = search_filter(qs, label="disputes.dispute", query=q)
    return qs


def _bounded_count(qs: Any, limit: int) -> int:
    """Return the number of rows, counted no further than `limit`: cheap however many there are."""
    return int(qs.values("id")[:limit].count())


def dispute_colour_counts(*, user: Any, limit: int = 1000) -> dict[str, int]:
    """Return how many open cases of each colour the user may see, counted up to `limit`.

    A bounded count per colour stays cheap for a district that sees a million cases; `limit`
    itself reads as "at least that many".
    """
    qs = Dispute.objects.visible_to(user).open().order_by()
    return {colour: _bounded_count(qs.filter(colour=colour), limit) for colour in Colour.values}


def dispute_overview(*, user: Any, limit: int = 10000) -> dict[str, int]:
    """Return the home page's dispute figures, each counted up to `limit`: open, overdue, red."""
    qs = Dispute.objects.visible_to(user).open().order_by()
    return {
        "open": _bounded_count(qs, limit),
        "overdue": _bounded_count(qs.filter(deadline__lt=timezone.localdate()), limit),
        "red": _bounded_count(qs.filter(colour=Colour.RED), limit),
        "limit": limit,
    }
