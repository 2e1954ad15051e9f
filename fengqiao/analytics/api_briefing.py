"""The API of the morning briefing and its orders, under /api/v1/analytics/.

The same services and selectors as the pages: a briefing's `content` is exactly what the
page shows; orders move through the same transition table (an illegal move is a 409 with
the reason).
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status
from pydantic import BaseModel, Field

from fengqiao.accounts.access import scope_for, user_can
from fengqiao.analytics.access import access_briefing, access_order, briefing_page, order_page
from fengqiao.analytics.briefing_xlsx import briefing_filename, write_briefing_xlsx
from fengqiao.analytics.models import Briefing, Order
from fengqiao.analytics.orders import order_acknowledge, order_cancel, order_complete, order_issue
from fengqiao.analytics.services import briefing_generate
from fengqiao.core.schemas import CleanStr, Id, error_responses

router = Router(tags=["analytics"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READ = error_responses(401, 403, 404)
WRITE = error_responses(401, 403, 404, 409, 422)
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=100)]
OptId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


class BriefingSummary(BaseModel):
    id: int
    station_id: int
    station: str
    day: date
    kind: str = Field(description="scheduled (the periodic task) or on_demand")
    generated_at: datetime
    generated_by: str | None


class BriefingOut(BriefingSummary):
    content: dict[str, Any] = Field(
        description="Every section's figures as stored: overnight, classes, grids, hotspots, "
        "repeats, disputes"
    )


class BriefingPage(BaseModel):
    items: list[BriefingSummary]
    next_cursor: str | None


class GenerateIn(BaseModel):
    station_id: Id
    day: date | None = Field(default=None, description="The morning it is for; default today")


class OrderOut(BaseModel):
    id: int
    station_id: int
    briefing_id: int | None
    number: str
    title: str
    instructions: str
    assignee_id: int | None
    assignee: str | None
    team: str
    due_at: datetime
    overdue: bool
    status: str
    issued_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_id: int | None
    done_at: datetime | None
    done_by_id: int | None
    result: str
    cancelled_at: datetime | None
    cancel_reason: str
    version: int


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class OrderIn(BaseModel):
    station_id: Id
    title: CleanStr = Field(max_length=100)
    instructions: CleanStr = Field(max_length=4000)
    due_at: datetime
    assignee_id: Id | None = None
    team: CleanStr = Field(default="", max_length=60)
    briefing_id: Id | None = None


class VersionIn(BaseModel):
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class CompleteIn(VersionIn):
    result: CleanStr = Field(max_length=4000)


class CancelIn(VersionIn):
    reason: CleanStr = Field(max_length=4000)


def _summary(b: Briefing) -> dict[str, Any]:
    return {
        "id": b.pk,
        "station_id": b.station_id,
        "station": b.station.name,
        "day": b.day,
        "kind": b.kind,
        "generated_at": b.generated_at,
        "generated_by": str(b.generated_by) if b.generated_by else None,
    }


def _order(o: Order) -> dict[str, Any]:
    return {
        "id": o.pk,
        "station_id": o.station_id,
        "briefing_id": o.briefing_id,
        "number": o.number,
        "title": o.title,
        "instructions": o.instructions,
        "assignee_id": o.assignee_id,
        "assignee": str(o.assignee) if o.assignee_id else None,
        "team": o.team,
        "due_at": o.due_at,
        "overdue": o.open and o.due_at < timezone.now(),
        "status": o.status,
        "issued_at": o.issued_at,
        "acknowledged_at": o.acknowledged_at,
        "acknowledged_by_id": o.acknowledged_by_id,
        "done_at": o.done_at,
        "done_by_id": o.done_by_id,
        "result": o.result,
        "cancelled_at": o.cancelled_at,
        "cancel_reason": o.cancel_reason,
        "version": o.version,
    }


@router.get(
    "/briefings",
    response={200: BriefingPage, **READ},
    summary="The briefings the caller may read, newest morning first (keyset paged)",
)
def briefings_list(
    request: HttpRequest, station_id: OptId = None, cursor: Cursor = None, limit: Limit = 30
) -> dict[str, Any]:
    if not user_can(request.user, "briefing.view"):
        raise PermissionDenied
    page = briefing_page(request.user, station_id=station_id, cursor=cursor, size=limit)
    return {"items": [_summary(b) for b in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/briefings",
    response={201: BriefingOut, **WRITE},
    summary="Generate a station's briefing now (on demand; the chief)",
)
def briefings_generate(request: HttpRequest, payload: GenerateIn) -> Status:
    if not user_can(request.user, "briefing.view", station_id=payload.station_id):
        raise Http404
    b = briefing_generate(actor=request.user, station_id=payload.station_id, day=payload.day)
    b = access_briefing(request.user, b.pk)
    return Status(201, {**_summary(b), "content": b.content})


@router.get(
    "/briefings/{int:briefing_id}",
    response={200: BriefingOut, **READ},
    summary="One briefing with its content (every section's figures)",
)
def briefings_get(request: HttpRequest, briefing_id: int) -> dict[str, Any]:
    b = access_briefing(request.user, briefing_id)
    return {**_summary(b), "content": b.content}


@router.get(
    "/briefings/{int:briefing_id}.xlsx",
    response=READ,
    summary="One briefing as XLSX, a sheet per section (no personal data)",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The workbook",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def briefings_xlsx(request: HttpRequest, briefing_id: int) -> FileResponse:
    b = access_briefing(request.user, briefing_id)
    fh = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        write_briefing_xlsx(b, fh)
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    return FileResponse(fh, as_attachment=True, filename=briefing_filename(b), content_type=XLSX)


@router.get(
    "/orders",
    response={200: OrderPage, **READ},
    summary="Orders: the caller's own (mine), the open or overdue ones, or all they may see",
)
def orders_list(
    request: HttpRequest,
    view: Literal["mine", "open", "overdue", "all"] = "all",
    station_id: OptId = None,
    briefing_id: OptId = None,
    cursor: Cursor = None,
    limit: Limit = 30,
) -> dict[str, Any]:
    if scope_for(request.user, "order.handle").empty:
        raise PermissionDenied
    page = order_page(
        request.user,
        view=view,
        station_id=station_id,
        briefing_id=briefing_id,
        cursor=cursor,
        size=limit,
    )
    return {"items": [_order(o) for o in page.items], "next_cursor": page.next_cursor}


@router.post("/orders", response={201: OrderOut, **WRITE}, summary="Issue an order (the chief)")
def orders_issue(request: HttpRequest, payload: OrderIn) -> Status:
    if not user_can(request.user, "order.handle", station_id=payload.station_id):
        raise Http404
    o = order_issue(
        actor=request.user,
        station_id=payload.station_id,
        title=payload.title,
        instructions=payload.instructions,
        due_at=payload.due_at,
        assignee_id=payload.assignee_id,
        team=payload.team,
        briefing_id=payload.briefing_id,
    )
    return Status(201, _order(o))


@router.get("/orders/{int:order_id}", response={200: OrderOut, **READ}, summary="One order")
def orders_get(request: HttpRequest, order_id: int) -> dict[str, Any]:
    return _order(access_order(request.user, order_id))


@router.post(
    "/orders/{int:order_id}/acknowledge",
    response={200: OrderOut, **WRITE},
    summary="Acknowledge (签收) an issued order",
)
def orders_acknowledge(
    request: HttpRequest, order_id: int, payload: VersionIn | None = None
) -> dict[str, Any]:
    o = access_order(request.user, order_id)
    version = payload.version if payload else None
    return _order(order_acknowledge(actor=request.user, order=o, version=version))


@router.post(
    "/orders/{int:order_id}/complete",
    response={200: OrderOut, **WRITE},
    summary="Report an acknowledged order done, with the result",
)
def orders_complete(request: HttpRequest, order_id: int, payload: CompleteIn) -> dict[str, Any]:
    o = access_order(request.user, order_id)
    return _order(
        order_complete(actor=request.user, order=o, result=payload.result, version=payload.version)
    )


@router.post(
    "/orders/{int:order_id}/cancel",
    response={200: OrderOut, **WRITE},
    summary="Cancel (撤销) an order not yet done, with a reason (the chief)",
)
def orders_cancel(request: HttpRequest, order_id: int, payload: CancelIn) -> dict[str, Any]:
    o = access_order(request.user, order_id)
    return _order(
        order_cancel(actor=request.user, order=o, reason=payload.reason, version=payload.version)
    )
