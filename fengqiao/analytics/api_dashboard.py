"""The dashboard API: every figure of the dashboard page for a station or a district.

The same selector as the page (`dashboards.dashboard_for`). Without `area` the caller's
only station, else the district of their stations; an area outside the caller's reach is
404, as a missing one. Dates are ISO (YYYY-MM-DD); default this year to date.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import BaseModel, Field

from fengqiao.analytics.dashboards import access_dashboard, dashboard_for, default_period
from fengqiao.core.schemas import error_responses

router = Router(tags=["incidents"])

READ_ERRORS = error_responses(401, 404, 422)
Change = Annotated[
    float | None, Field(description="Relative change (0.25 is +25%); null when the base is 0")
]


class ScopeOut(BaseModel):
    kind: Literal["station", "district"]
    id: int
    station_ids: list[int]


class PeriodOut(BaseModel):
    from_: date = Field(alias="from")
    to: date
    days: int | None = None


class TotalsOut(BaseModel):
    count: int
    valid: int
    valid_rate: float | None
    daily_mean: float
    count_last_year: int
    valid_last_year: int
    count_yoy: Change
    valid_yoy: Change


class HeadlineOut(BaseModel):
    code: str
    name: str
    count: int
    last_year: int
    yoy: Change


class ClassNode(BaseModel):
    """A class, category or subcategory of the code tree, counting everything beneath it."""

    code: str
    name: str
    count: int
    last_year: int
    yoy: Change
    children: list[ClassNode]


class AreaCount(BaseModel):
    id: int
    name: str
    count: int
    valid: int
    community_id: int | None = None


class AreaRef(BaseModel):
    id: int
    name: str


class SeriesOut(BaseModel):
    counts: list[int]
    mom: list[float | None] = Field(description="Against the month before")
    yoy: list[float | None] = Field(description="Against the same month last year")


class ClassSeries(SeriesOut):
    code: str
    name: str


class TrendOut(BaseModel):
    months: list[str] = Field(description="YYYY-MM, whole months the period touches")
    total: SeriesOut
    classes: list[ClassSeries]


class OneDownOneUp(BaseModel):
    """一降一升: fewer incidents and a higher satisfaction rate than a year before."""

    incidents_now: int
    incidents_then: int
    incidents_down: bool
    satisfaction_now: float | None
    satisfaction_then: float | None
    followed_up_now: int
    followed_up_then: int
    satisfaction_up: bool | None
    achieved: bool


class DashboardOut(BaseModel):
    unit: str
    scope: ScopeOut
    period: PeriodOut
    compare: PeriodOut = Field(description="The same period a year before")
    totals: TotalsOut
    headline: list[HeadlineOut] = Field(description="Burglary and telecom fraud")
    classes: list[ClassNode]
    grids: list[AreaCount]
    communities: list[AreaCount]
    zero_grids: list[AreaRef]
    zero_communities: list[AreaRef]
    heatmap: list[list[int]] = Field(
        description="[hour 0-23, weekday 0 (Monday) - 6, incidents] for every hour of the week"
    )
    trend: TrendOut
    one_down_one_up: OneDownOneUp


@router.get(
    "/dashboard",
    response={200: DashboardOut, **READ_ERRORS},
    summary="Every figure of the incident dashboard of a station or district",
    by_alias=True,
)
def dashboard(
    request: HttpRequest,
    area: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    first: Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))] = None,
    last: Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))] = None,
) -> dict[str, Any]:
    scope, _stations = access_dashboard(request.user, area)
    d_first, d_last = default_period()
    return dashboard_for(scope, first=first or d_first, last=last or d_last)
