"""Order (警令) services: issue, acknowledge, complete, cancel; every change audited.

An order goes to one officer (a user holding order.handle at the station) or to one team by
name. An officer's order is acknowledged and completed by that officer; a team's order by
anyone holding order.handle at the station. The chief (order.issue) issues and cancels.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.access import user_can
from fengqiao.accounts.models import Notification, User
from fengqiao.analytics.models import ORDER_TRANSITIONS, Briefing, Order, OrderStatus
from fengqiao.core.audit import audit_change, snapshot
from fengqiao.core.casenumbers import case_number_next
from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed

PREFIX = "JL"
TITLE_MAX = 100
TEAM_MAX = 60
TEXT_MAX = 4000


def _require(actor: Any, perm: str, station_id: int, message: str) -> None:
    if actor is not None and not user_can(actor, perm, station_id=station_id):
        raise PermissionDenied(message)


def _text(value: Any) -> str:
    return str(value or "").strip()


def order_issue(
    *,
    actor: Any,
    station_id: int,
    title: str,
    instructions: str,
    due_at: datetime,
    assignee_id: int | None = None,
    team: str = "",
    briefing_id: int | None = None,
) -> Order:
    """Issue an order to one officer or one team of the station, due at `due_at`."""
    _require(actor, "order.issue", station_id, _("无权下达本所警令。"))
    title, instructions, team = _text(title), _text(instructions), _text(team)
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = [_("请填写标题")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("标题最多 %(n)d 个字") % {"n": TITLE_MAX}]
    if not instructions:
        errors["instructions"] = [_("请填写指令内容")]
    elif len(instructions) > TEXT_MAX:
        errors["instructions"] = [_("指令内容最多 %(n)d 个字") % {"n": TEXT_MAX}]
    if len(team) > TEAM_MAX:
        errors["team"] = [_("队伍名称最多 %(n)d 个字") % {"n": TEAM_MAX}]
    assignee = None
    if assignee_id is not None and team:
        errors["assignee_id"] = [_("承办民警与承办队伍只能选一个")]
    elif assignee_id is None and not team:
        errors["assignee_id"] = [_("请选择承办民警或填写承办队伍")]
    elif assignee_id is not None:
        assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
        if assignee is None or not user_can(assignee, "order.handle", station_id=station_id):
            errors["assignee_id"] = [_("承办民警须为本所在职民警或辅警")]
    if due_at is None:
        errors["due_at"] = [_("请填写完成时限")]
    elif timezone.is_naive(due_at):
        due_at = timezone.make_aware(due_at)
    if due_at is not None and due_at <= timezone.now():
        errors["due_at"] = [_("完成时限应晚于现在")]
    briefing = None
    if briefing_id is not None:
        briefing = Briefing.objects.filter(pk=briefing_id, station_id=station_id).first()
        if briefing is None:
            errors["briefing_id"] = [_("研判不属于本所")]
    if errors:
        raise ValidationFailed(_("警令填写有误，请检查标出的项目。"), fields=errors)
    now = timezone.now()
    with transaction.atomic():
        order = Order(
            station_id=station_id,
            briefing=briefing,
            number=case_number_next(
                station_id=station_id, prefix=PREFIX, year=timezone.localdate().year
            ),
            title=title,
            instructions=instructions,
            assignee=assignee,
            team=team,
            due_at=due_at,
            issued_at=now,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        order.save()
        audit_change(actor=actor, action="analytics.order.issued", obj=order, before=None)
        if assignee is not None:
            Notification.objects.create(
                user=assignee,
                kind="order.issued",
                title=_("新警令 %(number)s：%(title)s") % {"number": order.number, "title": title},
                body=instructions[:500],
                url=f"/analytics/briefings/orders/{order.pk}/",
            )
    return order


def _may_handle(actor: Any, order: Order) -> bool:
    """Return whether the actor is the one to acknowledge or complete the order."""
    if actor is None:
        return True
    if order.assignee_id is not None:
        return bool(actor.pk == order.assignee_id)
    return user_can(actor, "order.handle", station_id=order.station_id)


def _move(order: Order, to: str) -> None:
    """Raise IllegalTransition with the reason unless the table allows `order` to go to `to`."""
    if to in ORDER_TRANSITIONS[order.status]:
        return
    labels = dict(OrderStatus.choices)
    if order.status == OrderStatus.ISSUED and to == OrderStatus.DONE:
        message = _("警令 %(number)s 尚未签收：请先签收，再报告完成。")
    elif order.status in (OrderStatus.DONE, OrderStatus.CANCELLED):
        message = _("警令 %(number)s 当前为“%(now)s”，已经结束，不能再改为“%(to)s”。")
    else:
        message = _("警令 %(number)s 当前为“%(now)s”，不能改为“%(to)s”。")
    params = {"number": order.number, "now": str(labels[order.status]), "to": str(labels[to])}
    raise IllegalTransition(message % params)


def _locked(order: Order, version: int | None) -> Order:
    current = Order.objects.select_for_update().get(pk=order.pk)
    if version is not None and current.version != version:
        raise Conflict(
            _("警令已被他人修改（您的版本 %(yours)d，当前 %(now)d），请刷新后重试。")
            % {"yours": version, "now": current.version}
        )
    return current


def _save(actor: Any, order: Order, before: dict[str, Any], action: str) -> Order:
    order.version += 1
    order.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    order.save(update_fields=[*before, "version", "updated_by", "updated_at"])
    audit_change(actor=actor, action=action, obj=order, before=before)
    return order


def order_acknowledge(*, actor: Any, order: Order, version: int | None = None) -> Order:
    """Acknowledge (签收) an issued order: its officer, or anyone of the station for a team."""
    with transaction.atomic():
        order = _locked(order, version)
        if not _may_handle(actor, order):
            raise PermissionDenied(_("这份警令不是下达给您的。"))
        _move(order, OrderStatus.ACKNOWLEDGED)
        before = snapshot(order, ["status", "acknowledged_at", "acknowledged_by_id"])
        order.status = OrderStatus.ACKNOWLEDGED
        order.acknowledged_at = timezone.now()
        order.acknowledged_by = actor if getattr(actor, "is_authenticated", False) else None
        return _save(actor, order, before, "analytics.order.acknowledged")


def order_complete(*, actor: Any, order: Order, result: str, version: int | None = None) -> Order:
    """Report an acknowledged order done, with what was done."""
    result = _text(result)
    with transaction.atomic():
        order = _locked(order, version)
        if not _may_handle(actor, order):
            raise PermissionDenied(_("这份警令不是下达给您的。"))
        _move(order, OrderStatus.DONE)
        if not result:
            raise ValidationFailed(_("请填写完成情况。"), fields={"result": [_("请填写完成情况")]})
        if len(result) > TEXT_MAX:
            raise ValidationFailed(
                _("完成情况过长。"), fields={"result": [_("最多 %(n)d 个字") % {"n": TEXT_MAX}]}
            )
        before = snapshot(order, ["status", "done_at", "done_by_id", "result"])
        order.status = OrderStatus.DONE
        order.done_at = timezone.now()
        order.done_by = actor if getattr(actor, "is_authenticated", False) else None
        order.result = result
        return _save(actor, order, before, "analytics.order.done")


def order_cancel(*, actor: Any, order: Order, reason: str, version: int | None = None) -> Order:
    """Cancel (撤销) an order not yet done: the chief's, with a reason."""
    reason = _text(reason)
    with transaction.atomic():
        order = _locked(order, version)
        _require(actor, "order.issue", order.station_id, _("只有所长/指挥室可以撤销警令。"))
        _move(order, OrderStatus.CANCELLED)
        if not reason:
            raise ValidationFailed(_("请填写撤销理由。"), fields={"reason": [_("请填写撤销理由")]})
        if len(reason) > TEXT_MAX:
            raise ValidationFailed(
                _("撤销理由过长。"), fields={"reason": [_("最多 %(n)d 个字") % {"n": TEXT_MAX}]}
            )
        before = snapshot(order, ["status", "cancelled_at", "cancel_reason"])
        order.status = OrderStatus.CANCELLED
        order.cancelled_at = timezone.now()
        order.cancel_reason = reason
        return _save(actor, order, before, "analytics.order.cancelled")
