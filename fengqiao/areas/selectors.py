"""Area and place reads; every one starts from what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from fengqiao.areas.models import Area, Place, PoliceGrid


def station_overview(*, user: Any) -> dict[str, Any]:
    """Return counts of the user's jurisdiction for the home page."""
    areas = Area.objects.visible_to(user)
    by_kind = dict(areas.values_list("kind").annotate(n=Count("id")).order_by())
    stations = list(areas.filter(kind="station").order_by("code")[:20])
    places = Place.objects.visible_to(user)
    kinds = list(
        places.values("kind__name", "kind__group").annotate(n=Count("id")).order_by("-n")[:12]
    )
    police_grids = PoliceGrid.objects.filter(station__in=[s.pk for s in stations]).count()
    return {
        "stations": stations,
        "by_kind": by_kind,
        "communities": by_kind.get("community", 0) + by_kind.get("village", 0),
        "grids": by_kind.get("grid", 0),
        "police_grids": police_grids,
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
    station_ids = [a.pk for a in areas if a.kind == "station"]
    grid_shapes = {a.pk: a.boundary for a in areas if a.kind == "grid" and a.boundary}
    for pg in PoliceGrid.objects.filter(station_id__in=station_ids).prefetch_related("links"):
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
    places = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p["lng"], p["lat"]]},
            "properties": {"id": p["id"], "name": p["name"], "kind": p["kind__name"]},
        }
        for p in Place.objects.visible_to(user).values("id", "name", "lat", "lng", "kind__name")[
            :5000
        ]
    ]
    return {
        "stations": {"type": "FeatureCollection", "features": stations},
        "grids": {"type": "FeatureCollection", "features": grids},
        "police_grids": {"type": "FeatureCollection", "features": police},
        "places": {"type": "FeatureCollection", "features": places},
    }


def place_page(*, user: Any, cursor: str | None, size: int = 50) -> Any:
    """Return a key-based page of the places the user may see, newest first."""
    from fengqiao.core.pagination import keyset_page

    qs = Place.objects.visible_to(user).select_related("kind", "community", "area")
    return keyset_page(qs, order=("-id",), cursor=cursor, size=size)
