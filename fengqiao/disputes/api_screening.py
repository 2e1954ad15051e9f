"""The disputes API: screening visits (矛盾纠纷排查) and opening a dispute from one."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from fengqiao.core.schemas import CleanStr, Id, Latitude, Longitude, error_responses
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.api import DisputeOut, PartyIn, dispute_out
from fengqiao.disputes.choices import VisitResult
from fengqiao.disputes.models import ScreeningVisit
from fengqiao.disputes.screening import (
    access_visit,
    screening_visit_create,
    screening_visit_open_dispute,
    visit_page,
)
from fengqiao.disputes.validation import ADDRESS_MAX, NARRATIVE_MAX

router = Router(tags=["disputes"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422)
MOVE_ERRORS = {**WRITE_ERRORS, **error_responses(409)}


class VisitOut(BaseModel):
    """One screening visit; the dispute it opened, if any."""

    id: int
    station_id: int
    community_id: int
    community_name: str
    grid_id: int
    grid_name: str
    visited_at: datetime
    visitor: str
    visited: str
    address: str
    lat: float | None
    lng: float | None
    findings: str
    result: str
    dispute_id: int | None
    case_number: str | None


class VisitPage(BaseModel):
    items: list[VisitOut]
    next_cursor: str | None


def visit_out(v: ScreeningVisit) -> VisitOut:
    return VisitOut(
        id=v.pk,
        station_id=v.station_id,
        community_id=v.community_id,
        community_name=v.community.name,
        grid_id=v.area_id,
        grid_name=v.area.name,
        visited_at=v.visited_at,
        visitor=str(v.visitor),
        visited=v.visited,
        address=v.address,
        lat=v.lat,
        lng=v.lng,
        findings=v.findings,
        result=v.result,
        dispute_id=v.dispute_id,
        case_number=v.dispute.case_number if v.dispute is not None else None,
    )


class VisitIn(Schema):
    """A visit: a map point (lat/lng) or an address with a grid_id."""

    model_config = ConfigDict(extra="forbid")

    station_id: Id
    visited_at: datetime
    visited: Annotated[CleanStr, Field(max_length=100)]
    address: Annotated[CleanStr, Field(max_length=ADDRESS_MAX)]
    findings: Annotated[CleanStr, Field(max_length=NARRATIVE_MAX)]
    result: VisitResult
    lat: Latitude | None = None
    lng: Longitude | None = None
    grid_id: Id | None = None


class VisitDisputeIn(Schema):
    """The dispute a visit found: the intake's fields; source and station come from the visit."""

    model_config = ConfigDict(extra="forbid")

    narrative: Annotated[CleanStr, Field(max_length=NARRATIVE_MAX)] = ""
    occurred_at: datetime | None = None
    type_code: Annotated[CleanStr, Field(max_length=8)]
    scale: Annotated[CleanStr, Field(max_length=20)]
    parties: Annotated[list[PartyIn], Field(max_length=50)]
    lat: Latitude | None = None
    lng: Longitude | None = None
    address: Annotated[CleanStr, Field(max_length=ADDRESS_MAX)] = ""
    grid_id: Id | None = None
    people_count: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    amount: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None
    violence: bool = False
    death: bool = False
    special_groups: bool = False
    difficult: bool = False
    channels_involved: Annotated[int, Field(ge=1, le=2**15 - 1)] | None = None


@router.get(
    "/screening-visits",
    response={200: VisitPage, **READ_ERRORS},
    summary="Screening visits the caller may see, newest first, one key-based page at a time",
)
def visit_list(
    request: HttpRequest,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    community: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    grid: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    result: VisitResult | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> VisitPage:
    page = visit_page(
        user=request.user,
        cursor=cursor,
        size=limit,
        community_id=community,
        grid_id=grid,
        result=result,
        date_from=date_from,
        date_to=date_to,
    )
    return VisitPage(items=[visit_out(v) for v in page.items], next_cursor=page.next_cursor)


@router.get(
    "/screening-visits/{int:visit_id}",
    response={200: VisitOut, **READ_ERRORS},
    summary="One screening visit",
)
def visit_detail(request: HttpRequest, visit_id: int) -> VisitOut:
    return visit_out(access_visit(request.user, visit_id))


@router.post(
    "/screening-visits",
    response={201: VisitOut, **WRITE_ERRORS},
    summary="Record a screening visit (those who may register disputes)",
)
def visit_create(request: HttpRequest, payload: VisitIn) -> Status[VisitOut]:
    visit = screening_visit_create(actor=request.user, **payload.model_dump())
    return Status(201, visit_out(access_visit(request.user, visit.pk)))


@router.post(
    "/screening-visits/{int:visit_id}/dispute",
    response={200: DisputeOut, 201: DisputeOut, **MOVE_ERRORS},
    summary="Open the dispute a visit found; a repeat answers 200 with the same case",
)
def visit_open_dispute(
    request: HttpRequest, visit_id: int, payload: VisitDisputeIn
) -> Status[DisputeOut]:
    visit = access_visit(request.user, visit_id)
    already = visit.dispute_id is not None
    values = payload.model_dump()
    values["parties"] = [p.model_dump() for p in payload.parties]
    values["narrative"] = values["narrative"] or visit.findings
    values["occurred_at"] = values["occurred_at"] or visit.visited_at
    if values["lat"] is None and values["grid_id"] is None:
        values.update(lat=visit.lat, lng=visit.lng)
        if visit.lat is None:
            values["grid_id"] = visit.area_id
    values["address"] = values["address"] or visit.address
    dispute = screening_visit_open_dispute(actor=request.user, visit=visit, **values)
    replayed = already or getattr(dispute, "replayed", False)
    return Status(200 if replayed else 201, dispute_out(access_dispute(request.user, dispute.pk)))
