"""Mediation sessions: scheduling, changing, recording (attendance and minutes) and cancelling.

Every entry is written against the dispute, so the case timeline shows each step. The first
minuted session starts the mediation: the case moves to mediating through
`services.dispute_transition`, inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.core.audit import audit_record, diff, snapshot
from fengqiao.core.errors import IllegalTransition
from fengqiao.disputes import services
from fengqiao.disputes.choices import SessionState, Status
from fengqiao.disputes.mediation_checks import (
    NOTE_MAX,
    REASON_MAX,
    _bounded,
    _ids,
    _invalid,
    _locked_dispute,
    _locked_session,
    _require,
    _stale,
    _text,
    _user,
)
from fengqiao.disputes.models import Attendance, Dispute, MediationSession, Mediator, Party
from fengqiao.disputes.validation import Errors, clean_moment

# The statuses in which sessions are scheduled and minuted.
SESSION_STATUSES = frozenset({Status.ASSIGNED, Status.MEDIATING, Status.REOPENED})
PLACE_MAX = 200
MINUTES_MAX = 20000
NAME_MAX = 60
CAPACITY_MAX = 40
OTHERS_MAX = 30
# A session recorded as held a little "in the future" is a clock that runs fast, not a lie.
CLOCK_SLACK = timedelta(minutes=10)


def _check_session_status(dispute: Dispute) -> None:
    if dispute.status not in SESSION_STATUSES:
        labels = dict(Status.choices)
        raise IllegalTransition(
            _(
                "案件当前为“%(status)s”，只有已分流指派、调解中或重新办理的案件才能安排或记录调解会。"
            )
            % {"status": labels[dispute.status]},
            code="session_not_allowed",
        )


def _clean_others(others: Sequence[Mapping[str, Any]] | None, errors: Errors) -> list[dict]:
    """Return the participants who are not parties: name (required) and capacity."""
    rows: list[dict] = []
    if others is not None and len(others) > OTHERS_MAX:
        errors["others"] = [_("其他参会人员最多%(n)d人。") % {"n": OTHERS_MAX}]
        return rows
    for i, other in enumerate(others or ()):
        name = _text(other.get("name"))
        capacity = _text(other.get("capacity"))
        if not name:
            errors[f"others.{i}.name"] = [_("请填写参会人员姓名。")]
        elif len(name) > NAME_MAX:
            errors[f"others.{i}.name"] = [_("姓名不能超过%(n)d个字。") % {"n": NAME_MAX}]
        if len(capacity) > CAPACITY_MAX:
            errors[f"others.{i}.capacity"] = [_("身份不能超过%(n)d个字。") % {"n": CAPACITY_MAX}]
        rows.append({"name": name, "capacity": capacity})
    return rows


def _clean_session(
    dispute: Dispute, values: Mapping[str, Any], errors: Errors
) -> tuple[datetime | None, str, list[Mediator]]:
    moment = clean_moment(values.get("scheduled_at"), "scheduled_at", _("调解时间"), errors)
    if moment is not None and moment.year < 2000:
        errors["scheduled_at"] = [_("调解时间有误，请核对。")]
    place = _bounded(values, "place", _("调解地点"), PLACE_MAX, errors)
    wanted = _ids(values.get("mediator_ids"), "mediator_ids", _("调解员"), errors)
    mediators = list(
        Mediator.objects.filter(station_id=dispute.station_id, active=True, pk__in=wanted)
    )
    if len(mediators) != len(wanted):
        errors["mediator_ids"] = [_("所选调解员不在本所的调解员名册中，或已不在岗。")]
    return moment, place, mediators


def _participants(dispute: Dispute, party_ids: Sequence[Any] | None, errors: Errors) -> list[Party]:
    parties = list(dispute.parties.order_by("id"))
    if party_ids is None:
        return parties
    wanted = _ids(party_ids, "party_ids", _("当事人"), errors)
    chosen = [p for p in parties if p.pk in wanted]
    if len(chosen) != len(wanted):
        errors["party_ids"] = [_("所选当事人不属于本案。")]
    return chosen


def _names(mediators: Iterable[Mediator]) -> list[str]:
    return [m.name for m in mediators]


def session_schedule(
    *,
    actor: Any,
    dispute: Dispute,
    scheduled_at: datetime | str | None,
    place: str,
    mediator_ids: Sequence[Any] = (),
    party_ids: Sequence[Any] | None = None,
    others: Sequence[Mapping[str, Any]] | None = None,
) -> MediationSession:
    """Schedule a session: time, place, mediators, and who is expected (the parties by default)."""
    _require(actor, dispute)
    errors: Errors = {}
    values = {"scheduled_at": scheduled_at, "place": place, "mediator_ids": mediator_ids}
    moment, place_text, mediators = _clean_session(dispute, values, errors)
    parties = _participants(dispute, party_ids, errors)
    extra = _clean_others(others, errors)
    if not errors and not parties and not extra:
        errors["party_ids"] = [_("请至少选择一名参会人员。")]
    if errors:
        raise _invalid(errors)
    assert moment is not None
    user = _user(actor)
    with transaction.atomic():
        current = _locked_dispute(dispute)
        _check_session_status(current)
        # A double-clicked submit: the same session at the same time and place, once.
        same = current.sessions.filter(
            state=SessionState.SCHEDULED, scheduled_at=moment, place=place_text
        ).first()
        if same is not None:
            return same
        session = MediationSession.objects.create(
            dispute=current,
            station_id=current.station_id,
            scheduled_at=moment,
            place=place_text,
            created_by=user,
            updated_by=user,
        )
        session.mediators.set(mediators)
        Attendance.objects.bulk_create(
            [Attendance(session=session, party=p) for p in parties]
            + [Attendance(session=session, name=o["name"], capacity=o["capacity"]) for o in extra]
        )
        audit_record(
            actor=actor,
            action="disputes.session.scheduled",
            obj=current,
            changes={
                "session_id": session.pk,
                "scheduled_at": moment.isoformat(),
                "place": place_text,
                "mediators": _names(mediators),
                "participants": [p.name for p in parties] + [o["name"] for o in extra],
            },
        )
    return session


def session_update(
    *,
    actor: Any,
    session: MediationSession,
    version: int,
    scheduled_at: datetime | str | None,
    place: str,
    mediator_ids: Sequence[Any] = (),
    others: Sequence[Mapping[str, Any]] | None = None,
) -> MediationSession:
    """Change a scheduled session's time, place, mediators and other participants."""
    dispute = session.dispute
    _require(actor, dispute)
    errors: Errors = {}
    values = {"scheduled_at": scheduled_at, "place": place, "mediator_ids": mediator_ids}
    moment, place_text, mediators = _clean_session(dispute, values, errors)
    extra = _clean_others(others, errors) if others is not None else None
    if errors:
        raise _invalid(errors)
    assert moment is not None
    with transaction.atomic():
        current_dispute = _locked_dispute(dispute)
        current = _locked_session(session, version)
        _check_session_status(current_dispute)
        if current.state != SessionState.SCHEDULED:
            raise IllegalTransition(
                _("只有尚未召开的调解会才能修改安排。"), code="session_not_scheduled"
            )
        before = snapshot(current, ["scheduled_at", "place"])
        before["mediators"] = _names(current.mediators.all())
        current.scheduled_at, current.place = moment, place_text
        current.version += 1
        current.updated_by = _user(actor)
        current.save(update_fields=["scheduled_at", "place", "version", "updated_by", "updated_at"])
        current.mediators.set(mediators)
        after = snapshot(current, ["scheduled_at", "place"])
        after["mediators"] = _names(mediators)
        changes = diff(before, after)
        if extra is not None:
            old = list(current.attendance.filter(party__isnull=True).values_list("name", flat=True))
            current.attendance.filter(party__isnull=True).delete()
            Attendance.objects.bulk_create(
                [Attendance(session=current, name=o["name"], capacity=o["capacity"]) for o in extra]
            )
            if old != [o["name"] for o in extra]:
                changes["others"] = [old, [o["name"] for o in extra]]
        audit_record(
            actor=actor,
            action="disputes.session.updated",
            obj=current_dispute,
            changes={"session_id": current.pk, **changes},
        )
    return current


def session_record(
    *,
    actor: Any,
    session: MediationSession,
    version: int,
    minutes: str,
    attendance: Mapping[Any, Any] | None = None,
    held_at: datetime | str | None = None,
    notes: Mapping[Any, Any] | None = None,
) -> MediationSession:
    """Record a session as held: who came, the minutes; the first one starts the mediation.

    `attendance` maps attendance-row ids to True (came) or False (did not); rows not named
    keep their value. A case assigned or reopened moves to mediating with its first record.
    """
    dispute = session.dispute
    _require(actor, dispute)
    errors: Errors = {}
    minutes_text = _bounded({"minutes": minutes}, "minutes", _("调解记录"), MINUTES_MAX, errors)
    moment: datetime | None = timezone.now()
    if held_at not in (None, ""):
        moment = clean_moment(held_at, "held_at", _("召开时间"), errors)
        if moment is not None and moment > timezone.now() + CLOCK_SLACK:
            errors["held_at"] = [_("召开时间不能晚于现在。")]
    rows = {a.pk: a for a in session.attendance.all()}
    marks: dict[int, bool | None] = {}
    for key, value in (attendance or {}).items():
        try:
            pk = int(str(key))
        except ValueError:
            pk = -1
        if pk not in rows:
            errors["attendance"] = [_("参会人员不属于该调解会。")]
            break
        marks[pk] = None if value is None else bool(value)
    note_texts: dict[int, str] = {}
    for key, value in (notes or {}).items():
        try:
            pk = int(str(key))
        except ValueError:
            pk = -1
        text = _text(value)
        if pk not in rows:
            errors["attendance"] = [_("参会人员不属于该调解会。")]
        elif len(text) > NOTE_MAX:
            errors["attendance"] = [_("说明不能超过%(n)d个字。") % {"n": NOTE_MAX}]
        else:
            note_texts[pk] = text
    if errors:
        raise _invalid(errors)
    assert moment is not None
    with transaction.atomic():
        current_dispute = _locked_dispute(dispute)
        current = _locked_session(session, None)
        if (
            current.state == SessionState.HELD
            and current.version == version + 1
            and current.minutes == minutes_text
        ):
            return current  # the same record submitted twice: saved once
        if current.version != version:
            raise _stale(_("调解会"), version, current.version)
        _check_session_status(current_dispute)
        if current.state == SessionState.CANCELLED:
            raise IllegalTransition(_("该调解会已取消，不能记录。"), code="session_cancelled")
        first = current.state == SessionState.SCHEDULED
        before = snapshot(current, ["state", "held_at", "minutes"])
        current.state, current.held_at, current.minutes = SessionState.HELD, moment, minutes_text
        current.version += 1
        current.updated_by = _user(actor)
        current.save(
            update_fields=["state", "held_at", "minutes", "version", "updated_by", "updated_at"]
        )
        changed = []
        for pk, row in rows.items():
            new_mark = marks.get(pk, row.attended)
            new_note = note_texts.get(pk, row.note)
            if (new_mark, new_note) != (row.attended, row.note):
                row.attended, row.note = new_mark, new_note
                changed.append(row)
        if changed:
            Attendance.objects.bulk_update(changed, ["attended", "note"])
        audit_record(
            actor=actor,
            action="disputes.session.held" if first else "disputes.session.rerecorded",
            obj=current_dispute,
            changes={
                "session_id": current.pk,
                **diff(before, snapshot(current, before.keys())),
                "attendance": [
                    {"name": _attendee(a), "attended": a.attended} for a in rows.values()
                ],
            },
        )
        if current_dispute.status in {Status.ASSIGNED, Status.REOPENED}:
            services.dispute_transition(
                actor=actor,
                dispute=current_dispute,
                to=Status.MEDIATING,
                version=current_dispute.version,
            )
    return current


def _attendee(row: Attendance) -> str:
    if row.party_id is not None and row.party is not None:
        return row.party.name
    return row.name


def session_cancel(
    *, actor: Any, session: MediationSession, version: int, reason: str = ""
) -> MediationSession:
    """Cancel a session not yet held, with the reason."""
    dispute = session.dispute
    _require(actor, dispute)
    errors: Errors = {}
    reason_text = _bounded(
        {"reason": reason}, "reason", _("取消原因"), REASON_MAX, errors, required=False
    )
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        current_dispute = _locked_dispute(dispute)
        current = _locked_session(session, version)
        if current.state != SessionState.SCHEDULED:
            raise IllegalTransition(
                _("只有尚未召开的调解会才能取消。"), code="session_not_scheduled"
            )
        current.state = SessionState.CANCELLED
        current.version += 1
        current.updated_by = _user(actor)
        current.save(update_fields=["state", "version", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="disputes.session.cancelled",
            obj=current_dispute,
            changes={"session_id": current.pk, "reason": reason_text},
        )
    return current
