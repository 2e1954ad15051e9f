"""Geometry: GeoJSON boundaries with shapely, and locating points to their grid."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import shape


def centroid_of(geometry: dict[str, Any]) -> tuple[float, float]:
    """Return (lat, lng) of a GeoJSON geometry's representative point."""
    point = shape(geometry).representative_point()
    return (round(point.y, 7), round(point.x, 7))


__all__ = ["centroid_of", "shapely"]
