"""Querysets that start every briefing and order list from what the user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from fengqiao.analytics.models import Briefing, Order  # noqa: F401


def _station_q(user: Any, perm: str) -> Q:
    from fengqiao.accounts.access import scope_for

    scope = scope_for(user, perm)
    if scope.everything:
        return Q()
    return Q(station_id__in=sorted(scope.station_ids))


class BriefingQuerySet(models.QuerySet["Briefing"]):
    def visible_to(self, user: Any, perm: str = "briefing.view") -> BriefingQuerySet:
        """Return the briefings of the stations where the user holds `perm` station-wide.

        A briefing covers a whole station, so a role held on one grid does not reach it.
        """
        return self.filter(_station_q(user, perm))


class OrderQuerySet(models.QuerySet["Order"]):
    def visible_to(self, user: Any, perm: str = "order.handle") -> OrderQuerySet:
        """Return the orders of the stations where the user holds `perm`, and their own."""
        cond = _station_q(user, perm)
        if getattr(user, "is_authenticated", False) and perm == "order.handle":
            from fengqiao.accounts.access import scope_for

            if not scope_for(user, perm).empty:
                cond |= Q(assignee_id=user.pk)
        return self.filter(cond)

    def open(self) -> OrderQuerySet:
        """Return the orders still to be done (issued or acknowledged)."""
        return self.filter(status__in=["issued", "acknowledged"])
