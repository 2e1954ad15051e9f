"""Dispute reads: filtered lists, repeat candidates and the case timeline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from django.db.models import Count, Q
from django.utils import timezone

from fengqiao.core.models import AuditEntry
from fengqiao.core.search import search_filter
from fengqiao.core.selectors import object_timeline
from fengqiao.disputes.models import Dispute, Party
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
) -> DisputeQuerySet:
    """Return the visible disputes matching the filters; a class's code takes its subtypes."""
    qs = Dispute.objects.visible_to(user)
    if status:
        qs = qs.filter(status=status)
    if colour:
        qs = qs.filter(colour=colour)
    if grade:
        qs = qs.filter(grade=grade)
    if community_id:
        qs = qs.filter(community_id=community_id)
    if grid_id:
        qs = qs.filter(area_id=grid_id)
    if type_code:
        qs = qs.filter(Q(type__code=type_code) | Q(type__parent__code=type_code))
    if q:
        qs = search_filter(qs, label="disputes.dispute", query=q)
    return qs
