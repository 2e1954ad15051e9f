"""The disputes API: how the case ends — close, fail, terminate, withdraw — and the referral
(its outcome and its package).

The same services as the pages (`disputes.agreements`, `disputes.outcomes`): an illegal move is
a 409 with the reason, a bad input a 422 per field, a stale version a 409 conflict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from fengqiao.core.schemas import CleanStr, Id, error_responses
from fengqiao.disputes import agreements, outcomes
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.api import DisputeOut, dispute_out
from fengqiao.disputes.api_mediation import (
    MOVE_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    Short,
    Text,
    Version,
    _handle,
)
from fengqiao.disputes.choices import ReferralTarget
from fengqiao.disputes.models import Dispute, Referral
from fengqiao.disputes.referral_package import package_download

router = Router(tags=["disputes"])


# --- output ---


class ReferralOut(BaseModel):
    id: int
    dispute_id: int
    target: str
    receiver: str
    reason: str
    referred_at: datetime
    outcome: str
    outcome_note: str
    outcome_at: datetime | None


def referral_out(r: Referral) -> ReferralOut:
    return ReferralOut(
        id=r.pk,
        dispute_id=r.dispute_id,
        target=r.target,
        receiver=r.receiver,
        reason=r.reason,
        referred_at=r.referred_at,
        outcome=r.outcome,
        outcome_note=r.outcome_note,
        outcome_at=r.outcome_at,
    )


# --- input ---


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: Short = ""
    version: Version


class WithdrawIn(ReasonIn):
    party_id: Id | None = Field(None, description="The party who withdrew, if one did")


class ReferralIn(Schema):
    model_config = ConfigDict(extra="forbid")

    target: ReferralTarget
    receiver: Annotated[CleanStr, Field(max_length=500)]
    reason: Short
    version: Version


class ReferralOutcomeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    outcome: Annotated[CleanStr, Field(max_length=20, description="accepted, resolved, declined")]
    note: Text = ""


# --- helpers ---


def _referral(dispute: Dispute, referral_id: int) -> Referral:
    return get_object_or_404(
        Referral.objects.select_related("dispute"), dispute=dispute, pk=referral_id
    )


def _case(request: HttpRequest, dispute_id: int) -> DisputeOut:
    return dispute_out(access_dispute(request.user, dispute_id))


# --- how the case ends ---


@router.post(
    "/{int:dispute_id}/close",
    response={200: DisputeOut, **MOVE_ERRORS},
    summary="Close a case whose agreement is in effect (结案)",
)
def dispute_close(request: HttpRequest, dispute_id: int, payload: ReasonIn) -> DisputeOut:
    dispute = _handle(request, dispute_id)
    agreements.dispute_close(
        actor=request.user, dispute=dispute, version=payload.version, reason=payload.reason
    )
    return _case(request, dispute_id)


@router.post(
    "/{int:dispute_id}/fail",
    response={200: DisputeOut, **MOVE_ERRORS},
    summary="Record that mediation failed, with the reason",
)
def dispute_fail(request: HttpRequest, dispute_id: int, payload: ReasonIn) -> DisputeOut:
    dispute = _handle(request, dispute_id)
    outcomes.dispute_fail(
        actor=request.user, dispute=dispute, version=payload.version, reason=payload.reason
    )
    return _case(request, dispute_id)


@router.post(
    "/{int:dispute_id}/terminate",
    response={200: DisputeOut, **MOVE_ERRORS},
    summary="End the case without an agreement (终止), with the reason",
)
def dispute_terminate(request: HttpRequest, dispute_id: int, payload: ReasonIn) -> DisputeOut:
    dispute = _handle(request, dispute_id)
    outcomes.dispute_terminate(
        actor=request.user, dispute=dispute, version=payload.version, reason=payload.reason
    )
    return _case(request, dispute_id)


@router.post(
    "/{int:dispute_id}/withdraw",
    response={200: DisputeOut, **MOVE_ERRORS},
    summary="Record a party's withdrawal (撤回), with the reason",
)
def dispute_withdraw(request: HttpRequest, dispute_id: int, payload: WithdrawIn) -> DisputeOut:
    dispute = _handle(request, dispute_id)
    outcomes.dispute_withdraw(
        actor=request.user,
        dispute=dispute,
        version=payload.version,
        reason=payload.reason,
        party=payload.party_id,
    )
    return _case(request, dispute_id)


@router.get(
    "/{int:dispute_id}/referrals",
    response={200: list[ReferralOut], **READ_ERRORS},
    summary="The case's referrals",
)
def referral_list(request: HttpRequest, dispute_id: int) -> list[ReferralOut]:
    dispute = _handle(request, dispute_id)
    return [referral_out(r) for r in Referral.objects.filter(dispute=dispute).order_by("id")]


@router.post(
    "/{int:dispute_id}/referrals",
    response={201: ReferralOut, **MOVE_ERRORS},
    summary="Refer a failed case (failed → referred) to court, arbitration, labour, petitions",
)
def referral_create(
    request: HttpRequest, dispute_id: int, payload: ReferralIn
) -> Status[ReferralOut]:
    dispute = _handle(request, dispute_id)
    referral = outcomes.referral_create(
        actor=request.user,
        dispute=dispute,
        version=payload.version,
        target=payload.target,
        receiver=payload.receiver,
        reason=payload.reason,
    )
    return Status(201, referral_out(referral))


@router.post(
    "/{int:dispute_id}/referrals/{int:referral_id}/outcome",
    response={200: ReferralOut, **WRITE_ERRORS},
    summary="Record what the receiving body did: accepted, resolved or declined",
)
def referral_outcome(
    request: HttpRequest, dispute_id: int, referral_id: int, payload: ReferralOutcomeIn
) -> ReferralOut:
    dispute = _handle(request, dispute_id)
    referral = outcomes.referral_outcome_record(
        actor=request.user,
        referral=_referral(dispute, referral_id),
        outcome=payload.outcome,
        note=payload.note,
    )
    return referral_out(referral)


@router.get(
    "/{int:dispute_id}/referrals/{int:referral_id}/package",
    response={200: None, **error_responses(401, 403, 404)},
    summary="The referral package (ZIP: summary, parties masked, timeline, minutes, files)",
)
def referral_package(request: HttpRequest, dispute_id: int, referral_id: int) -> HttpResponse:
    dispute = _handle(request, dispute_id)
    filename, data = package_download(actor=request.user, referral=_referral(dispute, referral_id))
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
