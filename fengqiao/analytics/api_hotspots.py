"""The hotspots API: Gi* hotspots of a station's incidents on H3 cells, as GeoJSON.

The same selector as the page (`hotspot_selectors.station_hotspots`). Without `station_id`
the caller's first station; a station outside the caller's reach is 404, as a missing one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import BaseModel, Field

from fengqiao.analytics import hotspot_selectors as sel
from fengqiao.analytics.hotspots import MAX_RESOLUTION, MIN_RESOLUTION
from fengqiao.core.schemas import error_responses

router = Router(tags=["incidents"])

READ_ERRORS = error_responses(401, 404, 422)
Trend = Literal["new", "persistent", "intensifying", "diminishing", "sporadic", "former", ""]


class CellProperties(BaseModel):
    h3: str = Field(description="H3 cell index")
    lat: float = Field(description="Centre latitude")
    lng: float = Field(description="Centre longitude")
    count: int = Field(description="Incidents in the last window")
    z: float = Field(description="Gi* z-score in the last window (esda G_Local star, binary)")
    p: float = Field(description="Two-sided normal p-value")
    q: float = Field(description="Benjamini-Hochberg adjusted p-value")
    hot: bool = Field(description="z > 0 and q <= alpha in the last window")
    trend: Trend = Field(description="Class over the windows")
    trend_label: str
    counts: list[int] = Field(description="Incidents per window, oldest first")
    hot_windows: list[bool]
    trend_p: float = Field(description="Mann-Kendall p-value of the counts")


class Polygon(BaseModel):
    type: Literal["Polygon"]
    coordinates: list[list[list[float]]]


class CellFeature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: Polygon
    properties: CellProperties


class WindowOut(BaseModel):
    start: date
    end: date
    total: int


class HotspotsOut(BaseModel):
    """A GeoJSON FeatureCollection of the cells with incidents or a class, and the figures."""

    type: Literal["FeatureCollection"]
    station_id: int
    end: date
    resolution: int
    window_days: int
    alpha: float
    class_code: str
    windows: list[WindowOut]
    total: int = Field(description="Valid located incidents over all windows")
    area_cells: int = Field(description="Cells of the study area, empty ones included")
    trend_counts: dict[str, int]
    features: list[CellFeature]


@router.get(
    "/hotspots",
    response={200: HotspotsOut, **READ_ERRORS},
    summary="Gi* hotspots of a station on H3 cells, with FDR and classes over time",
)
def hotspots(
    request: HttpRequest,
    station_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    end: date | None = None,
    resolution: Annotated[int | None, Query(ge=MIN_RESOLUTION, le=MAX_RESOLUTION)] = None,
    window_days: Annotated[int, Query(ge=1, le=sel.MAX_WINDOW_DAYS)] = 28,
    windows: Annotated[int, Query(ge=1, le=sel.MAX_WINDOWS)] = 6,
    alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
    class_code: Annotated[str, Query(max_length=6, pattern=r"^[0-9]*$")] = "",
) -> dict[str, Any]:
    station = sel.access_hotspot_station(request.user, station_id)
    report = sel.station_hotspots(
        station_id=station.pk,
        end=end or sel.default_end(),
        resolution=resolution,
        window_days=window_days,
        windows=windows,
        alpha=alpha,
        class_code=class_code,
    )
    return sel.report_geojson(report)
