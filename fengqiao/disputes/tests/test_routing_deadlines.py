"""Extensions the chief decides, and the supervision sweep: yellow, then red, notified once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from fengqiao.accounts.models import Notification
from fengqiao.core.errors import IllegalTransition, ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.disputes import deadlines, routing, services
from fengqiao.disputes.models import Dispute
from fengqiao.disputes.tests.routing_helpers import fresh, mediator, rule, triaged

pytestmark = pytest.mark.django_db


def assigned(j, user=None) -> Dispute:
    m = mediator(j, user=user) if user is not None else mediator(j)
    rule(j, [m])
    d = triaged(j)
    routing.dispute_assign(actor=None, dispute=d, version=d.version, mediator_id=m.pk)
    return fresh(d)


def test_extension_request_notifies_each_chief_and_approval_moves_the_deadline(j, other):
    chiefs = [j.user("chief"), j.user("chief")]
    other.user("chief")
    officer = j.user("officer")
    d = assigned(j)
    deadline = d.deadline
    ext = deadlines.extension_request(actor=officer, dispute=d, days="5", reason="当事人外出务工")
    notes = Notification.objects.filter(kind="disputes.extension")
    assert sorted(n.user_id for n in notes) == sorted(c.pk for c in chiefs)
    with pytest.raises(IllegalTransition, match="待审批"):
        deadlines.extension_request(actor=officer, dispute=d, days=3, reason="再延")
    with pytest.raises(PermissionDenied):
        deadlines.extension_decide(actor=officer, extension=ext, approve=True)
    deadlines.extension_decide(actor=chiefs[0], extension=ext, approve=True, note="同意")
    d = fresh(d)
    assert d.deadline == deadline + timedelta(days=5) and d.extended_days == 5
    assert AuditEntry.objects.filter(
        object_id=str(d.pk), action="disputes.extension.approved"
    ).exists()
    # The requester hears back; a decided request cannot be decided again.
    assert Notification.objects.filter(user=officer, kind="disputes.extension").count() == 1
    with pytest.raises(IllegalTransition):
        deadlines.extension_decide(actor=chiefs[1], extension=ext, approve=False, note="不同意")


def test_rejection_needs_a_note_and_leaves_the_deadline(j):
    d = assigned(j)
    ext = deadlines.extension_request(actor=None, dispute=d, days=30, reason="复杂")
    chief = j.user("chief")
    with pytest.raises(ValidationFailed):
        deadlines.extension_decide(actor=chief, extension=ext, approve=False)
    deadlines.extension_decide(actor=chief, extension=ext, approve=False, note="期限内办结")
    ext.refresh_from_db()
    assert ext.state == "rejected"
    assert fresh(d).deadline == d.deadline and fresh(d).extended_days == 0


@pytest.mark.parametrize(("days", "reason"), [(0, "理由"), (31, "理由"), ("x", "理由"), (5, " ")])
def test_extension_bad_input_is_refused(j, days, reason):
    d = assigned(j)
    with pytest.raises(ValidationFailed):
        deadlines.extension_request(actor=None, dispute=d, days=days, reason=reason)


def test_extension_of_an_unassigned_case_is_refused(j):
    d = triaged(j)
    with pytest.raises(IllegalTransition):
        deadlines.extension_request(actor=None, dispute=d, days=3, reason="理由")


def test_supervision_rises_yellow_then_red_and_notifies_once(j):
    chief = j.user("chief")
    d = assigned(j)
    day = d.deadline
    assert deadlines.supervision_sweep(today=day) == {"yellow": 0, "red": 0}
    assert deadlines.supervision_sweep(today=day + timedelta(days=1)) == {"yellow": 1, "red": 0}
    assert fresh(d).supervision == "yellow"
    assert deadlines.supervision_sweep(today=day + timedelta(days=2)) == {"yellow": 0, "red": 0}
    assert Notification.objects.filter(user=chief).count() == 1
    late = day + timedelta(days=deadlines.RED_AFTER_DAYS + 1)
    assert deadlines.supervision_sweep(today=late) == {"yellow": 0, "red": 1}
    deadlines.supervision_sweep(today=late + timedelta(days=5))
    assert fresh(d).supervision == "red"
    kinds = list(
        Notification.objects.filter(user=chief).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == ["disputes.supervision.yellow", "disputes.supervision.red"]
    trail = AuditEntry.objects.filter(object_id=str(d.pk), action="disputes.dispute.supervised")
    assert [e.changes["supervision"] for e in trail.order_by("seq")] == [
        ["none", "yellow"],
        ["yellow", "red"],
    ]


def test_a_case_far_past_its_deadline_goes_straight_to_red(j):
    j.user("chief")
    d = assigned(j)
    deadlines.supervision_sweep(today=d.deadline + timedelta(days=10))
    assert fresh(d).supervision == "red"
    assert Notification.objects.count() == 1


def test_finished_and_agreed_cases_are_left_alone(j):
    j.user("chief")
    d = assigned(j)
    services.dispute_transition(
        actor=None, dispute=d, to="withdrawn", version=d.version, reason="撤回"
    )
    assert deadlines.supervision_sweep(today=d.deadline + timedelta(days=10)) == {
        "yellow": 0,
        "red": 0,
    }
    assert fresh(d).supervision == "none"
    assert not Notification.objects.exists()


def test_an_approved_extension_lifts_the_card(j):
    j.user("chief")
    d = assigned(j)
    deadlines.supervision_sweep(today=timezone.localdate() + timedelta(days=30))
    Dispute.objects.filter(pk=d.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    ext = deadlines.extension_request(actor=None, dispute=fresh(d), days=10, reason="鉴定")
    deadlines.extension_decide(actor=None, extension=ext, approve=True)
    assert fresh(d).supervision == "none"


def test_the_command_and_the_task_run_the_sweep(j, capsys):
    from fengqiao.disputes.tasks import supervision_daily

    j.user("chief")
    d = assigned(j)
    when = (d.deadline + timedelta(days=1)).isoformat()
    call_command("disputes_supervise", "--date", when)
    assert "Yellow cards: 1" in capsys.readouterr().out
    assert fresh(d).supervision == "yellow"
    # The periodic task sweeps only in the local 08:00 hour; either way it does not fail.
    supervision_daily.call_local()
