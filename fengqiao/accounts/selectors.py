"""Account reads."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from fengqiao.accounts.access import Area, scope_for
from fengqiao.accounts.models import User


def users_visible(*, actor: Any, q: str = "") -> QuerySet[User]:
    """Return the accounts with a role where the actor manages accounts."""
    scope = scope_for(actor, "account.manage")
    qs = User.objects.all()
    if not scope.everything:
        if scope.empty:
            return qs.none()
        qs = qs.filter(
            Q(memberships__area__station_id__in=sorted(scope.station_ids))
            | Q(memberships__area_id__in=sorted(scope.station_ids | scope.area_ids))
        ).distinct()
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    return qs.prefetch_related("memberships__area").order_by("username")


def areas_for_accounts(*, actor: Any) -> QuerySet:
    """Return the areas on which the actor may hand out roles."""
    scope = scope_for(actor, "account.manage")
    if scope.everything:
        return Area.objects.all()
    cond = Q(pk__in=[])
    for path in scope.paths:
        cond |= Q(path__startswith=path)
    return Area.objects.filter(cond).exclude(kind="district")
