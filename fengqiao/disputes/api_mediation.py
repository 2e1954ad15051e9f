"""The disputes API: mediation sessions, and the agreement and its signatures.

The same services as the pages (`disputes.sessions`, `disputes.agreements`): an illegal move is a
409 with the reason, bad amounts, dates or names a 422 per field, a stale version a 409 conflict.
How the case ends (close, fail, terminate, withdraw, referral) is in `api_outcomes`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from fengqiao.core.pagination import keyset_page
from fengqiao.core.schemas import CleanStr, Id, error_responses
from fengqiao.disputes import agreements, sessions
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.choices import AgreementForm
from fengqiao.disputes.models import Agreement, Dispute, MediationSession

router = Router(tags=["disputes"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422)
MOVE_ERRORS = {**WRITE_ERRORS, **error_responses(409)}
TEXT_MAX = 5000

Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="The version last read")]
Text = Annotated[CleanStr, Field(max_length=TEXT_MAX)]
Short = Annotated[CleanStr, Field(max_length=500)]


# --- output ---


class AttendanceOut(BaseModel):
    id: int
    party_id: int | None
    name: str
    capacity: str
    attended: bool | None
    note: str


class SessionOut(BaseModel):
    id: int
    dispute_id: int
    scheduled_at: datetime
    place: str
    state: str
    mediators: list[int]
    mediator_names: list[str]
    attendance: list[AttendanceOut]
    minutes: str
    held_at: datetime | None
    version: int


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None


class ItemOut(BaseModel):
    id: int
    obligor_id: int
    obligee_id: int | None
    description: str
    amount: Decimal
    due_date: date | None


class SignatureOut(BaseModel):
    party_id: int
    party_name: str
    state: str
    at: datetime | None
    note: str


class AgreementOut(BaseModel):
    id: int
    dispute_id: int
    number: str
    form: str
    outcome: str
    facts: str
    terms: str
    performance: str
    concluded_at: datetime | None
    items: list[ItemOut]
    signatures: list[SignatureOut]
    version: int


def session_out(s: MediationSession) -> SessionOut:
    mediators = list(s.mediators.all())
    return SessionOut(
        id=s.pk,
        dispute_id=s.dispute_id,
        scheduled_at=s.scheduled_at,
        place=s.place,
        state=s.state,
        mediators=[m.pk for m in mediators],
        mediator_names=[m.name for m in mediators],
        attendance=[
            AttendanceOut(
                id=a.pk,
                party_id=a.party_id,
                name=a.party.name if a.party is not None else a.name,
                capacity=a.capacity,
                attended=a.attended,
                note=a.note,
            )
            for a in s.attendance.all()
        ],
        minutes=s.minutes,
        held_at=s.held_at,
        version=s.version,
    )


def agreement_out(a: Agreement) -> AgreementOut:
    names = dict(a.dispute.parties.values_list("pk", "name"))
    return AgreementOut(
        id=a.pk,
        dispute_id=a.dispute_id,
        number=a.number,
        form=a.form,
        outcome=a.outcome,
        facts=a.facts,
        terms=a.terms,
        performance=a.performance,
        concluded_at=a.concluded_at,
        items=[
            ItemOut(
                id=i.pk,
                obligor_id=i.obligor_id,
                obligee_id=i.obligee_id,
                description=i.description,
                amount=i.amount,
                due_date=i.due_date,
            )
            for i in a.items.order_by("id")
        ],
        signatures=[
            SignatureOut(
                party_id=s.party_id,
                party_name=names.get(s.party_id, ""),
                state=s.state,
                at=s.at,
                note=s.note,
            )
            for s in a.signatures.order_by("id")
        ],
        version=a.version,
    )


# --- input ---


class OtherIn(Schema):
    """A participant who is not a party: a relative, a witness, a village cadre."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[CleanStr, Field(max_length=100)] = ""
    capacity: Annotated[CleanStr, Field(max_length=100)] = ""


class SessionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    scheduled_at: datetime
    place: Annotated[CleanStr, Field(max_length=500)]
    mediator_ids: Annotated[list[Id], Field(max_length=50)] = []
    party_ids: Annotated[list[Id], Field(max_length=50)] | None = Field(
        None, description="Expected parties; all the case's parties when left out"
    )
    others: Annotated[list[OtherIn], Field(max_length=50)] = []


class SessionUpdateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    scheduled_at: datetime
    place: Annotated[CleanStr, Field(max_length=500)]
    mediator_ids: Annotated[list[Id], Field(max_length=50)] = []
    others: Annotated[list[OtherIn], Field(max_length=50)] | None = None
    version: Version


class AttendanceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    id: Id = Field(description="An attendance row of this session (SessionOut.attendance.id)")
    attended: bool | None
    note: Annotated[CleanStr, Field(max_length=500)] = ""


class RecordIn(Schema):
    model_config = ConfigDict(extra="forbid")

    minutes: Annotated[CleanStr, Field(max_length=40000)]
    held_at: datetime | None = None
    attendance: Annotated[list[AttendanceIn], Field(max_length=100)] = []
    version: Version


class CancelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: Short = ""
    version: Version


class ItemIn(Schema):
    model_config = ConfigDict(extra="forbid")

    obligor_id: Id
    obligee_id: Id | None = None
    description: Annotated[CleanStr, Field(max_length=1000)]
    amount: Annotated[Decimal, Field(allow_inf_nan=False)] = Decimal(0)
    due_date: date | None = None


class AgreementIn(Schema):
    model_config = ConfigDict(extra="forbid")

    form: AgreementForm
    outcome: Annotated[CleanStr, Field(max_length=20, description="success or partial")] = "success"
    facts: Text
    terms: Text
    performance: Annotated[CleanStr, Field(max_length=1000)] = ""
    items: Annotated[list[ItemIn], Field(max_length=100)] = []


class AgreementUpdateIn(AgreementIn):
    version: Version


class SignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    party_id: Id
    state: Annotated[CleanStr, Field(max_length=20, description="signed or declined")]
    note: Short = ""
    version: Version


# --- helpers ---


def _handle(request: HttpRequest, dispute_id: int) -> Dispute:
    return access_dispute(request.user, dispute_id)


def _session(dispute: Dispute, session_id: int) -> MediationSession:
    return get_object_or_404(
        MediationSession.objects.select_related("dispute").prefetch_related(
            "mediators", "attendance__party"
        ),
        dispute=dispute,
        pk=session_id,
    )


def _agreement(dispute: Dispute, agreement_id: int) -> Agreement:
    return get_object_or_404(
        Agreement.objects.select_related("dispute"), dispute=dispute, pk=agreement_id
    )


# --- sessions ---


@router.get(
    "/{int:dispute_id}/sessions",
    response={200: SessionPage, **READ_ERRORS},
    summary="The case's mediation sessions, in scheduled order, one key-based page at a time",
)
def session_list(
    request: HttpRequest,
    dispute_id: int,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SessionPage:
    dispute = _handle(request, dispute_id)
    qs = MediationSession.objects.filter(dispute=dispute).prefetch_related(
        "mediators", "attendance__party"
    )
    page = keyset_page(qs, order=("id",), cursor=cursor, size=limit)
    return SessionPage(items=[session_out(s) for s in page.items], next_cursor=page.next_cursor)


@router.post(
    "/{int:dispute_id}/sessions",
    response={201: SessionOut, **MOVE_ERRORS},
    summary="Schedule a session: time, place, mediators, expected participants",
)
def session_create(request: HttpRequest, dispute_id: int, payload: SessionIn) -> Status[SessionOut]:
    dispute = _handle(request, dispute_id)
    session = sessions.session_schedule(
        actor=request.user,
        dispute=dispute,
        scheduled_at=payload.scheduled_at,
        place=payload.place,
        mediator_ids=payload.mediator_ids,
        party_ids=payload.party_ids,
        others=[o.model_dump() for o in payload.others],
    )
    return Status(201, session_out(_session(dispute, session.pk)))


@router.put(
    "/{int:dispute_id}/sessions/{int:session_id}",
    response={200: SessionOut, **MOVE_ERRORS},
    summary="Change a scheduled session; 409 conflict on a stale version",
)
def session_update(
    request: HttpRequest, dispute_id: int, session_id: int, payload: SessionUpdateIn
) -> SessionOut:
    dispute = _handle(request, dispute_id)
    sessions.session_update(
        actor=request.user,
        session=_session(dispute, session_id),
        version=payload.version,
        scheduled_at=payload.scheduled_at,
        place=payload.place,
        mediator_ids=payload.mediator_ids,
        others=None if payload.others is None else [o.model_dump() for o in payload.others],
    )
    return session_out(_session(dispute, session_id))


@router.post(
    "/{int:dispute_id}/sessions/{int:session_id}/record",
    response={200: SessionOut, **MOVE_ERRORS},
    summary="Record a session as held: attendance and minutes; the first starts mediation",
)
def session_record(
    request: HttpRequest, dispute_id: int, session_id: int, payload: RecordIn
) -> SessionOut:
    dispute = _handle(request, dispute_id)
    sessions.session_record(
        actor=request.user,
        session=_session(dispute, session_id),
        version=payload.version,
        minutes=payload.minutes,
        held_at=payload.held_at,
        attendance={a.id: a.attended for a in payload.attendance},
        notes={a.id: a.note for a in payload.attendance if a.note},
    )
    return session_out(_session(dispute, session_id))


@router.post(
    "/{int:dispute_id}/sessions/{int:session_id}/cancel",
    response={200: SessionOut, **MOVE_ERRORS},
    summary="Cancel a session not yet held",
)
def session_cancel(
    request: HttpRequest, dispute_id: int, session_id: int, payload: CancelIn
) -> SessionOut:
    dispute = _handle(request, dispute_id)
    sessions.session_cancel(
        actor=request.user,
        session=_session(dispute, session_id),
        version=payload.version,
        reason=payload.reason,
    )
    return session_out(_session(dispute, session_id))


# --- the agreement ---


def _agreement_values(payload: AgreementIn) -> dict[str, Any]:
    return {
        "form": payload.form,
        "outcome": payload.outcome,
        "facts": payload.facts,
        "terms": payload.terms,
        "performance": payload.performance,
        "items": [i.model_dump() for i in payload.items],
    }


@router.get(
    "/{int:dispute_id}/agreements",
    response={200: list[AgreementOut], **READ_ERRORS},
    summary="The case's agreements (a reopened case may have a second one), oldest first",
)
def agreement_list(request: HttpRequest, dispute_id: int) -> list[AgreementOut]:
    dispute = _handle(request, dispute_id)
    return [
        agreement_out(a)
        for a in Agreement.objects.filter(dispute=dispute).select_related("dispute").order_by("id")
    ]


@router.post(
    "/{int:dispute_id}/agreements",
    response={201: AgreementOut, **MOVE_ERRORS},
    summary="Draft the agreement of a case being mediated; 409 on a case never mediated",
)
def agreement_create(
    request: HttpRequest, dispute_id: int, payload: AgreementIn
) -> Status[AgreementOut]:
    dispute = _handle(request, dispute_id)
    agreement = agreements.agreement_create(
        actor=request.user, dispute=dispute, **_agreement_values(payload)
    )
    return Status(201, agreement_out(_agreement(dispute, agreement.pk)))


@router.get(
    "/{int:dispute_id}/agreements/{int:agreement_id}",
    response={200: AgreementOut, **READ_ERRORS},
    summary="One agreement with its items and signatures",
)
def agreement_get(request: HttpRequest, dispute_id: int, agreement_id: int) -> AgreementOut:
    dispute = _handle(request, dispute_id)
    return agreement_out(_agreement(dispute, agreement_id))


@router.put(
    "/{int:dispute_id}/agreements/{int:agreement_id}",
    response={200: AgreementOut, **MOVE_ERRORS},
    summary="Change an agreement not yet in effect; signatures are asked again",
)
def agreement_update(
    request: HttpRequest, dispute_id: int, agreement_id: int, payload: AgreementUpdateIn
) -> AgreementOut:
    dispute = _handle(request, dispute_id)
    agreements.agreement_update(
        actor=request.user,
        agreement=_agreement(dispute, agreement_id),
        version=payload.version,
        **_agreement_values(payload),
    )
    return agreement_out(_agreement(dispute, agreement_id))


@router.post(
    "/{int:dispute_id}/agreements/{int:agreement_id}/sign",
    response={200: AgreementOut, **MOVE_ERRORS},
    summary="Record a party's signature or refusal; the last signature puts it in effect",
)
def agreement_sign(
    request: HttpRequest, dispute_id: int, agreement_id: int, payload: SignIn
) -> AgreementOut:
    dispute = _handle(request, dispute_id)
    agreements.agreement_sign(
        actor=request.user,
        agreement=_agreement(dispute, agreement_id),
        party=payload.party_id,
        state=payload.state,
        note=payload.note,
        version=payload.version,
    )
    return agreement_out(_agreement(dispute, agreement_id))
