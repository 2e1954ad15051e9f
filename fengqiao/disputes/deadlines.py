"""Deadlines (办理期限): the deadline of an assigned case, extensions asked of and decided by
the chief, and the supervision sweep that cards a case past its deadline and tells the chiefs.

A case's deadline is set when it is assigned (`routing`), in calendar days per grade. Every
write is audited against the dispute, so the case timeline shows it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.models import Membership, Notification
from fengqiao.accounts.roles import Role
from fengqiao.core.audit import audit_record
from fengqiao.core.errors import IllegalTransition, ValidationFailed
from fengqiao.disputes.choices import ExtensionState, Grade, Status, Supervision
from fengqiao.disputes.models import Dispute, Extension
from fengqiao.disputes.routing_checks import REASON_MAX, _locked, _require, _user

# Calendar days from assignment to the deadline, per grade ("major: deadline days not weeks").
DEADLINE_DAYS: dict[str, int] = {Grade.TRIVIA: 3, Grade.CIVIL: 15, Grade.MAJOR: 7}
# A yellow card the day after the deadline; a red card once this many more days have passed.
RED_AFTER_DAYS = 3
EXTENSION_MIN, EXTENSION_MAX = 1, 30
# Statuses in which the deadline runs: assigned, being mediated, or reopened. An agreed or failed
# case has been mediated; a finished one is left alone.
RUNNING = frozenset({Status.ASSIGNED, Status.MEDIATING, Status.REOPENED})


def deadline_for(grade: str, start: date) -> date:
    """Return the deadline of a case of `grade` assigned on `start` (calendar days)."""
    return start + timedelta(days=DEADLINE_DAYS.get(grade, DEADLINE_DAYS[Grade.CIVIL]))


def pending_extension(dispute: Dispute) -> Extension | None:
    return dispute.extensions.filter(state=ExtensionState.PENDING).first()


def chiefs_of(station_id: int) -> list[Any]:
    """Return the active users holding the chief's role on the station."""
    return [
        m.user
        for m in Membership.objects.filter(
            area_id=station_id, role=Role.CHIEF, user__is_active=True
        )
        .select_related("user")
        .order_by("user_id")
    ]


def _notify(users: list[Any], *, kind: str, title: str, body: str, url: str) -> None:
    seen: set[int] = set()
    rows = []
    for u in users:
        if u.pk in seen:
            continue
        seen.add(u.pk)
        rows.append(Notification(user=u, kind=kind, title=title[:200], body=body, url=url[:300]))
    Notification.objects.bulk_create(rows)


def _case_url(dispute: Dispute) -> str:
    return f"/disputes/{dispute.pk}/"


# --- deadlines and extensions ---


def extension_request(*, actor: Any, dispute: Dispute, days: Any, reason: str) -> Extension:
    """Ask the chief for more days; each chief of the station is notified."""
    _require(actor, "dispute.handle", dispute, _("您无权办理该案件。"))
    errors: dict[str, list[str]] = {}
    try:
        n = int(str(days).strip())
    except (TypeError, ValueError):
        n = 0
        errors["days"] = [_("延期天数应为整数。")]
    if not errors and not EXTENSION_MIN <= n <= EXTENSION_MAX:
        errors["days"] = [
            _("延期天数应在 %(low)d 到 %(high)d 天之间。")
            % {"low": EXTENSION_MIN, "high": EXTENSION_MAX}
        ]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("请说明延期理由。")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("理由不能超过%(n)d个字。") % {"n": REASON_MAX}]
    if errors:
        raise ValidationFailed(_("请修改标出的错误后再提交。"), fields=errors)
    with transaction.atomic():
        current = _locked(dispute, None)
        if current.finished or current.deadline is None or current.status not in RUNNING:
            raise IllegalTransition(
                _("只有已指派、尚在办理期限内管理的案件才能申请延期。"), code="no_deadline"
            )
        if pending_extension(current) is not None:
            raise IllegalTransition(
                _("本案已有待审批的延期申请，请等待所长审批。"), code="extension_pending"
            )
        ext = Extension.objects.create(
            dispute=current,
            station_id=current.station_id,
            days=n,
            reason=reason,
            requested_by=_user(actor),
        )
        audit_record(
            actor=actor,
            action="disputes.extension.requested",
            obj=current,
            changes={"extension_id": ext.pk, "days": n, "reason": reason},
        )
        _notify(
            chiefs_of(current.station_id),
            kind="disputes.extension",
            title=_("%(case)s申请延期%(n)d天") % {"case": current.case_number, "n": n},
            body=reason,
            url=_case_url(current),
        )
    return ext


def extension_decide(
    *, actor: Any, extension: Extension, approve: bool, note: str = ""
) -> Extension:
    """The chief approves (the deadline moves) or rejects an extension request; audited."""
    dispute = extension.dispute
    _require(actor, "dispute.route", dispute, _("只有所长可以审批延期申请。"))
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed(
            _("审批意见不能超过%(n)d个字。") % {"n": 200},
            fields={"note": [_("审批意见不能超过%(n)d个字。") % {"n": 200}]},
        )
    if not approve and not note:
        raise ValidationFailed(
            _("驳回延期申请请说明理由。"), fields={"note": [_("请说明驳回理由。")]}
        )
    with transaction.atomic():
        ext = Extension.objects.select_for_update().get(pk=extension.pk)
        if ext.state != ExtensionState.PENDING:
            raise IllegalTransition(_("该延期申请已经审批过了。"), code="already_decided")
        current = _locked(dispute, None)
        ext.state = ExtensionState.APPROVED if approve else ExtensionState.REJECTED
        ext.decided_by, ext.decided_at, ext.decision_note = _user(actor), timezone.now(), note
        ext.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        changes: dict[str, Any] = {"extension_id": ext.pk, "days": ext.days, "note": note}
        if approve:
            if current.finished or current.deadline is None:
                raise IllegalTransition(
                    _("案件已办结或尚无办理期限，不能延期。"), code="no_deadline"
                )
            old = current.deadline
            current.deadline = old + timedelta(days=ext.days)
            current.extended_days += ext.days
            fields = ["deadline", "extended_days", "version", "updated_by", "updated_at"]
            if current.deadline >= timezone.localdate() and current.supervision != Supervision.NONE:
                # Back within its deadline: the card is lifted, and a new lapse escalates anew.
                changes["supervision"] = [current.supervision, Supervision.NONE]
                current.supervision, current.supervised_at = Supervision.NONE, None
                fields += ["supervision", "supervised_at"]
            current.version += 1
            current.updated_by = _user(actor)
            current.save(update_fields=fields)
            changes["deadline"] = [old.isoformat(), current.deadline.isoformat()]
        audit_record(
            actor=actor,
            action=f"disputes.extension.{ext.state}",
            obj=current,
            changes=changes,
        )
        if ext.requested_by_id is not None:
            verdict = _("已批准") if approve else _("已驳回")
            _notify(
                [ext.requested_by],
                kind="disputes.extension",
                title=_("%(case)s的延期申请%(verdict)s")
                % {"case": current.case_number, "verdict": verdict},
                body=note,
                url=_case_url(current),
            )
    return ext


# --- supervision ---


def supervision_level(deadline: date | None, today: date) -> str:
    """Return the card a running case deserves on `today`."""
    if deadline is None or today <= deadline:
        return Supervision.NONE
    if today > deadline + timedelta(days=RED_AFTER_DAYS):
        return Supervision.RED
    return Supervision.YELLOW


SEVERITY: dict[str, int] = {Supervision.NONE: 0, Supervision.YELLOW: 1, Supervision.RED: 2}


def supervision_sweep(
    *, today: date | None = None, station_id: int | None = None
) -> dict[str, int]:
    """Raise the card of every running case past its deadline; notify the chiefs once per rise.

    Idempotent: a card only ever rises, and each rise writes one audit entry and one
    notification per chief, so running the sweep twice notifies nobody twice.
    """
    today = today or timezone.localdate()
    qs = Dispute.objects.filter(status__in=sorted(RUNNING), deadline__lt=today).exclude(
        supervision=Supervision.RED
    )
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    counts: dict[str, int] = {Supervision.YELLOW: 0, Supervision.RED: 0}
    chiefs: dict[int, list[Any]] = {}
    for pk in qs.order_by("id").values_list("pk", flat=True).iterator():
        with transaction.atomic():
            current = Dispute.objects.select_for_update().filter(pk=pk).first()
            if current is None or current.status not in RUNNING:
                continue
            level = supervision_level(current.deadline, today)
            if SEVERITY[level] <= SEVERITY[current.supervision]:
                continue
            assert current.deadline is not None
            old = current.supervision
            current.supervision, current.supervised_at = level, timezone.now()
            current.version += 1
            current.save(update_fields=["supervision", "supervised_at", "version", "updated_at"])
            overdue = (today - current.deadline).days
            audit_record(
                actor=None,
                action="disputes.dispute.supervised",
                obj=current,
                changes={
                    "supervision": [old, level],
                    "deadline": current.deadline.isoformat(),
                    "days_overdue": overdue,
                },
            )
            if current.station_id not in chiefs:
                chiefs[current.station_id] = chiefs_of(current.station_id)
            card = _("红牌督办") if level == Supervision.RED else _("黄牌督办")
            _notify(
                chiefs[current.station_id],
                kind=f"disputes.supervision.{level}",
                title=_("%(case)s超期%(n)d天，%(card)s")
                % {"case": current.case_number, "n": overdue, "card": card},
                body=_("办理期限：%(deadline)s。") % {"deadline": current.deadline.isoformat()},
                url=_case_url(current),
            )
            counts[level] += 1
    return {str(k): v for k, v in counts.items()}
