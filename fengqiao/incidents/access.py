"""One access_* per aggregate: the incident if the user may act on it, else 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from fengqiao.incidents.models import Incident


def access_incident(user: Any, pk: int, *, action: str = "view") -> Incident:
    """Return the incident if the user may `action` it; 404 alike for missing and forbidden."""
    incident = (
        Incident.objects.visible_to(user, f"incident.{action}")
        .select_related("category", "station", "community", "area", "officer", "dispute")
        .defer("station__boundary", "community__boundary", "area__boundary")
        .filter(pk=pk)
        .first()
    )
    if incident is None:
        raise Http404
    return incident
