"""One access_* per aggregate: the object if the user may act on it, else 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from fengqiao.accounts.access import Scope, scope_for, user_can
from fengqiao.areas.models import Area, Place

__all__ = ["Scope", "access_area", "access_place", "scope_for", "stations_held", "user_can"]


def access_place(user: Any, pk: int, *, action: str = "view") -> Place:
    """Return the place if the user may `action` it; 404 alike for missing and forbidden."""
    place = (
        Place.objects.visible_to(user, f"place.{action}")
        .select_related("kind", "area", "community", "station", "officer")
        .filter(pk=pk)
        .first()
    )
    if place is None:
        raise Http404
    return place


def access_area(user: Any, pk: int, *, action: str = "view") -> Area:
    """Return the area if the user may `action` it; 404 alike for missing and forbidden."""
    area = Area.objects.visible_to(user, f"area.{action}").filter(pk=pk).first()
    if area is None:
        raise Http404
    return area


def stations_held(user: Any, perm: str) -> list[Area]:
    """Return the whole stations where the user holds `perm` (every one for a city-wide role),
    with their districts, in code order: what a station picker offers and a sum may add up."""
    scope = scope_for(user, perm)
    qs = (
        Area.objects.filter(kind="station")
        .select_related("parent")
        .only("id", "name", "code", "path", "parent__id", "parent__name", "parent__kind")
    )
    if not scope.everything:
        qs = qs.filter(pk__in=sorted(scope.station_ids))
    return list(qs.order_by("code", "id"))
