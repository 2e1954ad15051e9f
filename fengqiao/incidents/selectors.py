"""Incident reads: the filtered list, the code tree, response times and the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from fengqiao.core.models import AuditEntry
from fengqiao.core.selectors import object_timeline
from fengqiao.core.text import search_terms
from fengqiao.incidents.models import Incident, IncidentCategory
from fengqiao.incidents.querysets import IncidentQuerySet


def local_day_start(day: date) -> datetime:
    """Return the aware moment a local calendar day starts."""
    return timezone.make_aware(datetime.combine(day, time.min))


def incident_search(
    *,
    user: Any,
    station_id: int | None = None,
    community_id: int | None = None,
    grid_id: int | None = None,
    class_code: str | None = None,
    category_code: str | None = None,
    source: str | None = None,
    status: str | None = None,
    disposition: str | None = None,
    valid: bool | None = None,
    repeat: bool = False,
    reported_from: date | None = None,
    reported_to: date | None = None,
    q: str = "",
) -> IncidentQuerySet:
    """Return the visible incidents matching the filters; `reported_to` takes the whole day.

    A category code at any level of the tree takes everything beneath it (a prefix of the
    code: 100000 is every criminal incident, 100100 every theft). The free text has no index
    of its own (ADR 11): each folded term filters `search_text`, inside the user's stations
    and the other filters, which the station indexes narrow first.
    """
    qs = Incident.objects.visible_to(user)
    if station_id:
        qs = qs.filter(station_id=station_id)
    if community_id:
        qs = qs.filter(community_id=community_id)
    if grid_id:
        qs = qs.filter(area_id=grid_id)
    if class_code:
        qs = qs.filter(class_code=class_code)
    if category_code:
        # Six digits: 100000 a class, 100100 a category, 100101 one of its subcategories.
        if category_code.endswith("0000"):
            qs = qs.filter(class_code=category_code)
        elif category_code.endswith("00"):
            qs = qs.filter(category__code__startswith=category_code[:4])
        else:
            qs = qs.filter(category__code=category_code)
    for name, value in (("source", source), ("status", status), ("disposition", disposition)):
        if value:
            qs = qs.filter(**{name: value})
    if valid is not None:
        qs = qs.filter(valid=valid)
    if repeat:
        qs = qs.filter(Q(repeat_address=True) | Q(repeat_caller=True))
    if reported_from:
        qs = qs.filter(reported_at__gte=local_day_start(reported_from))
    if reported_to:
        qs = qs.filter(reported_at__lt=local_day_start(reported_to + timedelta(days=1)))
    for term in search_terms(q or ""):
        qs = qs.filter(search_text__contains=term)
    return qs


def category_tree(*, active_only: bool = True) -> list[dict[str, Any]]:
    """Return the 110 code tree as nested dicts: classes, their categories, subcategories."""
    rows = IncidentCategory.objects.order_by("sort", "code")
    if active_only:
        rows = rows.filter(active=True)
    nodes: dict[int, dict[str, Any]] = {
        c.pk: {
            "code": c.code,
            "name": c.name,
            "name_en": c.name_en,
            "parent_id": c.parent_id,
            "children": [],
        }
        for c in rows
    }
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"]) if node["parent_id"] else None
        if node["parent_id"] is None:
            roots.append(node)
        elif parent is not None:
            parent["children"].append(node)
    for node in nodes.values():
        node.pop("parent_id")
    return roots


@dataclass(frozen=True)
class ResponseTimes:
    """How long each step took, in whole minutes; None where the step is not recorded."""

    dispatch: int | None
    arrival: int | None
    response: int | None
    total: int | None


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() // 60)


def response_times(incident: Incident) -> ResponseTimes:
    """Return report→dispatch, dispatch→arrival, report→arrival (the response) and report→close."""
    return ResponseTimes(
        dispatch=_minutes(incident.reported_at, incident.dispatched_at),
        arrival=_minutes(incident.dispatched_at, incident.arrived_at),
        response=_minutes(incident.reported_at, incident.arrived_at),
        total=_minutes(incident.reported_at, incident.closed_at),
    )


def incident_timeline(*, incident: Incident, limit: int = 200) -> list[AuditEntry]:
    """Return the incident's timeline: its audit entries, newest first."""
    return object_timeline(obj=incident, limit=limit)


def mask_name(name: str) -> str:
    """Return a caller's name masked (王*, 欧阳**): the first character and stars."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)
