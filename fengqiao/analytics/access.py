"""One access_* per aggregate: the briefing or order if the user may act on it, else 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone

from fengqiao.analytics.models import Briefing, Order
from fengqiao.core.pagination import Page, keyset_page


def access_briefing(user: Any, pk: int, *, action: str = "view") -> Briefing:
    """Return the briefing if the user holds briefing.<action> at its station; else 404."""
    briefing = (
        Briefing.objects.visible_to(user, f"briefing.{action}")
        .select_related("station", "generated_by")
        .filter(pk=pk)
        .first()
    )
    if briefing is None:
        raise Http404
    return briefing


def access_order(user: Any, pk: int, *, action: str = "handle") -> Order:
    """Return the order if the user holds order.<action> at its station (or it is theirs)."""
    order = (
        Order.objects.visible_to(user, f"order.{action}")
        .select_related("station", "assignee", "acknowledged_by", "done_by", "briefing")
        .filter(pk=pk)
        .first()
    )
    if order is None:
        raise Http404
    return order


# --- lists (selectors): each starts from what the user may see, paged by keys ---


def briefing_page(
    user: Any, *, station_id: int | None = None, cursor: str | None = None, size: int = 30
) -> Page[Briefing]:
    """Return a page of the briefings the user may read, newest morning first."""
    qs = (
        Briefing.objects.visible_to(user).select_related("station", "generated_by").defer("content")
    )
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    return keyset_page(qs, order=("-day", "-id"), cursor=cursor, size=size)


ORDER_VIEWS = ("mine", "open", "overdue", "all")


def order_page(
    user: Any,
    *,
    view: str = "mine",
    station_id: int | None = None,
    briefing_id: int | None = None,
    cursor: str | None = None,
    size: int = 30,
) -> Page[Order]:
    """Return a page of orders: the user's own, the station's open or overdue ones, or all."""
    qs = Order.objects.visible_to(user).select_related("station", "assignee", "briefing")
    if view == "mine":
        qs = qs.filter(assignee_id=user.pk)
    elif view == "open":
        qs = qs.open()
    elif view == "overdue":
        qs = qs.open().filter(due_at__lt=timezone.now())
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    if briefing_id is not None:
        qs = qs.filter(briefing_id=briefing_id)
    return keyset_page(qs, order=("-id",), cursor=cursor, size=size)


def order_assignees(station_id: int) -> list[Any]:
    """Return the active users who may receive an order at the station, by name."""
    from fengqiao.accounts.models import User
    from fengqiao.accounts.roles import Role, role_can

    roles = [r for r in Role.values if role_can(r, "order.handle")]
    return list(
        User.objects.filter(
            is_active=True, memberships__area_id=station_id, memberships__role__in=roles
        )
        .distinct()
        .order_by("full_name", "username")
    )


def stations_where(user: Any, perm: str) -> list[Any]:
    """Return the stations where the user holds `perm` station-wide, by name."""
    from fengqiao.accounts.access import scope_for
    from fengqiao.areas.models import Area

    scope = scope_for(user, perm)
    qs = Area.objects.filter(kind="station").only("id", "name", "code")
    if not scope.everything:
        qs = qs.filter(pk__in=sorted(scope.station_ids))
    return list(qs.order_by("code"))
