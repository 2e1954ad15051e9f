"""Helpers for the mediation tests: a case brought to each status the way the pages bring it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from fengqiao.disputes import agreements, sessions
from fengqiao.disputes.models import Agreement, Dispute, MediationSession
from fengqiao.disputes.services import dispute_transition
from fengqiao.disputes.tests.kit import id_number, intake, mediator_for, person

PHONE = "13812345678"
MASKED_PHONE = "138****5678"


def move(actor: Any, d: Dispute, to: str, reason: str = "") -> Dispute:
    d.refresh_from_db()
    return dispute_transition(actor=actor, dispute=d, to=to, reason=reason, version=d.version)


def case(j: Any, officer: Any, **extra: Any) -> Dispute:
    """A received case whose applicant has a phone and an ID number."""
    extra.setdefault(
        "parties",
        [
            person("张三", phone=PHONE, id_number=id_number(7), address="枫桥路1号"),
            person("李四", role="respondent", address="枫桥路3号"),
        ],
    )
    return intake(j, officer, **extra)


def assigned(j: Any, officer: Any, mediator_user: Any = None, **extra: Any) -> Dispute:
    """A case triaged and assigned to a mediator of the station's registry."""
    d = move(officer, case(j, officer, **extra), "triaged")
    # Routing sets the mediator; here it is set directly, as test_transitions does.
    Dispute.objects.filter(pk=d.pk).update(
        mediator=mediator_for(j, mediator_user or j.user("mediator"))
    )
    d.refresh_from_db()
    return move(officer, d, "assigned")


def schedule(actor: Any, d: Dispute, **extra: Any) -> MediationSession:
    values: dict[str, Any] = {
        "scheduled_at": timezone.now() + timedelta(days=1),
        "place": "社区调解室",
    }
    values.update(extra)
    return sessions.session_schedule(actor=actor, dispute=d, **values)


def held(actor: Any, d: Dispute, minutes: str = "双方陈述了各自的意见。") -> MediationSession:
    """Schedule a session and record it as held with everyone present."""
    s = schedule(actor, d)
    return sessions.session_record(
        actor=actor,
        session=s,
        version=s.version,
        minutes=minutes,
        attendance={a.pk: True for a in s.attendance.all()},
    )


def mediating(j: Any, officer: Any, **extra: Any) -> Dispute:
    d = assigned(j, officer, **extra)
    held(officer, d)
    d.refresh_from_db()
    return d


def draft(actor: Any, d: Dispute, **extra: Any) -> Agreement:
    parties = list(d.parties.order_by("id"))
    values: dict[str, Any] = {
        "form": "written",
        "facts": "楼上漏水致楼下天花板受损。",
        "terms": "李四赔偿张三维修费用。",
        "performance": "一次性现金支付。",
        "items": [
            {
                "obligor_id": parties[1].pk,
                "obligee_id": parties[0].pk,
                "description": "支付维修费",
                "amount": "1200.50",
                "due_date": (timezone.localdate() + timedelta(days=10)).isoformat(),
            }
        ],
    }
    values.update(extra)
    return agreements.agreement_create(actor=actor, dispute=d, **values)


def sign_all(actor: Any, agreement: Agreement) -> Agreement:
    for party in agreement.dispute.parties.order_by("id"):
        agreement.refresh_from_db()
        agreement = agreements.agreement_sign(
            actor=actor, agreement=agreement, party=party, state="signed", version=agreement.version
        )
    return agreement


def agreed(j: Any, officer: Any, **extra: Any) -> Dispute:
    d = mediating(j, officer, **extra)
    sign_all(officer, draft(officer, d))
    d.refresh_from_db()
    return d
