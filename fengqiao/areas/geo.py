"""Geometry: GeoJSON boundaries with shapely, and locating points to their grid.

Every record with a location finds its grid through `locate_point` (one point) or
`locate_many` (arrays); a point outside the station is an error, never a silent null.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.db.models import Max
from django.utils.translation import gettext as _
from shapely.geometry import shape

from fengqiao.core.errors import ValidationFailed


class OutsideStation(ValidationFailed):
    """The point lies in none of the station's grids."""

    code = "outside_station"


def centroid_of(geometry: dict[str, Any]) -> tuple[float, float]:
    """Return (lat, lng) of a GeoJSON geometry's representative point."""
    point = shape(geometry).representative_point()
    return (round(point.y, 7), round(point.x, 7))


@dataclass(frozen=True)
class GridIndex:
    """The grids of one station in an STRtree, for point-in-polygon by the million."""

    station_id: int
    version: str
    grid_ids: np.ndarray  # int64, aligned with `polygons`
    polygons: np.ndarray  # shapely geometries, prepared
    tree: shapely.STRtree

    def locate_many(self, lngs: Sequence[float], lats: Sequence[float]) -> np.ndarray:
        """Return the grid id of each point, -1 where a point lies in no grid."""
        points = shapely.points(
            np.asarray(lngs, dtype="float64"), np.asarray(lats, dtype="float64")
        )
        out = np.full(len(points), -1, dtype="int64")
        # "intersects" counts a point on a shared edge once per side; the first one wins.
        pts_idx, poly_idx = self.tree.query(points, predicate="intersects")
        order = np.argsort(pts_idx, kind="stable")
        pts_idx, poly_idx = pts_idx[order], poly_idx[order]
        first = np.unique(pts_idx, return_index=True)[1]
        out[pts_idx[first]] = self.grid_ids[poly_idx[first]]
        return out


_cache: dict[int, GridIndex] = {}
_lock = threading.Lock()


def _version(station_id: int) -> str:
    from fengqiao.areas.models import Area

    agg = Area.objects.filter(station_id=station_id, kind="grid").aggregate(
        last=Max("updated_at"), n=Max("id")
    )
    return f"{agg['last']}|{agg['n']}"


def grid_index(station_id: int) -> GridIndex:
    """Return the station's grid index, rebuilt when any of its grids changed."""
    from fengqiao.areas.models import Area

    version = _version(station_id)
    cached = _cache.get(station_id)
    if cached is not None and cached.version == version:
        return cached
    rows = list(
        Area.objects.filter(station_id=station_id, kind="grid", boundary__isnull=False)
        .order_by("id")
        .values_list("id", "boundary")
    )
    polygons = np.array([shape(b) for _id, b in rows], dtype=object)
    shapely.prepare(polygons)
    index = GridIndex(
        station_id=station_id,
        version=version,
        grid_ids=np.array([r[0] for r in rows], dtype="int64"),
        polygons=polygons,
        tree=shapely.STRtree(polygons),
    )
    with _lock:
        _cache[station_id] = index
    return index


def locate_point(*, station_id: int, lat: float, lng: float) -> Any:
    """Return the grid (an Area) of the station that contains the point, or raise."""
    from fengqiao.areas.models import Area

    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationFailed(
            _("经纬度超出范围：纬度应在 -90 到 90 之间，经度应在 -180 到 180 之间。"),
            code="bad_coordinates",
            fields={"lat": [_("纬度超出范围")], "lng": [_("经度超出范围")]},
        )
    grid_id = int(grid_index(station_id).locate_many([lng], [lat])[0])
    if grid_id < 0:
        raise OutsideStation(
            _("该位置（%(lat).6f, %(lng).6f）不在本所辖区的任何网格内。")
            % {"lat": lat, "lng": lng},
            fields={"location": [_("位置不在本所辖区内")]},
        )
    return Area.objects.select_related("parent").get(pk=grid_id)
