"""Querysets that start every incident list from what the user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from fengqiao.incidents.models import Incident  # noqa: F401


class IncidentQuerySet(models.QuerySet["Incident"]):
    def visible_to(self, user: Any, perm: str = "incident.view") -> IncidentQuerySet:
        """Return the incidents in the stations and areas where the user holds `perm`."""
        from fengqiao.accounts.access import scope_for

        return self.filter(scope_for(user, perm).q())

    def open(self) -> IncidentQuerySet:
        """Return the incidents not yet closed."""
        return self.exclude(status="closed")
