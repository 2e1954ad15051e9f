"""Area and place reads; every one starts from what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Q

from fengqiao.areas.models import Area, Place, PlaceKind, PoliceGrid
from fengqiao.areas.querysets import PlaceQuerySet
from fengqiao.areas.validation import officers_at
from fengqiao.core.models import AuditEntry
from fengqiao.core.pagination import Page, keyset_page
from fengqiao.core.search import search_filter
from fengqiao.core.selectors import object_timeline


def station_overview(*, user: Any) -> dict[str, Any]:
    """Return the user's jurisdiction at a glance: counts, communities, police grids."""
    areas = Area.objects.visible_to(user)
    by_kind = dict(areas.values_list("kind").annotate(n=Count("id")).order_by())
    stations = list(areas.filter(kind="station").order_by("code")[:20])
    places = Place.objects.visible_to(user)
    kinds = list(places.values("kind__code", "kind__name").annotate(n=Count("id")).order_by("-n"))
    communities = list(
        areas.filter(kind__in=["community", "village"])
        .annotate(grid_count=Count("children", distinct=True))
        .order_by("path")[:60]
    )
    place_counts = dict(places.values_list("community_id").annotate(n=Count("id")).order_by())
    for c in communities:
        c.place_count = place_counts.get(c.pk, 0)  # type: ignore[attr-defined]
    police_grids = list(
        _police_grids_over(areas.filter(kind="grid").values_list("pk", flat=True))
        .select_related("officer")
        .annotate(grid_count=Count("links", filter=Q(links__valid_to__isnull=True)))
        .order_by("code")
    )
    return {
        "stations": stations,
        "by_kind": by_kind,
        "communities": by_kind.get("community", 0) + by_kind.get("village", 0),
        "community_rows": communities,
        "grids": by_kind.get("grid", 0),
        "police_grids": len(police_grids),
        "police_grid_rows": police_grids,
        "places": places.count(),
        "place_kinds": kinds,
    }


def area_tree(*, user: Any) -> list[Area]:
    """Return the visible areas in tree order (by path), with depth for indenting."""
    return list(
        Area.objects.visible_to(user)
        .order_by("path")
        .only("id", "code", "name", "kind", "zone", "depth", "path", "population", "parent_id")
    )


# Colours for communities on the map: distinct, readable on a blank background.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
)


# Canvas markers stay smooth on a station PC up to about this many; the map says when it stops.
MAP_PLACE_LIMIT = 20_000


def _police_grids_over(grid_ids: Any) -> Any:
    """Return the police grids that currently cover any of the given grids."""
    return PoliceGrid.objects.filter(
        links__grid_id__in=list(grid_ids), links__valid_to__isnull=True
    ).distinct()


def map_layers(*, user: Any) -> dict[str, Any]:
    """Return GeoJSON layers for the map: grids coloured by community, police grids, places."""
    areas = list(
        Area.objects.visible_to(user)
        .filter(kind__in=["community", "village", "grid", "station"])
        .order_by("path")
    )
    colours: dict[int, str] = {}
    for a in areas:
        if a.kind in ("community", "village"):
            colours[a.pk] = PALETTE[len(colours) % len(PALETTE)]
    names = {a.pk: a.name for a in areas}
    grids = [
        {
            "type": "Feature",
            "geometry": a.boundary,
            "properties": {
                "id": a.pk,
                "code": a.code,
                "name": a.name,
                "kind": a.kind,
                "community": names.get(a.parent_id or 0, ""),
                "color": colours.get(a.parent_id or 0, "#888888"),
            },
        }
        for a in areas
        if a.kind == "grid" and a.boundary
    ]
    stations = [
        {"type": "Feature", "geometry": a.boundary, "properties": {"id": a.pk, "name": a.name}}
        for a in areas
        if a.kind == "station" and a.boundary
    ]
    from shapely.geometry import mapping, shape
    from shapely.ops import unary_union

    police: list[dict[str, Any]] = []
    grid_shapes = {a.pk: a.boundary for a in areas if a.kind == "grid" and a.boundary}
    # Drawn over the visible grids only: a community officer sees their part of a police grid.
    for pg in _police_grids_over(grid_shapes.keys()).prefetch_related("links"):
        parts = [
            shape(grid_shapes[link.grid_id])
            for link in pg.links.all()
            if link.valid_to is None and link.grid_id in grid_shapes
        ]
        if parts:
            police.append(
                {
                    "type": "Feature",
                    "geometry": mapping(unary_union(parts)),
                    "properties": {"id": pg.pk, "code": pg.code, "name": pg.name},
                }
            )
    rows = list(
        Place.objects.visible_to(user)
        .order_by("-id")
        .values("id", "name", "lat", "lng", "kind__name")[: MAP_PLACE_LIMIT + 1]
    )
    places = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p["lng"], p["lat"]]},
            "properties": {"id": p["id"], "name": p["name"], "kind": p["kind__name"]},
        }
        for p in rows[:MAP_PLACE_LIMIT]
    ]
    return {
        "places_truncated": len(rows) > MAP_PLACE_LIMIT,
        "place_limit": MAP_PLACE_LIMIT,
        "stations": {"type": "FeatureCollection", "features": stations},
        "grids": {"type": "FeatureCollection", "features": grids},
        "police_grids": {"type": "FeatureCollection", "features": police},
        "places": {"type": "FeatureCollection", "features": places},
    }


def place_search(
    *,
    user: Any,
    kind: str | None = None,
    community_id: int | None = None,
    grid_id: int | None = None,
    q: str = "",
) -> PlaceQuerySet:
    """Return the visible places of a kind code, community and grid whose text has every term."""
    qs = Place.objects.visible_to(user)
    if kind:
        qs = qs.filter(kind__code=kind)
    if community_id:
        qs = qs.filter(community_id=community_id)
    if grid_id:
        qs = qs.filter(area_id=grid_id)
    # search_text is simplified and lower-cased; the query is folded the same way.
    if q:
        qs = search_filter(qs, label="areas.place", query=q)
    return qs


def place_page(
    *,
    user: Any,
    cursor: str | None,
    size: int = 50,
    kind: str | None = None,
    community_id: int | None = None,
    grid_id: int | None = None,
    q: str = "",
) -> Page[Place]:
    """Return a key-based page of the places the user may see, filtered, newest first."""
    qs = place_search(
        user=user, kind=kind, community_id=community_id, grid_id=grid_id, q=q
    ).select_related("kind", "community", "area")
    return keyset_page(qs, order=("-id",), cursor=cursor, size=size)


def place_filter_choices(*, user: Any, community_id: int | None = None) -> dict[str, list[Any]]:
    """Return the kinds, communities and grids a place list may be filtered by, in 3 queries."""
    areas = Area.objects.visible_to(user, "place.view")
    grids = areas.grids().select_related("parent").order_by("path")
    if community_id:
        grids = grids.filter(parent_id=community_id)
    return {
        "kinds": list(PlaceKind.objects.order_by("sort", "code")),
        "communities": list(areas.communities().order_by("path")),
        "grids": list(grids),
    }


def place_stations(*, user: Any, perm: str = "place.edit") -> list[Area]:
    """Return the stations where the user holds `perm` on the station or any area beneath."""
    reached = Area.objects.visible_to(user, perm).values("station_id")
    return list(Area.objects.filter(kind="station", pk__in=reached).order_by("code"))


def place_officers(*, station_ids: list[int]) -> list[tuple[int, str, int]]:
    """Return (user id, label, station id) of those who may be a place's responsible officer."""
    return officers_at(station_ids=station_ids)


@dataclass(frozen=True)
class TimelineRow:
    """One audit entry of a place, ready to show: who, when, what, and which fields changed."""

    entry: AuditEntry
    changes: list[tuple[str, Any, Any]]


def place_timeline(*, place: Place, limit: int = 100) -> list[TimelineRow]:
    """Return the place's audit entries, newest first, with field names and kinds in words."""
    entries = object_timeline(obj=place, limit=limit)
    kind_ids: set[int] = set()
    area_ids: set[int] = set()
    for e in entries:
        if e.action == "areas.place.updated":
            for key, pair in e.changes.items():
                if key == "kind_id":
                    kind_ids.update(v for v in pair if isinstance(v, int))
                elif key in ("area_id", "community_id"):
                    area_ids.update(v for v in pair if isinstance(v, int))
    # Two queries at most, however long the timeline: ids become names once.
    kinds = dict(PlaceKind.objects.filter(pk__in=kind_ids).values_list("pk", "name"))
    areas = dict(Area.objects.filter(pk__in=area_ids).values_list("pk", "name"))
    names: dict[str, dict[int, str]] = {"kind_id": kinds, "area_id": areas, "community_id": areas}
    rows = []
    for e in entries:
        changes: list[tuple[str, Any, Any]] = []
        # A creation lists every column; the timeline says "created" and leaves them out.
        if e.action == "areas.place.updated":
            for key, pair in sorted(e.changes.items()):
                if not isinstance(pair, list) or len(pair) != 2:
                    continue
                old, new = pair
                lookup = names.get(key, {})
                changes.append((_field_label(key), lookup.get(old, old), lookup.get(new, new)))
        rows.append(TimelineRow(entry=e, changes=changes))
    return rows


def _field_label(attname: str) -> str:
    try:
        field = Place._meta.get_field(attname.removesuffix("_id"))
    except FieldDoesNotExist:
        return attname
    return str(getattr(field, "verbose_name", attname))
