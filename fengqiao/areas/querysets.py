"""Querysets that start every list from what the user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from fengqiao.areas.models import Area, Place  # noqa: F401


class AreaQuerySet(models.QuerySet["Area"]):
    def visible_to(self, user: Any, perm: str = "area.view") -> AreaQuerySet:
        """Return the areas beneath the user's memberships that grant `perm`."""
        from fengqiao.areas.access import scope_for

        scope = scope_for(user, perm)
        if scope.everything:
            return self.all()
        if not scope.paths:
            return self.none()
        cond = Q()
        for path in scope.paths:
            cond |= Q(path__startswith=path)
        return self.filter(cond)

    def stations(self) -> AreaQuerySet:
        return self.filter(kind="station")

    def grids(self) -> AreaQuerySet:
        return self.filter(kind="grid")

    def communities(self) -> AreaQuerySet:
        return self.filter(kind__in=["community", "village"])


class PlaceQuerySet(models.QuerySet["Place"]):
    def visible_to(self, user: Any, perm: str = "place.view") -> PlaceQuerySet:
        """Return the places in the areas where the user holds `perm`."""
        from fengqiao.areas.access import scope_for

        return self.filter(scope_for(user, perm).q())
