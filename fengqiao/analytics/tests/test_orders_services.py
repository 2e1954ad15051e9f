"""Orders (警令): issued by the chief, acknowledged and completed by their officer or team."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fengqiao.accounts.models import Notification
from fengqiao.analytics.models import Order
from fengqiao.analytics.orders import order_acknowledge, order_cancel, order_complete, order_issue
from fengqiao.analytics.services import briefing_generate
from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def issue(j: Any, chief: Any, **kw: Any) -> Order:
    """Issue an order of the station due in two hours (to an officer unless told otherwise)."""
    values: dict[str, Any] = {
        "title": "走访枫桥路8号",
        "instructions": "今天上午走访重复报警地址，了解情况。",
        "due_at": timezone.now() + timedelta(hours=2),
    }
    values.update(kw)
    if "assignee_id" not in values and not values.get("team"):
        values["assignee_id"] = j.user("officer").pk
    return order_issue(actor=chief, station_id=j.station.pk, **values)


def audits(order: Order) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="analytics.order", object_id=str(order.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_issue_to_an_officer_from_a_briefing_numbers_notifies_and_audits(j):
    chief, officer = j.user("chief"), j.user("officer")
    b = briefing_generate(actor=chief, station_id=j.station.pk)
    due = timezone.now() + timedelta(hours=3)
    o = issue(j, chief, assignee_id=officer.pk, briefing_id=b.pk, due_at=due)
    o.refresh_from_db()
    year = timezone.localdate().year
    assert o.number == f"JL-{year}-000001" and o.status == "issued" and o.version == 1
    assert (o.assignee, o.team, o.briefing_id, o.due_at, o.created_by) == (
        officer,
        "",
        b.pk,
        due,
        chief,
    )
    note = Notification.objects.get(user=officer)
    assert note.kind == "order.issued" and o.number in note.title
    assert note.url == f"/analytics/briefings/orders/{o.pk}/"
    assert audits(o) == ["analytics.order.issued"]
    assert issue(j, chief).number == f"JL-{year}-000002"


def test_issue_to_a_team_by_name(j):
    o = issue(j, j.user("chief"), team="巡逻一组")
    assert o.assignee is None and o.team == "巡逻一组"
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "  "}, "title"),
        ({"instructions": ""}, "instructions"),
        ({"team": "巡逻一组"}, "assignee_id"),  # an officer and a team
        ({"assignee_id": None}, "assignee_id"),  # neither
        ({"due_at": "past"}, "due_at"),
        ({"team": "队" * 61, "assignee_id": None}, "team"),
    ],
)
def test_issue_refuses_bad_input_and_saves_nothing(j, change, field):
    chief = j.user("chief")
    values: dict[str, Any] = {"assignee_id": j.user("officer").pk, **change}
    if values.get("due_at") == "past":
        values["due_at"] = timezone.now() - timedelta(minutes=1)
    with pytest.raises(ValidationFailed) as exc:
        issue(j, chief, **values)
    assert field in exc.value.fields
    assert (
        not Order.objects.exists()
        and not AuditEntry.objects.filter(action__startswith="analytics.order").exists()
    )


def test_issue_refuses_an_assignee_or_briefing_of_another_station(j, other):
    chief = j.user("chief")
    theirs = briefing_generate(actor=other.user("chief"), station_id=other.station.pk)
    with pytest.raises(ValidationFailed) as exc:
        issue(j, chief, assignee_id=other.user("officer").pk)
    assert "assignee_id" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        issue(j, chief, assignee_id=j.user("volunteer").pk)
    assert "assignee_id" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        issue(j, chief, briefing_id=theirs.pk)
    assert "briefing_id" in exc.value.fields
    assert not Order.objects.exists()


@pytest.mark.parametrize("role", ["officer", "auxiliary", "volunteer", "other_chief"])
def test_only_the_chief_of_the_station_issues(j, other, role):
    actor = other.user("chief") if role == "other_chief" else j.user(role)
    with pytest.raises(PermissionDenied):
        issue(j, actor)
    assert not Order.objects.exists() and not Notification.objects.exists()


def test_the_officer_acknowledges_then_completes_each_step_audited(j):
    chief, officer = j.user("chief"), j.user("officer")
    o = issue(j, chief, assignee_id=officer.pk)
    o = order_acknowledge(actor=officer, order=o, version=1)
    assert (o.status, o.acknowledged_by, o.version) == ("acknowledged", officer, 2)
    assert o.acknowledged_at is not None
    o = order_complete(actor=officer, order=o, result="已走访，系邻里噪音，已调解。", version=2)
    o.refresh_from_db()
    assert (o.status, o.done_by, o.result, o.version) == (
        "done",
        officer,
        "已走访，系邻里噪音，已调解。",
        3,
    )
    assert audits(o) == [
        "analytics.order.issued",
        "analytics.order.acknowledged",
        "analytics.order.done",
    ]
    done = AuditEntry.objects.get(action="analytics.order.done", object_id=str(o.pk))
    assert done.actor == officer and done.changes["status"] == ["acknowledged", "done"]


def test_someone_elses_order_is_not_yours_to_acknowledge(j):
    chief = j.user("chief")
    o = issue(j, chief)
    for actor in (j.user("officer"), chief):
        with pytest.raises(PermissionDenied):
            order_acknowledge(actor=actor, order=o)
    o.refresh_from_db()
    assert o.status == "issued" and o.version == 1 and audits(o) == ["analytics.order.issued"]


def test_a_teams_order_is_handled_by_anyone_of_the_station(j, other):
    o = issue(j, j.user("chief"), team="巡逻一组")
    with pytest.raises(PermissionDenied):
        order_acknowledge(actor=j.user("volunteer"), order=o)
    aux = j.user("auxiliary")
    o = order_acknowledge(actor=aux, order=o)
    o = order_complete(actor=j.user("officer"), order=o, result="已巡逻")
    assert o.status == "done" and o.acknowledged_by == aux


def test_out_of_order_moves_say_why_and_change_nothing(j):
    chief, officer = j.user("chief"), j.user("officer")
    o = issue(j, chief, assignee_id=officer.pk)
    with pytest.raises(IllegalTransition, match="尚未签收"):
        order_complete(actor=officer, order=o, result="做完了")
    o = order_acknowledge(actor=officer, order=o)
    with pytest.raises(IllegalTransition, match="已签收"):
        order_acknowledge(actor=officer, order=o)
    o = order_complete(actor=officer, order=o, result="做完了")
    with pytest.raises(IllegalTransition, match="已经结束"):
        order_cancel(actor=chief, order=o, reason="不需要了")
    o.refresh_from_db()
    assert o.status == "done" and o.version == 3 and o.cancel_reason == ""
    assert len(audits(o)) == 3


def test_complete_needs_a_result(j):
    officer = j.user("officer")
    o = order_acknowledge(actor=officer, order=issue(j, j.user("chief"), assignee_id=officer.pk))
    with pytest.raises(ValidationFailed) as exc:
        order_complete(actor=officer, order=o, result="  ")
    assert "result" in exc.value.fields
    o.refresh_from_db()
    assert o.status == "acknowledged"


def test_the_chief_cancels_with_a_reason_and_it_ends_there(j):
    chief, officer = j.user("chief"), j.user("officer")
    o = issue(j, chief, assignee_id=officer.pk)
    with pytest.raises(PermissionDenied):
        order_cancel(actor=officer, order=o, reason="不想做")
    with pytest.raises(ValidationFailed):
        order_cancel(actor=chief, order=o, reason="")
    o = order_cancel(actor=chief, order=o, reason="情况已由派出所其他警力处置")
    assert o.status == "cancelled" and o.cancelled_at is not None
    with pytest.raises(IllegalTransition, match="已撤销"):
        order_acknowledge(actor=officer, order=o)
    assert audits(o) == ["analytics.order.issued", "analytics.order.cancelled"]


def test_a_stale_version_is_a_conflict(j):
    officer = j.user("officer")
    o = issue(j, j.user("chief"), assignee_id=officer.pk)
    order_acknowledge(actor=officer, order=o, version=1)
    with pytest.raises(Conflict):
        order_complete(actor=officer, order=o, result="做完了", version=1)
    o.refresh_from_db()
    assert o.status == "acknowledged" and o.version == 2
