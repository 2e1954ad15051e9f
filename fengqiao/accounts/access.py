"""Scopes: the stations and areas where a user holds a permission, from their memberships."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from fengqiao.accounts.models import Membership
from fengqiao.accounts.roles import Role, role_can

# The jurisdiction tree is the areas app's; accounts reaches it through the membership's key.
Area: Any = Membership._meta.get_field("area").related_model
WIDE_KINDS = ("district", "station")
# Roles whose dispute permissions reach the whole station of the area they are held on.
STATION_WIDE_ROLES = frozenset({Role.MEDIATOR})

_CACHE_ATTR = "_fq_scopes"
_MEMBERSHIPS_ATTR = "_fq_memberships"


@dataclass(frozen=True)
class Scope:
    """The rows a user reaches for one permission: whole stations, or areas beneath one."""

    everything: bool = False
    station_ids: frozenset[int] = field(default_factory=frozenset)
    area_ids: frozenset[int] = field(default_factory=frozenset)
    paths: tuple[str, ...] = ()

    def q(self, station_field: str = "station_id", area_field: str = "area_id") -> Q:
        """Return the filter for case rows that carry a station and an area (grid)."""
        if self.everything:
            return Q()
        cond = Q(pk__in=[])
        if self.station_ids:
            cond |= Q(**{f"{station_field}__in": sorted(self.station_ids)})
        if self.area_ids:
            cond |= Q(**{f"{area_field}__in": sorted(self.area_ids)})
        return cond

    @property
    def empty(self) -> bool:
        return not (self.everything or self.station_ids or self.area_ids)

    def allows_station(self, station_id: int) -> bool:
        return self.everything or station_id in self.station_ids

    def allows(self, station_id: int | None, area_id: int | None) -> bool:
        return (
            self.everything
            or (station_id is not None and station_id in self.station_ids)
            or (area_id is not None and area_id in self.area_ids)
        )


def scope_for(user: Any, perm: str, *, without: frozenset[str] = frozenset()) -> Scope:
    """Return the scope of `perm` for `user`, computed once per request.

    `without` leaves out the memberships of those roles: the disputes app asks for a mediator's
    other roles apart, since the mediator's own reach is narrowed by assignment and pools.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cache: dict[str, Scope] = user.__dict__.setdefault(_CACHE_ATTR, {})
    key = perm if not without else f"{perm}|{','.join(sorted(without))}"
    if key in cache:
        return cache[key]
    if user.is_superuser:
        cache[key] = Scope(everything=True)
        return cache[key]
    # Only the tree columns: boundaries are large and this runs on every request.
    # One read of the memberships per request serves every permission asked (the menu asks many).
    memberships = user.__dict__.get(_MEMBERSHIPS_ATTR)
    if memberships is None:
        memberships = list(
            user.memberships.select_related("area").only(
                "role",
                "user_id",
                "area__id",
                "area__kind",
                "area__path",
                "area__station_id",
                "area__parent_id",
            )
        )
        user.__dict__[_MEMBERSHIPS_ATTR] = memberships
    memberships = [m for m in memberships if m.role not in without]
    held = [m.area for m in memberships if role_can(m.role, perm)]
    # A mediator works across the station, wherever their own community is: which cases they see
    # is decided by assignment and the routing pools (disputes.querysets), not by their area.
    station_wide = {
        m.area.station_id or m.area.pk
        for m in memberships
        if m.role in STATION_WIDE_ROLES
        and perm.startswith("dispute.")
        and role_can(m.role, perm)
        and m.area.kind not in WIDE_KINDS
    }
    station_ids: set[int] = set()
    area_ids: set[int] = set()
    paths = tuple(sorted({a.path for a in held}))
    wide = [a for a in held if a.kind in WIDE_KINDS]
    narrow = [a for a in held if a.kind not in WIDE_KINDS]
    station_ids.update(station_wide)
    for area in wide:
        if area.kind == "station":
            station_ids.add(area.pk)
        else:
            station_ids.update(
                Area.objects.filter(path__startswith=area.path, kind="station").values_list(
                    "pk", flat=True
                )
            )
    if narrow:
        cond = Q()
        for area in narrow:
            cond |= Q(path__startswith=area.path)
        area_ids.update(Area.objects.filter(cond).values_list("pk", flat=True))
    cache[key] = Scope(
        station_ids=frozenset(station_ids), area_ids=frozenset(area_ids), paths=paths
    )
    return cache[key]


def user_can(
    user: Any, perm: str, *, station_id: int | None = None, area_id: int | None = None
) -> bool:
    """Return whether the user holds `perm` somewhere, or at the given station/area."""
    scope = scope_for(user, perm)
    if station_id is None and area_id is None:
        return not scope.empty
    return scope.allows(station_id, area_id)
