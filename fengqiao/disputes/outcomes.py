"""How a mediation ends without an agreement: failed, terminated, withdrawn, or referred to
another body, and what that body did with the referral.

Every entry is written against the dispute, so the case timeline shows each step. Status moves
go through `services.dispute_transition`; a case that ends has its sessions still scheduled
cancelled, in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.core.audit import audit_record, diff, snapshot
from fengqiao.disputes import services
from fengqiao.disputes.choices import Consent, ReferralOutcome, ReferralTarget, SessionState, Status
from fengqiao.disputes.mediation_checks import (
    NOTE_MAX,
    REASON_MAX,
    TEXT_MAX,
    _bounded,
    _invalid,
    _locked_dispute,
    _party_id,
    _require,
    _text,
    _user,
)
from fengqiao.disputes.models import Dispute, MediationSession, Party, Referral
from fengqiao.disputes.validation import Errors

RECEIVER_MAX = 100


def _cancel_open_sessions(actor: Any, dispute: Dispute, reason: str) -> None:
    """Cancel the sessions still scheduled on a case that has ended."""
    open_ids = list(
        dispute.sessions.filter(state=SessionState.SCHEDULED).values_list("pk", flat=True)
    )
    if not open_ids:
        return
    MediationSession.objects.filter(pk__in=open_ids).update(
        state=SessionState.CANCELLED, updated_at=timezone.now(), updated_by=_user(actor)
    )
    audit_record(
        actor=actor,
        action="disputes.session.cancelled",
        obj=dispute,
        changes={"session_ids": open_ids, "reason": reason},
    )


def dispute_fail(*, actor: Any, dispute: Dispute, version: int, reason: str) -> Dispute:
    """Record that mediation failed, with the reason; the case may then be referred."""
    _require(actor, dispute)
    with transaction.atomic():
        current = services.dispute_transition(
            actor=actor, dispute=dispute, to=Status.FAILED, version=version, reason=reason
        )
        _cancel_open_sessions(actor, current, reason)
    return current


def dispute_terminate(*, actor: Any, dispute: Dispute, version: int, reason: str) -> Dispute:
    """End the case without an agreement (终止), with the reason."""
    _require(actor, dispute)
    with transaction.atomic():
        current = services.dispute_transition(
            actor=actor, dispute=dispute, to=Status.TERMINATED, version=version, reason=reason
        )
        _cancel_open_sessions(actor, current, reason)
    return current


def dispute_withdraw(
    *,
    actor: Any,
    dispute: Dispute,
    version: int,
    reason: str,
    party: Party | int | None = None,
) -> Dispute:
    """Record that a party withdrew (撤回); their refusal to go on is recorded on the party too."""
    _require(actor, dispute)
    member: Party | None = None
    if party not in (None, ""):
        member = dispute.parties.filter(pk=_party_id(party) or 0).first()
        if member is None:
            raise _invalid({"party_id": [_("该当事人不属于本案。")]})
    reason = _text(reason)
    with transaction.atomic():
        said = reason
        if member is not None and reason:
            said = _("%(name)s撤回：%(reason)s") % {"name": member.name, "reason": reason}
        current = services.dispute_transition(
            actor=actor, dispute=dispute, to=Status.WITHDRAWN, version=version, reason=said
        )
        if member is not None:
            services.party_consent_record(
                actor=actor, party=member, consent=Consent.DECLINED, note=reason[:NOTE_MAX]
            )
        _cancel_open_sessions(actor, current, said)
    return current


def referral_create(
    *,
    actor: Any,
    dispute: Dispute,
    version: int,
    target: str,
    receiver: str,
    reason: str,
) -> Referral:
    """Refer a failed case to court, arbitration, labour inspection, petitions or another body."""
    _require(actor, dispute)
    errors: Errors = {}
    target = _text(target)
    if target not in ReferralTarget.values:
        errors["target"] = [_("请选择移送去向。")]
    values = {"receiver": receiver, "reason": reason}
    receiver_text = _bounded(values, "receiver", _("接收单位"), RECEIVER_MAX, errors)
    reason_text = _bounded(values, "reason", _("移送理由"), REASON_MAX, errors)
    if errors:
        raise _invalid(errors)
    user = _user(actor)
    with transaction.atomic():
        current = _locked_dispute(dispute, version)
        current.check_transition(Status.REFERRED)
        referral = Referral.objects.create(
            dispute=current,
            station_id=current.station_id,
            target=target,
            receiver=receiver_text,
            reason=reason_text,
            referred_at=timezone.now(),
            created_by=user,
            updated_by=user,
        )
        audit_record(
            actor=actor,
            action="disputes.referral.created",
            obj=current,
            changes={
                "referral_id": referral.pk,
                "target": target,
                "receiver": receiver_text,
                "reason": reason_text,
            },
        )
        labels = dict(ReferralTarget.choices)
        services.dispute_transition(
            actor=actor,
            dispute=current,
            to=Status.REFERRED,
            version=current.version,
            reason=_("移送%(target)s（%(receiver)s）：%(reason)s")
            % {"target": labels[target], "receiver": receiver_text, "reason": reason_text},
        )
    return referral


def referral_outcome_record(
    *, actor: Any, referral: Referral, outcome: str, note: str = ""
) -> Referral:
    """Record what the receiving body did with the referral: accepted, resolved or declined."""
    dispute = referral.dispute
    _require(actor, dispute)
    errors: Errors = {}
    outcome = _text(outcome)
    if outcome not in {
        ReferralOutcome.ACCEPTED,
        ReferralOutcome.RESOLVED,
        ReferralOutcome.DECLINED,
    }:
        errors["outcome"] = [_("请选择处理结果（已受理、已处理完毕或不予受理）。")]
    note_text = _bounded({"note": note}, "note", _("结果说明"), TEXT_MAX, errors, required=False)
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        current = Referral.objects.select_for_update(of=("self",)).get(pk=referral.pk)
        before = snapshot(current, ["outcome", "outcome_note"])
        current.outcome, current.outcome_note = outcome, note_text
        if snapshot(current, before.keys()) == before:
            return current
        current.outcome_at = timezone.now()
        current.updated_by = _user(actor)
        current.save(
            update_fields=["outcome", "outcome_note", "outcome_at", "updated_by", "updated_at"]
        )
        audit_record(
            actor=actor,
            action="disputes.referral.outcome_recorded",
            obj=dispute,
            changes={"referral_id": current.pk, **diff(before, snapshot(current, before.keys()))},
        )
    return current
