"""The disputes API: routing — proposals, routing and assignment of a case, extensions; and
the caller's notifications. The same services as the pages (`disputes.routing`,
`disputes.deadlines`). The mediators, the duty rota and the routing list are in `api_registry`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from fengqiao.accounts.models import Notification
from fengqiao.core.pagination import keyset_page
from fengqiao.core.schemas import CleanStr, Id, error_responses
from fengqiao.disputes import deadlines, registry, routing
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.choices import Channel, ExtensionState
from fengqiao.disputes.models import Dispute, Extension

router = Router(tags=["disputes"])

READ_ERRORS = error_responses(401, 403, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422)
MOVE_ERRORS = {**WRITE_ERRORS, **error_responses(409)}
Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="The version last read")]
Reason = Annotated[CleanStr, Field(max_length=1000)]


# --- output ---


class CandidateOut(BaseModel):
    mediator_id: int
    name: str
    open_cases: int
    on_duty: bool
    eligible: bool
    reasons: list[str] = Field(description="Why this member may not mediate the case")


class ProposalOut(BaseModel):
    rule_id: int | None
    channel: str
    mediator_id: int | None
    why: list[str]
    candidates: list[CandidateOut]


class RoutingOut(BaseModel):
    """The routing state of a case after a move."""

    id: int
    status: str
    channel: str
    mediator_id: int | None
    routing_rule_id: int | None
    assigned_at: datetime | None
    deadline: date | None
    extended_days: int
    supervision: str
    version: int


class ExtensionOut(BaseModel):
    id: int
    dispute_id: int
    days: int
    reason: str
    state: str
    requested_by_id: int | None
    requested_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str


class ExtensionPage(BaseModel):
    items: list[ExtensionOut]
    next_cursor: str | None


class NotificationOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


def routing_out(d: Dispute) -> RoutingOut:
    return RoutingOut(
        id=d.pk,
        status=d.status,
        channel=d.channel,
        mediator_id=d.mediator_id,
        routing_rule_id=d.routing_rule_id,
        assigned_at=d.assigned_at,
        deadline=d.deadline,
        extended_days=d.extended_days,
        supervision=d.supervision,
        version=d.version,
    )


def extension_out(e: Extension) -> ExtensionOut:
    return ExtensionOut(
        id=e.pk,
        dispute_id=e.dispute_id,
        days=e.days,
        reason=e.reason,
        state=e.state,
        requested_by_id=e.requested_by_id,
        requested_at=e.requested_at,
        decided_by_id=e.decided_by_id,
        decided_at=e.decided_at,
        decision_note=e.decision_note,
    )


# --- input ---


class VersionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: Version


class AssignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: Version
    mediator_id: Id | None = Field(None, description="Omit to assign the proposal")
    channel: Channel | None = None


class ReleaseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: Version
    reason: Reason


class ReassignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: Version
    mediator_id: Id
    reason: Reason


class ExtensionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    days: Annotated[int, Field(ge=-(2**31), le=2**31 - 1, description="1 to 30")]
    reason: Reason


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    note: Annotated[CleanStr, Field(max_length=200)] = ""


# --- one case ---


@router.get(
    "/{int:dispute_id}/proposal",
    response={200: ProposalOut, **READ_ERRORS},
    summary="The channel and mediator the routing list proposes, and why",
)
def case_proposal(request: HttpRequest, dispute_id: int) -> ProposalOut:
    d = access_dispute(request.user, dispute_id)
    p = routing.proposal(d, rule=d.routing_rule if d.routing_rule_id else None)
    return ProposalOut(
        rule_id=p.rule.pk if p.rule else None,
        channel=p.channel,
        mediator_id=p.mediator.pk if p.mediator else None,
        why=p.why,
        candidates=[
            CandidateOut(
                mediator_id=c.mediator.pk,
                name=c.mediator.name,
                open_cases=c.open_cases,
                on_duty=c.on_duty,
                eligible=c.eligible,
                reasons=c.reasons,
            )
            for c in p.candidates
        ],
    )


def _after(request: HttpRequest, dispute_id: int) -> RoutingOut:
    d = Dispute.objects.get(pk=dispute_id)
    return routing_out(d)


@router.post("/{int:dispute_id}/route", response={200: RoutingOut, **MOVE_ERRORS})
def case_route(request: HttpRequest, dispute_id: int, payload: VersionIn) -> RoutingOut:
    d = access_dispute(request.user, dispute_id)
    routing.dispute_route(actor=request.user, dispute=d, version=payload.version)
    return _after(request, dispute_id)


@router.post(
    "/{int:dispute_id}/assign",
    response={200: RoutingOut, **MOVE_ERRORS},
    summary="Assign to the proposal, or to the mediator given",
)
def case_assign(request: HttpRequest, dispute_id: int, payload: AssignIn) -> RoutingOut:
    d = access_dispute(request.user, dispute_id)
    routing.dispute_assign(
        actor=request.user,
        dispute=d,
        version=payload.version,
        mediator_id=payload.mediator_id,
        channel=str(payload.channel or ""),
    )
    return _after(request, dispute_id)


@router.post("/{int:dispute_id}/claim", response={200: RoutingOut, **MOVE_ERRORS})
def case_claim(request: HttpRequest, dispute_id: int, payload: VersionIn) -> RoutingOut:
    d = access_dispute(request.user, dispute_id)
    routing.dispute_claim(actor=request.user, dispute=d, version=payload.version)
    return _after(request, dispute_id)


@router.post("/{int:dispute_id}/release", response={200: RoutingOut, **MOVE_ERRORS})
def case_release(request: HttpRequest, dispute_id: int, payload: ReleaseIn) -> RoutingOut:
    d = access_dispute(request.user, dispute_id)
    routing.dispute_release(
        actor=request.user, dispute=d, version=payload.version, reason=payload.reason
    )
    return _after(request, dispute_id)


@router.post("/{int:dispute_id}/reassign", response={200: RoutingOut, **MOVE_ERRORS})
def case_reassign(request: HttpRequest, dispute_id: int, payload: ReassignIn) -> RoutingOut:
    d = access_dispute(request.user, dispute_id)
    routing.dispute_reassign(
        actor=request.user,
        dispute=d,
        version=payload.version,
        mediator_id=payload.mediator_id,
        reason=payload.reason,
    )
    return _after(request, dispute_id)


# --- extensions ---


@router.get("/{int:dispute_id}/extensions", response={200: list[ExtensionOut], **READ_ERRORS})
def case_extensions(request: HttpRequest, dispute_id: int) -> list[ExtensionOut]:
    d = access_dispute(request.user, dispute_id)
    return [extension_out(e) for e in d.extensions.all()]


@router.post(
    "/{int:dispute_id}/extensions",
    response={201: ExtensionOut, **MOVE_ERRORS},
    summary="Ask the chief for 1 to 30 more days",
)
def case_extension_request(
    request: HttpRequest, dispute_id: int, payload: ExtensionIn
) -> Status[ExtensionOut]:
    d = access_dispute(request.user, dispute_id)
    e = deadlines.extension_request(
        actor=request.user, dispute=d, days=payload.days, reason=payload.reason
    )
    return Status(201, extension_out(e))


@router.get(
    "/extensions",
    response={200: ExtensionPage, **READ_ERRORS},
    summary="Extension requests of the stations the caller decides for (chiefs)",
)
def extension_list(
    request: HttpRequest,
    state: ExtensionState = ExtensionState.PENDING,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ExtensionPage:
    stations = registry.stations_for(request.user, "dispute.route")
    qs = Extension.objects.filter(station_id__in=[s.pk for s in stations], state=state)
    page = keyset_page(qs, order=("-id",), cursor=cursor, size=limit)
    return ExtensionPage(items=[extension_out(e) for e in page.items], next_cursor=page.next_cursor)


@router.post(
    "/extensions/{int:extension_id}/decide",
    response={200: ExtensionOut, **MOVE_ERRORS},
    summary="Approve (the deadline moves) or reject (with a note) a request",
)
def extension_decide(request: HttpRequest, extension_id: int, payload: DecisionIn) -> ExtensionOut:
    e = Extension.objects.select_related("dispute").filter(pk=extension_id).first()
    if e is None:
        raise Http404
    access_dispute(request.user, e.dispute_id)
    e = deadlines.extension_decide(
        actor=request.user, extension=e, approve=payload.decision == "approve", note=payload.note
    )
    return extension_out(e)


# --- notifications ---


@router.get(
    "/notifications",
    response={200: NotificationPage, **READ_ERRORS},
    summary="The caller's notifications, newest first",
)
def notification_list(
    request: HttpRequest,
    unread: bool = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    qs: Any = Notification.objects.filter(user_id=int(request.user.pk or 0))
    if unread:
        qs = qs.filter(read_at__isnull=True)
    page = keyset_page(qs, order=("-id",), cursor=cursor, size=limit)
    return NotificationPage(
        items=[
            NotificationOut(
                id=n.pk,
                kind=n.kind,
                title=n.title,
                body=n.body,
                url=n.url,
                created_at=n.created_at,
                read_at=n.read_at,
            )
            for n in page.items
        ],
        next_cursor=page.next_cursor,
    )
