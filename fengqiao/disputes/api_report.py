"""The disputes API: the monthly report (人民调解工作月报表), as JSON and as XLSX.

The same selector as the page (`report.monthly_report`, read from the rollups). Without
`station_id` or `district_id` a chief gets their station and an analyst their district; a
station or district outside the caller's scope is 403.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from typing import Annotated, Any

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from pydantic import BaseModel, Field

from fengqiao.core.errors import ValidationFailed
from fengqiao.core.schemas import error_responses
from fengqiao.disputes.report import monthly_report
from fengqiao.disputes.report_xlsx import audit_report_download, write_report_xlsx

router = Router(tags=["disputes"])

READ_ERRORS = error_responses(401, 403, 422)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Year = Annotated[int, Query(ge=2000, le=2100)]
Month = Annotated[int, Query(ge=1, le=12)]
AreaId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


class Figures(BaseModel):
    """One set of figures: counts, sums, and rates (null when their denominator is zero)."""

    received: int
    screened: int
    people: int
    amount: Decimal = Field(description="Amount involved, yuan")
    concluded: int = Field(description="Mediated cases finished: success, partial or failed")
    succeeded: int
    failed: int
    on_time: int
    overdue: int = Field(description="Mediated cases finished after their deadline")
    days_total: int
    prevented: int = Field(description="防止民转刑: succeeded cases with threat/violence/red")
    prevented_people: int
    followed_up: int
    satisfied: int
    followups_due: int
    followups_due_done: int
    success_rate: float | None
    on_time_rate: float | None
    mean_days: float | None
    followup_rate: float | None
    satisfaction_rate: float | None


class BreakdownRow(Figures):
    key: str = Field(description="Code, id, or '' for none")
    label: str


class Change(BaseModel):
    delta: float | None
    pct: float | None = Field(description="Relative change; null for rates and from zero")
    dir: str = Field(description="up, down or ''")


class Changes(BaseModel):
    mom: Change = Field(description="环比: against the previous month")
    yoy: Change = Field(description="同比: against the same month last year")


class TrendPoint(BaseModel):
    month: str
    received: int
    concluded: int
    succeeded: int
    screened: int


class Period(BaseModel):
    start: str
    end: str


class ScopeOut(BaseModel):
    kind: str = Field(description="station, district or all")
    id: int | None
    station_ids: list[int]


class ReportOut(BaseModel):
    """The monthly report: totals, the previous month, last year's month, changes, breakdowns."""

    year: int
    month: int
    period: Period
    unit: str
    scope: ScopeOut
    totals: Figures
    previous: Figures
    last_year: Figures
    changes: dict[str, Changes]
    open_overdue: int = Field(description="Cases open today past their deadline (live)")
    breakdowns: dict[str, list[BreakdownRow]]
    trend: list[TrendPoint]


def _area(station_id: int | None, district_id: int | None) -> int | None:
    if station_id is not None and district_id is not None:
        raise ValidationFailed(
            _("请只选择派出所或分局之一。"),
            fields={"district_id": [_("不能与派出所同时选择")]},
        )
    return station_id if station_id is not None else district_id


@router.get(
    "/report",
    response={200: ReportOut, **READ_ERRORS},
    summary="The monthly report of a station or district, from the rollups",
)
def report_json(
    request: HttpRequest,
    year: Year,
    month: Month,
    station_id: AreaId = None,
    district_id: AreaId = None,
) -> dict[str, Any]:
    return monthly_report(
        user=request.user, year=year, month=month, area_id=_area(station_id, district_id)
    )


@router.get(
    "/report.xlsx",
    response=READ_ERRORS,
    summary="The monthly report as the judicial bureau's XLSX (audited)",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The workbook",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def report_download(
    request: HttpRequest,
    year: Year,
    month: Month,
    station_id: AreaId = None,
    district_id: AreaId = None,
) -> FileResponse:
    report = monthly_report(
        user=request.user, year=year, month=month, area_id=_area(station_id, district_id)
    )
    fh = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        write_report_xlsx(report, fh)
        fh.seek(0)
        audit_report_download(actor=request.user, report=report, fmt="xlsx")
    except BaseException:
        fh.close()
        raise
    return FileResponse(
        fh,
        as_attachment=True,
        filename=f"dispute-report-{year:04d}{month:02d}.xlsx",
        content_type=XLSX,
    )
