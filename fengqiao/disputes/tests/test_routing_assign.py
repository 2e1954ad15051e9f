"""Assignment: auto, claim, release, reassign; other stations and conflicts of interest refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.disputes import deadlines, routing
from fengqiao.disputes.models import Dispute
from fengqiao.disputes.tests.kit import id_number, person
from fengqiao.disputes.tests.routing_helpers import fresh, mediator, rule, triaged

pytestmark = pytest.mark.django_db


def actions(d: Dispute) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="disputes.dispute", object_id=str(d.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_auto_assign_sets_everything_and_moves_the_status(j):
    a, b = mediator(j, "甲"), mediator(j, "乙")
    r = rule(j, [a, b], channel="lawyer")
    d = triaged(j)
    officer = j.user("officer")
    routing.dispute_assign(actor=officer, dispute=d, version=d.version)
    d = fresh(d)
    assert (d.status, d.mediator, d.channel, d.routing_rule) == ("assigned", a, "lawyer", r)
    assert d.assigned_at is not None
    assert d.deadline == timezone.localdate() + timedelta(days=deadlines.DEADLINE_DAYS[d.grade])
    assert actions(d)[-2:] == ["disputes.dispute.assigned", "disputes.dispute.status_changed"]
    # The next case goes to the other member, who now has fewer open cases.
    e = triaged(j)
    routing.dispute_assign(actor=officer, dispute=e, version=e.version)
    assert fresh(e).mediator == b


@pytest.mark.parametrize(("grade", "days"), [("trivia", 3), ("civil", 15), ("major", 7)])
def test_deadline_per_grade_in_calendar_days(j, grade, days):
    a = mediator(j)
    rule(j, [a])
    d = triaged(j)
    Dispute.objects.filter(pk=d.pk).update(grade=grade)
    routing.dispute_assign(actor=None, dispute=fresh(d), version=d.version)
    assert fresh(d).deadline == timezone.localdate() + timedelta(days=days)


def test_a_case_not_triaged_or_already_assigned_is_refused_with_the_reason(j):
    from fengqiao.disputes.tests.kit import intake

    a = mediator(j)
    rule(j, [a])
    received = intake(j, j.user("officer"))
    with pytest.raises(IllegalTransition, match="尚未完成研判"):
        routing.dispute_assign(actor=None, dispute=received, version=received.version)
    d = triaged(j)
    routing.dispute_assign(actor=None, dispute=d, version=d.version)
    with pytest.raises(IllegalTransition, match="改派"):
        routing.dispute_assign(actor=None, dispute=fresh(d), version=fresh(d).version)


def test_stale_version_is_a_conflict(j):
    rule(j, [mediator(j)])
    d = triaged(j)
    with pytest.raises(Conflict):
        routing.dispute_assign(actor=None, dispute=d, version=d.version - 1)
    assert fresh(d).mediator is None


def test_a_mediator_of_another_station_cannot_be_assigned(j, other):
    rule(j, [mediator(j)])
    theirs = mediator(other, "他所")
    d = triaged(j)
    with pytest.raises(ValidationFailed, match="其他派出所") as exc:
        routing.dispute_assign(
            actor=j.user("chief"), dispute=d, version=d.version, mediator_id=theirs.pk
        )
    assert "mediator_id" in exc.value.fields
    assert fresh(d).mediator is None


@pytest.mark.parametrize(
    ("mine", "why"),
    [
        ({"id_number": id_number(5)}, "身份证号码相同"),
        ({"phone": "13900000009"}, "联系电话相同"),
        ({"name": "张三", "address": "枫桥路9号"}, "姓名和住址相同"),
        ({"address": "枫桥路 9号"}, "住址相同"),
    ],
)
def test_a_party_or_a_neighbour_cannot_be_assigned_and_the_page_says_why(j, mine, why):
    party = person("张三", id_number=id_number(5), phone="13900000009", address="枫桥路9号")
    values = {"name": "赵调解", **mine}
    barred = mediator(j, **values)
    ok = mediator(j, "钱调解")
    rule(j, [barred, ok])
    d = triaged(j, parties=[party, person("李四", role="respondent")])
    p = routing.proposal(d)
    assert p.mediator == ok
    assert [c.mediator for c in p.ineligible] == [barred]
    assert why in p.ineligible[0].reasons[0]
    with pytest.raises(ValidationFailed, match="回避"):
        routing.dispute_assign(
            actor=j.user("chief"), dispute=d, version=d.version, mediator_id=barred.pk
        )


def test_only_a_chief_assigns_outside_the_pool(j):
    a, outsider = mediator(j, "甲"), mediator(j, "库外", kind="judicial")
    rule(j, [a])
    d = triaged(j)
    with pytest.raises(PermissionDenied):
        routing.dispute_assign(
            actor=j.user("officer"), dispute=d, version=d.version, mediator_id=outsider.pk
        )
    routing.dispute_assign(
        actor=j.user("chief"), dispute=d, version=d.version, mediator_id=outsider.pk
    )
    d = fresh(d)
    assert (d.mediator, d.channel, d.routing_rule) == (outsider, "judicial", None)


def test_mediators_and_auxiliaries_cannot_assign(j):
    rule(j, [mediator(j)])
    d = triaged(j)
    for role in ("mediator", "auxiliary", "analyst"):
        with pytest.raises(PermissionDenied):
            routing.dispute_assign(actor=j.user(role), dispute=d, version=d.version)


def test_claim_by_a_pool_member_only_and_release_back(j):
    member_user, outsider_user = j.user("mediator"), j.user("mediator")
    member = mediator(j, "池内", user=member_user)
    mediator(j, "池外", user=outsider_user)
    d = triaged(j)  # triaged before the routing list had a line for it
    rule(j, [member])
    with pytest.raises(IllegalTransition, match="尚未按清单分流"):
        routing.dispute_claim(actor=member_user, dispute=d, version=d.version)
    d = routing.dispute_route(actor=j.user("officer"), dispute=d, version=d.version)
    assert d.routing_rule is not None and d.mediator is None and d.status == "triaged"
    with pytest.raises(PermissionDenied):
        routing.dispute_claim(actor=outsider_user, dispute=d, version=d.version)
    with pytest.raises(PermissionDenied):
        routing.dispute_claim(actor=j.user("officer"), dispute=d, version=d.version)
    routing.dispute_claim(actor=member_user, dispute=d, version=d.version)
    d = fresh(d)
    assert (d.status, d.mediator) == ("assigned", member)
    # Somebody else may not give it back; its mediator may, with a reason.
    with pytest.raises(PermissionDenied):
        routing.dispute_release(actor=outsider_user, dispute=d, version=d.version, reason="忙")
    with pytest.raises(ValidationFailed):
        routing.dispute_release(actor=member_user, dispute=d, version=d.version, reason="")
    routing.dispute_release(actor=member_user, dispute=d, version=d.version, reason="回避")
    d = fresh(d)
    assert (d.status, d.mediator, d.deadline) == ("triaged", None, None)
    assert d.routing_rule is not None
    assert "disputes.dispute.released" in actions(d)


def test_release_after_mediation_started_is_refused(j):
    u = j.user("mediator")
    m = mediator(j, user=u)
    rule(j, [m])
    d = triaged(j)
    routing.dispute_assign(actor=None, dispute=d, version=d.version)
    from fengqiao.disputes import services

    d = services.dispute_transition(
        actor=None, dispute=fresh(d), to="mediating", version=fresh(d).version
    )
    with pytest.raises(IllegalTransition, match="改派"):
        routing.dispute_release(actor=u, dispute=d, version=d.version, reason="忙")


def test_reassign_is_the_chiefs_and_keeps_the_deadline(j, other):
    a, b = mediator(j, "甲"), mediator(j, "乙")
    rule(j, [a, b])
    d = triaged(j)
    routing.dispute_assign(actor=None, dispute=d, version=d.version, mediator_id=a.pk)
    d = fresh(d)
    deadline = d.deadline
    for actor in (j.user("officer"), j.user("mediator"), other.user("chief")):
        with pytest.raises(PermissionDenied):
            routing.dispute_reassign(
                actor=actor, dispute=d, version=d.version, mediator_id=b.pk, reason="回避"
            )
    with pytest.raises(ValidationFailed):
        routing.dispute_reassign(
            actor=j.user("chief"), dispute=d, version=d.version, mediator_id=b.pk, reason=""
        )
    with pytest.raises(ValidationFailed, match="其他派出所"):
        routing.dispute_reassign(
            actor=j.user("chief"),
            dispute=d,
            version=d.version,
            mediator_id=mediator(other, "他所").pk,
            reason="换人",
        )
    routing.dispute_reassign(
        actor=j.user("chief"), dispute=d, version=d.version, mediator_id=b.pk, reason="回避"
    )
    d = fresh(d)
    assert (d.mediator, d.deadline, d.status) == (b, deadline, "assigned")
    assert actions(d)[-1] == "disputes.dispute.reassigned"


def test_triage_puts_the_case_in_the_pools_queue(j):
    u = j.user("mediator")
    member = mediator(j, "池内", user=u)
    r = rule(j, [member], channel="lawyer")
    d = triaged(j)
    d = fresh(d)
    assert (d.routing_rule, d.channel, d.mediator, d.status) == (r, "lawyer", None, "triaged")
    assert "disputes.dispute.routed" in actions(d)
    assert list(Dispute.objects.visible_to(u)) == [d]
    routing.dispute_claim(actor=u, dispute=d, version=d.version)
    assert fresh(d).mediator == member


def test_a_reopened_case_is_assigned_anew_with_a_new_deadline(j):
    a, b = mediator(j, "甲"), mediator(j, "乙")
    rule(j, [a, b])
    d = triaged(j)
    routing.dispute_assign(actor=None, dispute=d, version=d.version, mediator_id=a.pk)
    Dispute.objects.filter(pk=d.pk).update(
        status="reopened", deadline=timezone.localdate() - timedelta(days=40), supervision="red"
    )
    d = fresh(d)
    routing.dispute_assign(actor=j.user("chief"), dispute=d, version=d.version, mediator_id=b.pk)
    d = fresh(d)
    assert (d.status, d.mediator, d.supervision) == ("assigned", b, "none")
    assert d.deadline > timezone.localdate()
