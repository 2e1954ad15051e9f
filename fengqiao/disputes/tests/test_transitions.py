"""Status changes: the transition table, its guards, reasons, optimistic concurrency, audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.disputes.choices import Status
from fengqiao.disputes.models import FINISHED, TRANSITIONS, Dispute
from fengqiao.disputes.services import dispute_transition
from fengqiao.disputes.tests.kit import (
    concluded_agreement,
    intake,
    mediator_for,
    recorded_referral,
)

pytestmark = pytest.mark.django_db


def move(actor, d: Dispute, to: str, reason: str = "") -> Dispute:
    return dispute_transition(actor=actor, dispute=d, to=to, reason=reason, version=d.version)


def agree(actor, d: Dispute) -> Dispute:
    """Move a mediating case to agreed the way the last signature does: agreement first."""
    concluded_agreement(d)
    return move(actor, d, "agreed")


def assigned(j, officer, mediator=None) -> Dispute:
    d = move(officer, intake(j, officer), "triaged")
    # Routing sets the mediator; these tests are about the table, so it is set directly.
    Dispute.objects.filter(pk=d.pk).update(mediator=mediator_for(j, mediator or j.user("mediator")))
    d.refresh_from_db()
    return move(officer, d, "assigned")


def test_the_whole_way_from_intake_to_close_and_back(j):
    officer = j.user("officer")
    mediator = j.user("mediator")
    d = assigned(j, officer, mediator)
    d = move(mediator, d, "mediating")
    d = agree(mediator, d)
    d = move(mediator, d, "closed")
    assert d.status == "closed" and d.closed_at is not None and d.version == 6
    # a follow-up finds the agreement not honoured
    d = move(officer, d, "reopened", reason="回访发现对方未按协议赔偿")
    assert d.status == "reopened" and d.closed_at is None
    d = move(mediator, d, "mediating")
    entries = AuditEntry.objects.filter(
        action="disputes.dispute.status_changed", object_id=str(d.pk)
    ).order_by("seq")
    assert [e.changes["status"] for e in entries] == [
        ["received", "triaged"],
        ["triaged", "assigned"],
        ["assigned", "mediating"],
        ["mediating", "agreed"],
        ["agreed", "closed"],
        ["closed", "reopened"],
        ["reopened", "mediating"],
    ]
    assert entries[5].changes["reason"] == "回访发现对方未按协议赔偿"
    assert entries[5].actor == officer and entries[2].actor == mediator


def test_failure_leads_to_referral(j):
    officer = j.user("officer")
    d = move(officer, assigned(j, officer), "mediating")
    d = move(officer, d, "failed", reason="双方分歧过大")
    recorded_referral(d)
    d = move(officer, d, "referred", reason="引导申请人向法院起诉")
    assert d.status == "referred" and d.finished and d.closed_at is not None
    assert d.next_statuses() == []


@pytest.mark.parametrize(
    ("path", "to", "message"),
    [
        ([], "agreed", "本案尚未进行调解，不能签订调解协议。"),
        (["triaged"], "agreed", "本案尚未进行调解，不能签订调解协议。"),
        ([], "closed", "只有已达成协议的案件才能结案"),
        ([], "mediating", "案件尚未分流指派，不能开始调解。"),
        ([], "assigned", "案件尚未完成研判，不能分流指派。"),
        ([], "referred", "只有调解不成的案件才能移送。"),
        ([], "reopened", "只有已结案的案件才能重新办理。"),
        ([], "failed", "只有调解中的案件才能记为调解不成。"),
        ([], "received", "案件已经是“登记受理”状态。"),
        (["triaged"], "triaged", "案件已经是“已研判”状态。"),
        (["withdrawn"], "triaged", "案件已“当事人撤回”，不能再变更状态。"),
        (["terminated"], "reopened", "案件已“已终止”，不能再变更状态。"),
        ([], "archived", "没有“archived”这种案件状态。"),
    ],
)
def test_illegal_moves_are_refused_with_a_reason(j, path, to, message):
    officer = j.user("officer")
    d = intake(j, officer)
    for step in path:
        d = move(officer, d, step, reason="理由")
    version = d.version
    with pytest.raises(IllegalTransition) as exc:
        move(officer, d, to, reason="理由")
    assert message in exc.value.message
    assert exc.value.status == 409 and exc.value.code in {"illegal_transition", "unknown_status"}
    d.refresh_from_db()
    assert d.version == version  # nothing changed


def test_a_closed_case_reopens_and_nothing_else(j):
    officer = j.user("officer")
    d = move(officer, assigned(j, officer), "mediating")
    d = move(officer, agree(officer, d), "closed")
    assert d.next_statuses() == ["reopened"]
    with pytest.raises(IllegalTransition) as exc:
        move(officer, d, "mediating")
    assert exc.value.message == "案件已结案，只有回访发现协议未履行时才能重新办理。"


def test_every_status_is_in_the_table_and_every_target_is_a_status():
    assert set(TRANSITIONS) == set(Status.values)
    assert all(targets <= set(Status.values) for targets in TRANSITIONS.values())
    # finished cases go nowhere, except a closed one reopening
    for status in FINISHED:
        assert TRANSITIONS[status] <= {Status.REOPENED}


@pytest.mark.parametrize("to", ["withdrawn", "terminated", "reopened", "failed", "referred"])
def test_moves_that_end_or_reopen_a_case_need_a_reason(j, to):
    officer = j.user("officer")
    d = move(officer, assigned(j, officer), "mediating")
    if to == "reopened":
        d = move(officer, agree(officer, d), "closed")
    if to == "referred":
        d = move(officer, d, "failed", reason="调解不成")
        recorded_referral(d)
    with pytest.raises(ValidationFailed) as exc:
        move(officer, d, to, reason="  ")
    assert exc.value.fields == {"reason": ["请说明理由。"]}


def test_pending_threat_words_hold_back_triage(j):
    officer = j.user("officer")
    d = intake(j, officer, narrative="对方扬言要报复")
    with pytest.raises(IllegalTransition) as exc:
        move(officer, d, "triaged")
    assert "尚待确认" in exc.value.message and exc.value.code == "threat_pending"


def test_assignment_needs_a_mediator(j):
    officer = j.user("officer")
    d = move(officer, intake(j, officer), "triaged")
    with pytest.raises(IllegalTransition) as exc:
        move(officer, d, "assigned")
    assert exc.value.message == "尚未指定调解员，不能分流指派。"


def test_a_stale_version_is_a_conflict_and_nothing_is_lost(j):
    # given two officers who opened the same case at version 1
    alice, bob = j.user("officer"), j.user("officer")
    d = intake(j, alice)
    stale = Dispute.objects.get(pk=d.pk)
    # when the first one triages it
    move(alice, d, "triaged")
    # then the second one's withdrawal is refused and says so
    with pytest.raises(Conflict) as exc:
        dispute_transition(actor=bob, dispute=stale, to="withdrawn", reason="撤回", version=1)
    assert exc.value.status == 409 and "已被他人修改" in exc.value.message
    d.refresh_from_db()
    assert d.status == "triaged" and d.version == 2
    assert AuditEntry.objects.filter(action="disputes.dispute.status_changed").count() == 1


@pytest.mark.parametrize("role", ["volunteer", "analyst", "assistant", "other_officer"])
def test_only_handlers_of_the_station_may_move_a_case(j, other, role):
    d = intake(j, j.user("officer"))
    user = other.user("officer") if role == "other_officer" else j.user(role)
    with pytest.raises(PermissionDenied):
        move(user, d, "withdrawn", reason="撤回")
    d.refresh_from_db()
    assert d.status == "received" and d.version == 1


def test_agreed_needs_an_agreement_every_party_signed(j):
    officer = j.user("officer")
    d = move(officer, assigned(j, officer), "mediating")
    with pytest.raises(IllegalTransition) as exc:
        move(officer, d, "agreed")
    assert exc.value.code == "no_agreement"
    # an agreement concluded before this round of mediation does not count either
    old = concluded_agreement(d)
    Dispute.objects.filter(pk=old.dispute_id).update(status_changed_at=old.concluded_at)
    type(old).objects.filter(pk=old.pk).update(concluded_at=old.concluded_at.replace(year=2020))
    d.refresh_from_db()
    with pytest.raises(IllegalTransition):
        move(officer, d, "agreed")
    assert agree(officer, d).status == "agreed"


def test_referred_needs_the_referral_recorded(j):
    officer = j.user("officer")
    d = move(officer, move(officer, assigned(j, officer), "mediating"), "failed", reason="不成")
    with pytest.raises(IllegalTransition) as exc:
        move(officer, d, "referred", reason="移送法院")
    assert exc.value.code == "no_referral"
    recorded_referral(d)
    assert move(officer, d, "referred", reason="移送法院").status == "referred"


def test_a_reopened_case_gets_a_fresh_deadline_and_its_card_lifted(j):
    from datetime import timedelta

    from django.utils import timezone

    from fengqiao.disputes.deadlines import DEADLINE_DAYS, extension_request, supervision_sweep

    officer = j.user("officer")
    d = move(officer, assigned(j, officer), "mediating")
    Dispute.objects.filter(pk=d.pk).update(
        deadline=timezone.localdate() - timedelta(days=40), supervision="red", extended_days=5
    )
    d.refresh_from_db()
    d = move(officer, agree(officer, d), "closed")
    d = move(officer, d, "reopened", reason="回访发现协议未履行")
    assert d.deadline == timezone.localdate() + timedelta(days=DEADLINE_DAYS[d.grade])
    assert (d.supervision, d.extended_days) == ("none", 0)
    # the deadline runs again: an extension may be asked, and lateness is supervised
    assert extension_request(actor=officer, dispute=d, days=5, reason="当事人外出务工").days == 5
    Dispute.objects.filter(pk=d.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    supervision_sweep()
    assert Dispute.objects.get(pk=d.pk).supervision == "yellow"
