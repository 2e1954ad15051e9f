"""Follow-up visits: scheduled from an agreement, recorded, cancelled, added; reopening."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fengqiao.accounts.models import Notification
from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.disputes.followups import (
    followup_add,
    followup_cancel,
    followup_record,
    followups_due,
)
from fengqiao.disputes.models import Dispute, FollowUp
from fengqiao.disputes.tests.casefile_kit import agreed_case
from fengqiao.disputes.tests.kit import intake

pytestmark = pytest.mark.django_db


def record(actor, f: FollowUp, **extra) -> FollowUp:
    values = {
        "honoured": True,
        "satisfaction": 5,
        "comment": "",
        "visited_at": timezone.now() - timedelta(minutes=10),
    }
    values.update(extra)
    return followup_record(actor=actor, followup=f, **values)


def entries(d: Dispute, action: str) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            object_type="disputes.dispute", object_id=str(d.pk), action=action
        ).order_by("seq")
    )


def test_an_agreement_schedules_visits_at_7_and_30_days_and_the_items_due_date(j):
    officer = j.user("officer")
    d, agreement, visits = agreed_case(j, officer)
    start = timezone.localtime(agreement.concluded_at).date()
    assert [(v.kind, v.due_date) for v in visits] == [
        ("days_7", start + timedelta(days=7)),
        ("item_due", start + timedelta(days=14)),
        ("days_30", start + timedelta(days=30)),
    ]
    assert all(v.state == "scheduled" and v.station_id == j.station.pk for v in visits)
    assert visits[1].item is not None and visits[1].item.description == "赔偿维修费"
    (entry,) = entries(d, "disputes.followup.scheduled")
    assert entry.changes["agreement"] == agreement.number
    assert len(entry.changes["visits"]) == 3


def test_honoured_and_satisfied_keeps_the_case_closed(j):
    officer = j.user("officer")
    d, _agreement, visits = agreed_case(j, officer, status="closed")
    done = record(officer, visits[0], honoured=True, satisfaction=4, comment="已按时赔偿")
    d.refresh_from_db()
    assert d.status == "closed"
    assert done.state == "done" and done.honoured is True and done.satisfaction == 4
    assert done.reopened is False and done.visited_by == officer
    (entry,) = entries(d, "disputes.followup.recorded")
    assert entry.changes["honoured"] is True and entry.changes["satisfaction"] == 4
    assert not entries(d, "disputes.dispute.status_changed")
    # the other visits are still waiting
    assert FollowUp.objects.filter(dispute=d, state="scheduled").count() == 2


def test_not_honoured_reopens_a_closed_case_with_the_reason(j):
    officer, chief = j.user("officer"), j.user("chief")
    d, _agreement, visits = agreed_case(j, officer, status="closed")
    version = d.version
    done = record(officer, visits[0], honoured=False, satisfaction=3, comment="李四拒不赔偿")
    d.refresh_from_db()
    assert d.status == "reopened" and d.closed_at is None and d.version == version + 1
    assert done.reopened is True
    (moved,) = entries(d, "disputes.dispute.status_changed")
    assert moved.changes["status"] == ["closed", "reopened"]
    assert "协议未履行" in moved.changes["reason"] and "李四拒不赔偿" in moved.changes["reason"]
    assert moved.actor == officer
    # the broken agreement's later visits are cancelled, and say why
    rest = FollowUp.objects.filter(dispute=d).exclude(pk=done.pk)
    assert {f.state for f in rest} == {"cancelled"}
    (entry,) = entries(d, "disputes.followup.recorded")
    assert entry.changes["reopened"] is True
    assert sorted(entry.changes["cancelled"]) == sorted(f.pk for f in rest)
    # the chief and the case's mediator hear of it; the officer who recorded it knows
    assert list(Notification.objects.values_list("user_id", "kind")) == [
        (chief.pk, "dispute.reopened")
    ]


def test_an_agreed_case_is_closed_then_reopened(j):
    officer = j.user("officer")
    d, _agreement, visits = agreed_case(j, officer, status="agreed")
    record(officer, visits[0], honoured=True, satisfaction=1, comment="对赔偿金额不满意")
    d.refresh_from_db()
    assert d.status == "reopened"
    moves = [e.changes["status"] for e in entries(d, "disputes.dispute.status_changed")]
    assert moves == [["agreed", "closed"], ["closed", "reopened"]]


def test_dissatisfied_at_2_reopens_and_at_3_does_not(j):
    officer = j.user("officer")
    d, _a, visits = agreed_case(j, officer, status="closed")
    record(officer, visits[0], satisfaction=3)
    d.refresh_from_db()
    assert d.status == "closed"
    record(officer, visits[1], satisfaction=2, comment="调解员态度差")
    d.refresh_from_db()
    assert d.status == "reopened"


def test_a_case_already_open_is_left_as_it_is(j):
    officer = j.user("officer")
    d, _a, visits = agreed_case(j, officer, status="reopened")
    done = record(officer, visits[0], honoured=False, comment="仍未赔偿")
    d.refresh_from_db()
    assert d.status == "reopened" and done.reopened is False
    (entry,) = entries(d, "disputes.followup.recorded")
    assert entry.changes["not_reopened"] == "reopened"


@pytest.mark.parametrize("score", [0, 6, -1, "五", None, True])
def test_satisfaction_must_be_1_to_5(j, score):
    officer = j.user("officer")
    _d, _a, visits = agreed_case(j, officer, status="closed")
    with pytest.raises(ValidationFailed) as exc:
        record(officer, visits[0], satisfaction=score)
    assert "satisfaction" in exc.value.fields
    assert FollowUp.objects.get(pk=visits[0].pk).state == "scheduled"


def test_a_comment_is_required_when_not_honoured_or_dissatisfied(j):
    officer = j.user("officer")
    _d, _a, visits = agreed_case(j, officer, status="closed")
    with pytest.raises(ValidationFailed) as exc:
        record(officer, visits[0], honoured=False, comment="  ")
    assert "comment" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        record(officer, visits[0], satisfaction=2)
    assert "comment" in exc.value.fields


def test_a_visit_cannot_be_in_the_future_or_before_the_agreement(j):
    officer = j.user("officer")
    d, agreement, visits = agreed_case(j, officer, status="closed")
    with pytest.raises(ValidationFailed) as exc:
        record(officer, visits[0], visited_at=timezone.now() + timedelta(hours=2))
    assert exc.value.fields["visited_at"] == ["回访时间不能晚于现在。"]
    with pytest.raises(ValidationFailed) as exc:
        record(officer, visits[0], visited_at=agreement.concluded_at - timedelta(days=1))
    assert "visited_at" in exc.value.fields
    with pytest.raises(ValidationFailed):
        record(officer, visits[0], visited_at="昨天")
    assert FollowUp.objects.get(pk=visits[0].pk).state == "scheduled"
    assert not entries(d, "disputes.followup.recorded")


def test_a_visit_recorded_twice_is_a_conflict(j):
    officer = j.user("officer")
    d, _a, visits = agreed_case(j, officer, status="closed")
    record(officer, visits[0])
    stale = FollowUp.objects.get(pk=visits[0].pk)
    with pytest.raises(Conflict) as exc:
        record(officer, stale, satisfaction=1, comment="再记一次")
    assert exc.value.code == "already_recorded"
    assert FollowUp.objects.get(pk=visits[0].pk).satisfaction == 5
    assert len(entries(d, "disputes.followup.recorded")) == 1


def test_cancel_needs_a_reason_and_cannot_be_recorded_after(j):
    officer = j.user("officer")
    d, _a, visits = agreed_case(j, officer, status="closed")
    with pytest.raises(ValidationFailed):
        followup_cancel(actor=officer, followup=visits[2], reason=" ")
    done = followup_cancel(actor=officer, followup=visits[2], reason="当事人已搬离本市")
    assert done.state == "cancelled" and done.comment == "当事人已搬离本市"
    (entry,) = entries(d, "disputes.followup.cancelled")
    assert entry.changes["reason"] == "当事人已搬离本市"
    with pytest.raises(IllegalTransition):
        record(officer, FollowUp.objects.get(pk=visits[2].pk))


def test_add_a_visit_by_hand(j):
    officer = j.user("officer")
    d, agreement, _visits = agreed_case(j, officer, status="closed")
    day = timezone.localdate() + timedelta(days=60)
    row = followup_add(actor=officer, dispute=d, due_date=day, note="春节前再回访一次")
    assert row.kind == "other" and row.due_date == day and row.agreement == agreement
    assert entries(d, "disputes.followup.added")[0].changes["due_date"] == day.isoformat()
    with pytest.raises(ValidationFailed):
        followup_add(actor=officer, dispute=d, due_date=timezone.localdate() - timedelta(days=1))
    with pytest.raises(IllegalTransition):
        followup_add(actor=officer, dispute=intake(j, officer), due_date=day)


def test_someone_without_the_right_cannot_record(j, other):
    _d, _a, visits = agreed_case(j, j.user("officer"), status="closed")
    for user in (other.user("officer"), j.user("volunteer")):
        with pytest.raises(PermissionDenied):
            record(user, FollowUp.objects.get(pk=visits[0].pk))
    assert FollowUp.objects.get(pk=visits[0].pk).state == "scheduled"


def test_the_due_list_sorts_by_date_and_splits_overdue_today_upcoming(j, other):
    officer = j.user("officer")
    mediator = j.user("mediator")
    # concluded 7 days ago: the 7-day visit is due today; 30 days ago: all but one overdue
    d1, _a, v1 = agreed_case(j, officer, status="closed", days_ago=7, mediator_user=mediator)
    d2, _a, v2 = agreed_case(j, officer, status="closed", days_ago=20)
    agreed_case(other, None, status="closed", days_ago=20)
    today = timezone.localdate()
    page = followups_due(user=officer, when="today")
    assert [f.pk for f in page.items] == [v1[0].pk]
    overdue = followups_due(user=officer, when="overdue").items
    assert [f.pk for f in overdue] == [v2[0].pk, v2[1].pk]
    assert all(f.due_date < today for f in overdue)
    upcoming = followups_due(user=officer, when="upcoming").items
    assert [f.due_date for f in upcoming] == sorted(f.due_date for f in upcoming)
    assert all(f.due_date > today for f in upcoming)
    everything = followups_due(user=officer).items
    assert {f.dispute_id for f in everything} == {d1.pk, d2.pk}  # never the other station's
    mine = followups_due(user=mediator, mine=True).items
    assert {f.dispute_id for f in mine} == {d1.pk}
    # key-based pages walk the same rows
    first = followups_due(user=officer, size=2)
    second = followups_due(user=officer, size=2, cursor=first.next_cursor)
    assert [f.pk for f in first.items + second.items] == [f.pk for f in everything[:4]]


def test_a_visit_in_the_minute_the_agreement_took_effect_is_accepted(j):
    # given an agreement concluded a few seconds into a minute
    officer = j.user("officer")
    _d, agreement, visits = agreed_case(j, officer)
    concluded = (timezone.now() - timedelta(minutes=5)).replace(second=40, microsecond=0)
    type(agreement).objects.filter(pk=agreement.pk).update(concluded_at=concluded)
    visit = FollowUp.objects.get(pk=visits[0].pk)
    # when the form's minute-precise time is that same minute, it is recorded
    recorded = record(officer, visit, visited_at=concluded.replace(second=0))
    assert recorded.visited_at == concluded.replace(second=0)
    # and a minute earlier is still refused
    with pytest.raises(ValidationFailed):
        record(
            officer,
            FollowUp.objects.get(pk=visits[1].pk),
            visited_at=concluded - timedelta(minutes=1),
        )
