"""State moves of an incident: dispatch, arrival, close, conversion to a dispute.

Keyword-only, atomic, audited (`incidents.incident.<verb>`); each move is checked against the
model's transition table and the row's version, as the services of intake and correction are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.models import Membership
from fengqiao.accounts.roles import PERMISSIONS
from fengqiao.core.audit import audit_record, diff, snapshot
from fengqiao.disputes.editing import dispute_open_from
from fengqiao.disputes.validation import clean_moment
from fengqiao.incidents.choices import Disposition, Linkage, Status
from fengqiao.incidents.models import Incident
from fengqiao.incidents.services import (
    CLOCK_SKEW,
    LABEL,
    NOTE_MAX,
    TEAM_MAX,
    Errors,
    _check_move,
    _invalid,
    _locked,
    _require,
    _text,
    _user,
)


def _moment(
    value: datetime | str | None, key: str, label: str, *, after: datetime, now: datetime
) -> datetime:
    """Return the moment of a step (now when not given): never before `after` nor in the future."""
    if value in (None, ""):
        return max(now, after)
    errors: Errors = {}
    moment = clean_moment(value, key, label, errors)
    if moment is None:
        raise _invalid(errors)
    if moment > now + CLOCK_SKEW:
        raise _invalid({key: [_("%(label)s不能晚于当前时间。") % {"label": label}]})
    if moment < after:
        raise _invalid(
            {
                key: [
                    _("%(label)s不能早于%(when)s。")
                    % {"label": label, "when": timezone.localtime(after).strftime("%Y-%m-%d %H:%M")}
                ]
            }
        )
    return moment


def station_staff(station_id: int) -> Any:
    """Return the active users who may handle incidents at the station (the dispatch choices)."""
    from fengqiao.accounts.models import User

    roles = sorted(PERMISSIONS["incident.handle"])
    ids = Membership.objects.filter(
        Q(area_id=station_id) | Q(area__station_id=station_id), role__in=roles
    ).values("user_id")
    return User.objects.filter(pk__in=ids, is_active=True).order_by("username")


def incident_dispatch(
    *,
    actor: Any,
    incident: Incident,
    officer_id: int | str | None = None,
    team: str = "",
    at: datetime | str | None = None,
    version: int | None = None,
) -> Incident:
    """Send an officer of the station or a team (at least one) to the incident."""
    _require(actor, "incident.handle", incident, _("您无权对该警情派警。"))
    team = _text(team)
    errors: Errors = {}
    officer = None
    if officer_id not in (None, ""):
        try:
            oid = int(str(officer_id))
        except ValueError:
            oid = 0
        officer = station_staff(incident.station_id).filter(pk=oid).first()
        if officer is None:
            errors["officer_id"] = [_("所选民警不是本所处警人员。")]
    if len(team) > TEAM_MAX:
        errors["team"] = [_("处警队伍名称不能超过 %(n)d 字。") % {"n": TEAM_MAX}]
    if officer is None and not team and not errors:
        errors["officer_id"] = [_("请选择处警民警或填写处警队伍。")]
    with transaction.atomic():
        current = _locked(incident, version)
        _check_move(current, Status.DISPATCHED)
        if errors:
            raise _invalid(errors)
        now = timezone.now()
        when = _moment(at, "dispatched_at", _("派警时间"), after=current.reported_at, now=now)
        before = snapshot(current, ["status", "officer_id", "team", "dispatched_at"])
        current.status = Status.DISPATCHED
        current.officer = officer
        current.team = team
        current.dispatched_at = when
        return _save_move(actor, current, before, "dispatched")


def _save_move(actor: Any, incident: Incident, before: dict[str, Any], verb: str) -> Incident:
    incident.version += 1
    incident.updated_by = _user(actor)
    incident.save(
        update_fields=[
            *(k.removesuffix("_id") for k in before),
            "version",
            "updated_by",
            "updated_at",
        ]
    )
    changes = diff(before, snapshot(incident, before.keys()), incident.audit_redacted)
    audit_record(actor=actor, action=f"{LABEL}.{verb}", obj=incident, changes=changes)
    return incident


def incident_arrive(
    *,
    actor: Any,
    incident: Incident,
    at: datetime | str | None = None,
    version: int | None = None,
) -> Incident:
    """Record that the officer or team sent reached the scene."""
    _require(actor, "incident.handle", incident, _("您无权登记该警情的到场。"))
    with transaction.atomic():
        current = _locked(incident, version)
        _check_move(current, Status.ON_SCENE)
        after = current.dispatched_at or current.reported_at
        when = _moment(at, "arrived_at", _("到场时间"), after=after, now=timezone.now())
        before = snapshot(current, ["status", "arrived_at"])
        current.status = Status.ON_SCENE
        current.arrived_at = when
        return _save_move(actor, current, before, "arrived")


def incident_close(
    *,
    actor: Any,
    incident: Incident,
    disposition: str,
    note: str = "",
    linkage: str = "",
    at: datetime | str | None = None,
    version: int | None = None,
) -> Incident:
    """Close the incident with a disposition; a dispute is closed only by `incident_convert`."""
    _require(actor, "incident.handle", incident, _("您无权处结该警情。"))
    disposition, linkage, note = _text(disposition), _text(linkage), _text(note)
    errors: Errors = {}
    if disposition == Disposition.DISPUTE:
        errors["disposition"] = [_("转为矛盾纠纷请使用“转为纠纷”操作，以便同时登记纠纷。")]
    elif disposition not in Disposition.values:
        errors["disposition"] = [_("请选择处置结果。")]
    if disposition == Disposition.REFERRED and linkage not in Linkage.values:
        errors["linkage"] = [_("移交联动单位时请选择联动单位。")]
    elif disposition != Disposition.REFERRED and linkage:
        errors["linkage"] = [_("只有移交联动单位时才填写联动单位。")]
    if len(note) > NOTE_MAX:
        errors["note"] = [_("处置情况不能超过 %(n)d 字。") % {"n": NOTE_MAX}]
    with transaction.atomic():
        current = _locked(incident, version)
        _check_move(current, Status.CLOSED)
        if errors:
            raise _invalid(errors)
        return _close(actor, current, disposition=disposition, linkage=linkage, note=note, at=at)


def _close(
    actor: Any,
    current: Incident,
    *,
    disposition: str,
    linkage: str,
    note: str,
    at: datetime | str | None,
    dispute_id: int | None = None,
    verb: str = "closed",
) -> Incident:
    after = current.arrived_at or current.dispatched_at or current.reported_at
    when = _moment(at, "closed_at", _("处结时间"), after=after, now=timezone.now())
    before = snapshot(
        current,
        [
            "status",
            "closed_at",
            "disposition",
            "linkage",
            "disposition_note",
            "valid",
            "dispute_id",
        ],
    )
    current.status = Status.CLOSED
    current.closed_at = when
    current.disposition = disposition
    current.linkage = linkage
    current.disposition_note = note
    current.valid = disposition != Disposition.INVALID
    current.dispute_id = dispute_id
    return _save_move(actor, current, before, verb)


def incident_convert(
    *,
    actor: Any,
    incident: Incident,
    type_code: str,
    scale: str,
    parties: Sequence[dict[str, Any]],
    narrative: str = "",
    note: str = "",
    at: datetime | str | None = None,
    version: int | None = None,
    **dispute_fields: Any,
) -> Incident:
    """Open a dispute from the incident (disputes.editing.dispute_open_from) and close the
    incident with disposition "dispute", in one transaction; a second call changes nothing.

    `dispute_fields` are further keywords of `dispute_intake` (people_count, amount, violence…).
    """
    _require(actor, "incident.handle", incident, _("您无权将该警情转为矛盾纠纷。"))
    if incident.status == Status.CLOSED and incident.dispute_id is not None:
        return incident
    note = _text(note)
    if len(note) > NOTE_MAX:
        raise _invalid({"note": [_("处置情况不能超过 %(n)d 字。") % {"n": NOTE_MAX}]})
    with transaction.atomic():
        current = _locked(incident, version)
        if current.status == Status.CLOSED and current.dispute_id is not None:
            return current
        _check_move(current, Status.CLOSED)
        where: dict[str, Any]
        if current.lat is not None and current.lng is not None:
            where = {"lat": current.lat, "lng": current.lng, "address": current.address}
        else:
            where = {"grid_id": current.area_id, "address": current.address or current.area.name}
        dispute = dispute_open_from(
            actor=actor,
            origin_label=LABEL,
            origin_id=current.pk,
            station_id=current.station_id,
            narrative=_text(narrative) or current.narrative,
            occurred_at=current.occurred_at,
            reported_at=current.reported_at,
            source="police_call",
            type_code=type_code,
            scale=scale,
            parties=list(parties),
            **where,
            **dispute_fields,
        )
        return _close(
            actor,
            current,
            disposition=Disposition.DISPUTE,
            linkage="",
            note=note or _("转为矛盾纠纷：%(n)s") % {"n": dispute.case_number},
            at=at,
            dispute_id=dispute.pk,
            verb="converted",
        )
