"""Follow-up visits (回访): scheduled by themselves when an agreement takes effect, then recorded.

A visit that finds the agreement not honoured, or a party dissatisfied (satisfaction 2 or
less), reopens the case with the reason, through the transition table: closed → reopened, and
an agreed case not yet closed is closed first (agreed → closed → reopened), both steps on the
timeline. Every write is audited against the dispute, so the case timeline shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from fengqiao.accounts.access import scope_for, user_can
from fengqiao.accounts.models import Membership, Notification
from fengqiao.core.audit import audit_record
from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.pagination import Page, keyset_page
from fengqiao.disputes.choices import FollowUpKind, FollowUpState, Status
from fengqiao.disputes.models import Agreement, Dispute, FollowUp, Mediator

# Days after the agreement takes effect at which the mediator visits the parties again.
FOLLOWUP_DAYS = ((7, FollowUpKind.DAYS_7), (30, FollowUpKind.DAYS_30))
# Satisfaction at or below this reopens the case, like an agreement not honoured.
DISSATISFIED_MAX = 2
COMMENT_MAX = 1000
REASON_MAX = 500
# A visit added by hand is at most this far ahead.
ADD_AHEAD_DAYS = 366
# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = timedelta(minutes=5)
# The due list's tabs.
WHEN = ("overdue", "today", "upcoming", "all")

Errors = dict[str, list[str]]


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _require_handle(actor: Any, dispute: Dispute) -> None:
    # actor=None is the system itself (commands, demo data): no person to check.
    if actor is not None and not user_can(
        actor, "dispute.handle", station_id=dispute.station_id, area_id=dispute.area_id
    ):
        raise PermissionDenied(_("您无权办理该纠纷。"))


def _invalid(errors: Errors) -> ValidationFailed:
    return ValidationFailed(_("请修改标出的错误后再保存。"), fields=errors)


# --- scheduling ---


def followups_schedule(*, actor: Any, agreement: Agreement) -> list[FollowUp]:
    """Schedule the visits of a concluded agreement: 7 and 30 days on, and each item's due date.

    Called inside the transaction that concludes the agreement; an item due on the day of a
    fixed visit shares it rather than making a second visit the same day. An item whose due
    date is already past when the agreement takes effect gets no visit of its own (the 7-day
    visit asks about it). Visits of an earlier agreement of the case still waiting are
    cancelled: the latest agreement counts.
    """
    assert agreement.concluded_at is not None
    user = _user(actor)
    start: date = timezone.localtime(agreement.concluded_at).date()
    planned: dict[date, FollowUp] = {}
    for days, kind in FOLLOWUP_DAYS:
        day = start + timedelta(days=days)
        planned[day] = FollowUp(kind=kind, due_date=day)
    for item in agreement.items.filter(due_date__gte=start).order_by("due_date", "id"):
        assert item.due_date is not None
        if item.due_date not in planned:
            planned[item.due_date] = FollowUp(kind=FollowUpKind.ITEM_DUE, due_date=item.due_date)
        if planned[item.due_date].item_id is None:
            planned[item.due_date].item = item
    earlier = list(
        FollowUp.objects.filter(dispute_id=agreement.dispute_id, state=FollowUpState.SCHEDULED)
        .exclude(agreement_id=agreement.pk)
        .values_list("id", flat=True)
    )
    if earlier:
        FollowUp.objects.filter(pk__in=earlier).update(
            state=FollowUpState.CANCELLED,
            comment=_("已达成新的调解协议，原回访取消。"),
            updated_by=user,
            updated_at=timezone.now(),
        )
    rows = []
    for day in sorted(planned):
        row = planned[day]
        row.dispute_id = agreement.dispute_id
        row.station_id = agreement.station_id
        row.agreement = agreement
        row.created_by = row.updated_by = user
        rows.append(row)
    created = FollowUp.objects.bulk_create(rows)
    changes: dict[str, Any] = {
        "agreement": agreement.number,
        "visits": [{"kind": r.kind, "due_date": r.due_date.isoformat()} for r in created],
    }
    if earlier:
        changes["cancelled"] = earlier
    audit_record(
        actor=actor, action="disputes.followup.scheduled", obj=agreement.dispute, changes=changes
    )
    return created


# --- reads ---


def followups_visible(user: Any) -> Any:
    """Return the follow-ups of the disputes the user may see."""
    scope = scope_for(user, "dispute.view")
    # The station filter lets the index on the visits work; the cases' own rule (a mediator
    # sees their cases and their pools' queue) decides the rest.
    return FollowUp.objects.filter(
        scope.q(area_field="dispute__area_id"),
        dispute__in=Dispute.objects.visible_to(user).values("pk"),
    )


def access_followup(user: Any, dispute: Dispute, pk: int) -> FollowUp:
    """Return the follow-up of this (already accessed) dispute; 404 for another case's."""
    row = (
        FollowUp.objects.select_related("agreement", "item", "visited_by")
        .filter(dispute_id=dispute.pk, pk=pk)
        .first()
    )
    if row is None:
        raise Http404
    row.dispute = dispute
    return row


def followups_of(*, dispute: Dispute) -> list[FollowUp]:
    """Return the case's visits, in the order they are due."""
    return list(
        FollowUp.objects.filter(dispute_id=dispute.pk)
        .select_related("agreement", "item", "visited_by")
        .order_by("due_date", "id")
    )


def followups_due(
    *,
    user: Any,
    when: str = "all",
    mine: bool = False,
    cursor: str | None = None,
    size: int = 50,
) -> Page[FollowUp]:
    """Return a key-based page of the visits still to make, earliest due first.

    `when`: overdue (due before today), today, upcoming (after today) or all. `mine`: only the
    cases whose mediator's account is the user.
    """
    today = timezone.localdate()
    qs = followups_visible(user).filter(state=FollowUpState.SCHEDULED)
    if when == "overdue":
        qs = qs.filter(due_date__lt=today)
    elif when == "today":
        qs = qs.filter(due_date=today)
    elif when == "upcoming":
        qs = qs.filter(due_date__gt=today)
    if mine:
        mediator_ids = list(Mediator.objects.filter(user=user).values_list("id", flat=True))
        qs = qs.filter(dispute__mediator_id__in=mediator_ids)
    qs = qs.select_related("dispute", "dispute__mediator", "agreement", "item").only(
        "id",
        "due_date",
        "kind",
        "state",
        "station_id",
        "dispute_id",
        "agreement_id",
        "item_id",
        "dispute__id",
        "dispute__case_number",
        "dispute__status",
        "dispute__colour",
        "dispute__area_id",
        "dispute__station_id",
        "dispute__mediator__name",
        "agreement__number",
        "item__description",
        "item__due_date",
    )
    return keyset_page(qs, order=("due_date", "id"), cursor=cursor, size=size)


# --- input ---


def _clean_text(value: Any, key: str, limit: int, errors: Errors) -> str:
    text = "" if value is None else str(value).strip()
    if "\x00" in text:
        errors[key] = [_("不能包含空字符。")]
    elif len(text) > limit:
        errors[key] = [_("不能超过%(n)d个字。") % {"n": limit}]
    return text


def _clean_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in {"yes", "true", "1", "on"}:
        return True
    if text in {"no", "false", "0", "off"}:
        return False
    return None


def _clean_satisfaction(value: Any, errors: Errors) -> int | None:
    message = _("满意度应为 1 到 5 之间的整数（1 非常不满意，5 非常满意）。")
    if value is None or value == "" or isinstance(value, bool):
        errors["satisfaction"] = [message]
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors["satisfaction"] = [message]
        return None
    if not 1 <= number <= 5:
        errors["satisfaction"] = [message]
        return None
    return number


def _clean_moment(value: Any, errors: Errors) -> datetime | None:
    if value is None or value == "":
        errors["visited_at"] = [_("请填写回访时间。")]
        return None
    moment = value if isinstance(value, datetime) else parse_datetime(str(value).strip())
    if moment is None:
        errors["visited_at"] = [_("回访时间格式不正确，例如 2026-05-01 14:30。")]
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _clean_day(value: Any, errors: Errors) -> date | None:
    if value is None or value == "":
        errors["due_date"] = [_("请填写应回访日期。")]
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    day = parse_date(str(value).strip())
    if day is None:
        errors["due_date"] = [_("日期格式不正确，例如 2026-05-01。")]
    return day


@dataclass(frozen=True)
class Visit:
    """A visit's findings, checked."""

    honoured: bool
    satisfaction: int
    comment: str
    visited_at: datetime

    @property
    def reopens(self) -> bool:
        return not self.honoured or self.satisfaction <= DISSATISFIED_MAX


def clean_visit(
    *, followup: FollowUp, honoured: Any, satisfaction: Any, comment: Any, visited_at: Any
) -> Visit:
    """Check a visit's findings; raise ValidationFailed with every error at once."""
    errors: Errors = {}
    honoured_value = _clean_bool(honoured)
    if honoured_value is None:
        errors["honoured"] = [_("请选择协议是否已履行。")]
    score = _clean_satisfaction(satisfaction, errors)
    text = _clean_text(comment, "comment", COMMENT_MAX, errors)
    moment = _clean_moment(visited_at, errors)
    if "comment" not in errors and not text:
        if honoured_value is False:
            errors["comment"] = [_("协议未履行时，请写明回访情况（哪一方、哪一项没有履行）。")]
        elif score is not None and score <= DISSATISFIED_MAX:
            errors["comment"] = [_("当事人不满意时，请写明不满意的原因。")]
    if moment is not None:
        if moment > timezone.now() + CLOCK_SKEW:
            errors["visited_at"] = [_("回访时间不能晚于现在。")]
        else:
            agreement = followup.agreement
            since = (
                agreement.concluded_at
                if agreement is not None and agreement.concluded_at
                else followup.dispute.reported_at
            )
            # Forms give the time to the minute: the minute of the agreement itself is fine.
            if since is not None and moment < since.replace(second=0, microsecond=0):
                errors["visited_at"] = [
                    _("回访时间不能早于%(when)s（协议生效或案件登记的时间）。")
                    % {"when": timezone.localtime(since).strftime("%Y-%m-%d %H:%M")}
                ]
    if errors:
        raise _invalid(errors)
    assert honoured_value is not None and score is not None and moment is not None
    return Visit(honoured=honoured_value, satisfaction=score, comment=text, visited_at=moment)


# --- writes ---


def _locked_followup(followup: FollowUp) -> FollowUp:
    """Return the visit locked; 409 unless it is still waiting to be made."""
    current = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("agreement", "item")
        .get(pk=followup.pk)
    )
    if current.state == FollowUpState.DONE:
        raise Conflict(
            _("该回访已于%(when)s记录，不能重复记录。")
            % {
                "when": timezone.localtime(current.visited_at).strftime("%Y-%m-%d %H:%M")
                if current.visited_at
                else ""
            },
            code="already_recorded",
        )
    if current.state == FollowUpState.CANCELLED:
        raise IllegalTransition(_("该回访已取消，不能再记录或取消。"), code="cancelled")
    return current


def _reopen_reason(followup: FollowUp, visit: Visit) -> str:
    why = []
    if not visit.honoured:
        why.append(_("协议未履行"))
    if visit.satisfaction <= DISSATISFIED_MAX:
        why.append(_("当事人不满意（满意度 %(n)d）") % {"n": visit.satisfaction})
    head = _("回访（%(kind)s，应回访日期 %(day)s）发现：%(why)s。") % {
        "kind": FollowUpKind(followup.kind).label,
        "day": followup.due_date.isoformat(),
        "why": "、".join(str(w) for w in why),
    }
    text = f"{head}{visit.comment}"
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def _reopen(*, actor: Any, dispute: Dispute, reason: str) -> list[str]:
    """Reopen the case through the transition table; return the statuses it passed through."""
    from fengqiao.disputes.services import dispute_transition

    current = Dispute.objects.select_for_update().get(pk=dispute.pk)
    steps: list[str] = []
    if current.status == Status.AGREED:
        # The table reopens only a closed case: an agreed one is closed first, then reopened.
        current = dispute_transition(
            actor=actor,
            dispute=current,
            to=Status.CLOSED,
            version=current.version,
            reason=_("回访发现协议未履行或当事人不满意，先结案再重新办理。"),
        )
        steps.append(Status.CLOSED)
    if current.status == Status.CLOSED:
        dispute_transition(
            actor=actor,
            dispute=current,
            to=Status.REOPENED,
            version=current.version,
            reason=reason,
        )
        steps.append(Status.REOPENED)
    return steps


def _notify_reopened(*, actor: Any, dispute: Dispute, reason: str) -> None:
    """Tell the case's mediator and the station's chiefs that a visit reopened the case."""
    ids = set(
        Membership.objects.filter(
            area_id=dispute.station_id, role="chief", user__is_active=True
        ).values_list("user_id", flat=True)
    )
    mediator_user = (
        Mediator.objects.filter(pk=dispute.mediator_id).values_list("user_id", flat=True).first()
        if dispute.mediator_id
        else None
    )
    if mediator_user:
        ids.add(mediator_user)
    ids.discard(getattr(_user(actor), "pk", None))
    title = _("%(case)s 回访发现协议未履行或当事人不满意，已重新办理") % {
        "case": dispute.case_number
    }
    Notification.objects.bulk_create(
        Notification(
            user_id=uid,
            kind="dispute.reopened",
            title=title[:200],
            body=reason,
            url=f"/disputes/{dispute.pk}/",
        )
        for uid in sorted(ids)
    )


def followup_record(
    *,
    actor: Any,
    followup: FollowUp,
    honoured: Any,
    satisfaction: Any,
    comment: str = "",
    visited_at: Any = None,
) -> FollowUp:
    """Record a visit; not honoured or dissatisfied reopens the case with the reason; audited.

    A case that is still open (already reopened, say) stays as it is; a case referred,
    withdrawn or terminated cannot be reopened, so the finding is recorded and said so.
    """
    dispute = followup.dispute
    _require_handle(actor, dispute)
    visit = clean_visit(
        followup=followup,
        honoured=honoured,
        satisfaction=satisfaction,
        comment=comment,
        visited_at=visited_at,
    )
    user = _user(actor)
    with transaction.atomic():
        current = _locked_followup(followup)
        current.dispute = dispute
        current.state = FollowUpState.DONE
        current.honoured, current.satisfaction = visit.honoured, visit.satisfaction
        current.comment, current.visited_at = visit.comment, visit.visited_at
        current.visited_by = user
        current.updated_by = user
        steps: list[str] = []
        cancelled: list[int] = []
        if visit.reopens:
            reason = _reopen_reason(current, visit)
            steps = _reopen(actor=actor, dispute=dispute, reason=reason)
            current.reopened = bool(steps)
            if steps:
                _notify_reopened(actor=actor, dispute=dispute, reason=reason)
            if steps and current.agreement_id is not None:
                # The broken agreement's later visits have nothing left to check.
                cancelled = list(
                    FollowUp.objects.filter(
                        agreement_id=current.agreement_id, state=FollowUpState.SCHEDULED
                    )
                    .exclude(pk=current.pk)
                    .values_list("id", flat=True)
                )
                FollowUp.objects.filter(pk__in=cancelled).update(
                    state=FollowUpState.CANCELLED,
                    comment=_("协议未履行或当事人不满意，案件已重新办理，本次回访取消。"),
                    updated_by=user,
                    updated_at=timezone.now(),
                )
        current.save(
            update_fields=[
                "state",
                "honoured",
                "satisfaction",
                "comment",
                "visited_at",
                "visited_by",
                "reopened",
                "updated_by",
                "updated_at",
            ]
        )
        changes: dict[str, Any] = {
            "followup_id": current.pk,
            "kind": current.kind,
            "due_date": current.due_date.isoformat(),
            "visited_at": visit.visited_at.isoformat(),
            "honoured": visit.honoured,
            "satisfaction": visit.satisfaction,
            "comment": visit.comment,
            "reopened": current.reopened,
        }
        if visit.reopens and not steps:
            changes["not_reopened"] = dispute.status
        if cancelled:
            changes["cancelled"] = cancelled
        audit_record(actor=actor, action="disputes.followup.recorded", obj=dispute, changes=changes)
    if steps:
        dispute.refresh_from_db()
    return current


def followup_cancel(*, actor: Any, followup: FollowUp, reason: str) -> FollowUp:
    """Cancel a visit not yet made, saying why; audited."""
    dispute = followup.dispute
    _require_handle(actor, dispute)
    errors: Errors = {}
    text = _clean_text(reason, "reason", REASON_MAX, errors)
    if not text and not errors:
        errors["reason"] = [_("请说明取消回访的理由。")]
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        current = _locked_followup(followup)
        current.state = FollowUpState.CANCELLED
        current.comment = text
        current.updated_by = _user(actor)
        current.save(update_fields=["state", "comment", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="disputes.followup.cancelled",
            obj=dispute,
            changes={
                "followup_id": current.pk,
                "kind": current.kind,
                "due_date": current.due_date.isoformat(),
                "reason": text,
            },
        )
    current.dispute = dispute
    return current


def followup_add(*, actor: Any, dispute: Dispute, due_date: Any, note: str = "") -> FollowUp:
    """Add a visit by hand to a case that reached an agreement; audited."""
    _require_handle(actor, dispute)
    errors: Errors = {}
    day = _clean_day(due_date, errors)
    text = _clean_text(note, "note", REASON_MAX, errors)
    today = timezone.localdate()
    if day is not None and "due_date" not in errors:
        if day < today:
            errors["due_date"] = [_("应回访日期不能早于今天。")]
        elif day > today + timedelta(days=ADD_AHEAD_DAYS):
            errors["due_date"] = [_("应回访日期不能晚于一年以后。")]
    if errors:
        raise _invalid(errors)
    assert day is not None
    if dispute.status in {Status.WITHDRAWN, Status.TERMINATED, Status.REFERRED}:
        raise IllegalTransition(
            _("案件已“%(status)s”，不再安排回访。") % {"status": Status(dispute.status).label},
            code="finished",
        )
    agreement = (
        Agreement.objects.filter(dispute_id=dispute.pk, concluded_at__isnull=False)
        .order_by("-concluded_at", "-id")
        .first()
    )
    if agreement is None:
        raise IllegalTransition(_("本案尚未达成调解协议，不能安排回访。"), code="no_agreement")
    user = _user(actor)
    with transaction.atomic():
        row = FollowUp.objects.create(
            dispute=dispute,
            station_id=dispute.station_id,
            agreement=agreement,
            kind=FollowUpKind.OTHER,
            due_date=day,
            comment=text,
            created_by=user,
            updated_by=user,
        )
        audit_record(
            actor=actor,
            action="disputes.followup.added",
            obj=dispute,
            changes={
                "followup_id": row.pk,
                "kind": row.kind,
                "due_date": day.isoformat(),
                "note": text,
            },
        )
    return row
