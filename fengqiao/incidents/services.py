"""Incident writes: intake, dispatch, arrival, close, conversion to a dispute, corrections.

Keyword-only, atomic, audited (`incidents.incident.<verb>`); every state move goes through
`Incident.TRANSITIONS` and an illegal one raises IllegalTransition with the reason in words.
The rollups follow every save through their own hooks (incidents.rollups); repeats are
re-flagged here, for the incident's address and caller only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fengqiao.accounts.access import scope_for, user_can
from fengqiao.accounts.models import Membership
from fengqiao.accounts.roles import PERMISSIONS
from fengqiao.areas.geo import locate_point
from fengqiao.areas.models import Area
from fengqiao.core.audit import audit_change, audit_record, diff, snapshot
from fengqiao.core.casenumbers import case_number_next
from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.pii import validate_phone
from fengqiao.core.text import search_document
from fengqiao.disputes.editing import dispute_open_from
from fengqiao.disputes.validation import clean_location, clean_moment
from fengqiao.incidents import repeats
from fengqiao.incidents.choices import Disposition, Linkage, Source, Status
from fengqiao.incidents.models import Incident, IncidentCategory, StationIncidentConfig

Errors = dict[str, list[str]]
LABEL = "incidents.incident"
CASE_PREFIX = "JQ"
NARRATIVE_MAX = 4000
NOTE_MAX = 2000
NAME_MAX = 60
TEAM_MAX = 60
EXTERNAL_MAX = 40
INTAKE_KEY_MAX = 64
# A clock a little ahead on the client is not "the future".
CLOCK_SKEW = timedelta(minutes=2)
# The facts an intake sets and a correction may change.
FACT_FIELDS = (
    "source",
    "category_code",
    "reported_at",
    "occurred_at",
    "narrative",
    "lat",
    "lng",
    "address",
    "grid_id",
    "caller_name",
    "caller_phone",
    "external_id",
)

# Why a state move is refused, by (from, to).
_REFUSALS: dict[tuple[str, str], Any] = {
    (Status.CLOSED, Status.DISPATCHED): gettext_lazy("警情已处结，不能再派警。"),
    (Status.DISPATCHED, Status.DISPATCHED): gettext_lazy("警情已派警，不能重复派警。"),
    (Status.ON_SCENE, Status.DISPATCHED): gettext_lazy("处警人员已到场，不能再派警。"),
    (Status.RECEIVED, Status.ON_SCENE): gettext_lazy("警情尚未派警，不能登记到场。"),
    (Status.ON_SCENE, Status.ON_SCENE): gettext_lazy("已登记到场，不能重复登记。"),
    (Status.CLOSED, Status.ON_SCENE): gettext_lazy("警情已处结，不能再登记到场。"),
    (Status.CLOSED, Status.CLOSED): gettext_lazy("警情已处结，不能重复处结。"),
}


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _invalid(errors: Errors) -> ValidationFailed:
    return ValidationFailed(_("请修改标出的错误后再保存。"), fields=errors)


def _require(actor: Any, perm: str, incident: Incident, message: str) -> None:
    """Raise PermissionDenied unless the actor holds `perm` on the incident; None is the system."""
    if actor is not None and not user_can(
        actor, perm, station_id=incident.station_id, area_id=incident.area_id
    ):
        raise PermissionDenied(message)


def _check_move(incident: Incident, to: str) -> None:
    if to not in Incident.TRANSITIONS[incident.status]:
        reason = _REFUSALS.get((incident.status, to)) or _("当前状态下不能进行该操作。")
        raise IllegalTransition(str(reason))


def _locked(incident: Incident, version: int | None) -> Incident:
    """Return the incident locked for update; Conflict if it moved past `version`."""
    current = Incident.objects.select_for_update().get(pk=incident.pk)
    if version is not None and current.version != version:
        raise Conflict(
            _(
                "该警情已被他人修改（您看到的是第 %(yours)d 版，现在是第 %(now)d 版），"
                "您的操作没有保存，请刷新后重试。"
            )
            % {"yours": version, "now": current.version}
        )
    return current


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


# --- validation shared by intake and correction ---


def category_for(code: str, errors: Errors, key: str = "category_code") -> IncidentCategory | None:
    """Return the active category with this code, or note why not."""
    code = _text(code)
    if not code:
        errors[key] = [_("请选择警情类别。")]
        return None
    found = IncidentCategory.objects.filter(code=code).first()
    if found is None:
        errors[key] = [_("未知的警情类别编码：%(code)s") % {"code": code}]
    elif found.is_class:
        errors[key] = [_("请选择“%(name)s”下的具体类别，而不是大类。") % {"name": found.name}]
    elif not found.active:
        errors[key] = [_("警情类别“%(name)s”已停用。") % {"name": found.name}]
    else:
        return found
    return None


def _locate(
    station: Area, values: dict[str, Any], errors: Errors
) -> tuple[Area | None, float | None, float | None]:
    """Return the grid from the point, or the chosen grid of the station when there is none."""
    lat, lng = clean_location(values, errors)
    raw_grid = values.get("grid_id")
    grid_id: int | None = None
    if raw_grid not in (None, ""):
        try:
            grid_id = int(str(raw_grid))
        except ValueError:
            errors["grid_id"] = [_("请选择本所辖区内的网格。")]
            return None, lat, lng
    if lat is not None and lng is not None:
        try:
            grid = locate_point(station_id=station.pk, lat=lat, lng=lng)
        except ValidationFailed as exc:
            # locate_point says which point and why: the location field carries its message.
            errors.update(
                {k: [exc.message] if k == "location" else v for k, v in exc.fields.items()}
            )
            return None, lat, lng
        if grid_id is not None and grid_id != grid.pk:
            errors["grid_id"] = [_("所选网格与地图上的位置不一致。")]
        return grid, lat, lng
    if "lat" in errors or "lng" in errors:
        return None, None, None
    if grid_id is None:
        errors["location"] = [_("请在地图上选择位置，或选择网格。")]
        return None, None, None
    grid = (
        Area.objects.select_related("parent")
        .filter(pk=grid_id, kind="grid", station_id=station.pk)
        .first()
    )
    if grid is None:
        errors["grid_id"] = [_("请选择本所辖区内的网格。")]
    return grid, None, None


def _clean_facts(station: Area, values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Return the validated facts of an incident, or raise ValidationFailed with every error."""
    errors: Errors = {}
    out: dict[str, Any] = {}
    source = _text(values.get("source"))
    if source not in Source.values:
        errors["source"] = [_("请选择警情来源。")]
    out["source"] = source
    out["category"] = category_for(values.get("category_code") or "", errors)
    reported = clean_moment(values.get("reported_at"), "reported_at", _("报警时间"), errors)
    occurred = clean_moment(values.get("occurred_at"), "occurred_at", _("发生时间"), errors)
    if reported is not None and reported > now + CLOCK_SKEW:
        errors["reported_at"] = [_("报警时间不能晚于当前时间。")]
    if reported is not None and occurred is not None and occurred > reported:
        errors["occurred_at"] = [_("发生时间不能晚于报警时间。")]
    out["reported_at"], out["occurred_at"] = reported, occurred
    narrative = _text(values.get("narrative"))
    if not narrative:
        errors["narrative"] = [_("请填写简要警情。")]
    elif len(narrative) > NARRATIVE_MAX:
        errors["narrative"] = [_("简要警情不能超过 %(n)d 字。") % {"n": NARRATIVE_MAX}]
    out["narrative"] = narrative
    address = _text(values.get("address"))
    if len(address) > 200:
        errors["address"] = [_("地址不能超过 200 字。")]
    out["address"] = address
    name = _text(values.get("caller_name"))
    if len(name) > NAME_MAX:
        errors["caller_name"] = [_("报警人姓名不能超过 %(n)d 字。") % {"n": NAME_MAX}]
    out["caller_name"] = name
    phone = _text(values.get("caller_phone"))
    if phone:
        try:
            phone = validate_phone(phone)
        except ValidationError as exc:
            errors["caller_phone"] = list(exc.messages)
    out["caller_phone"] = phone
    external = _text(values.get("external_id"))
    if len(external) > EXTERNAL_MAX:
        errors["external_id"] = [_("接警单号不能超过 %(n)d 位。") % {"n": EXTERNAL_MAX}]
    out["external_id"] = external
    grid, lat, lng = _locate(station, values, errors)
    out["grid"], out["lat"], out["lng"] = grid, lat, lng
    if errors or grid is None:
        raise _invalid(errors)
    return out


def _external_taken(station_id: int, external_id: str, exclude: int | None = None) -> bool:
    qs = Incident.objects.filter(station_id=station_id, external_id=external_id)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return bool(external_id) and qs.exists()


def _apply_facts(incident: Incident, facts: dict[str, Any]) -> None:
    grid: Area = facts["grid"]
    category: IncidentCategory = facts["category"]
    incident.area = grid
    assert grid.parent_id is not None  # a grid always sits under a community or village
    incident.community_id = grid.parent_id
    incident.category = category
    incident.class_code = category.class_code
    for name in (
        "source",
        "reported_at",
        "occurred_at",
        "narrative",
        "address",
        "lat",
        "lng",
        "caller_name",
        "caller_phone",
        "external_id",
    ):
        setattr(incident, name, facts[name])
    incident.address_key = repeats.address_key(incident.address)
    incident.caller_bidx = repeats.caller_index(incident.caller_phone)
    # No bigram index for incidents (ADR 11): a million imported rows would write tens of
    # millions of grams. The list filters `search_text__contains` on each folded term, inside
    # the user's station scope and the list's other filters.
    incident.search_text = search_document(
        incident.case_number,
        incident.external_id,
        category.name,
        incident.address,
        incident.narrative,
    )


def _reflag_around(incident: Incident, *, address: str, caller: str, at: datetime) -> None:
    """Re-flag the incident and the others of its address and caller whose window it reaches."""
    if not (address or caller):
        return
    repeats.reflag(
        station_id=incident.station_id,
        first=at,
        last=at,
        address=address or None,
        caller=caller or None,
    )


# --- intake ---


def _reaches_station(actor: Any, perm: str, station: Area) -> bool:
    scope = scope_for(actor, perm)
    if scope.allows_station(station.pk):
        return True
    return bool(scope.area_ids) and (
        Area.objects.filter(pk__in=sorted(scope.area_ids), station_id=station.pk).exists()
    )


def incident_intake(
    *,
    actor: Any,
    station_id: int,
    source: str,
    category_code: str,
    reported_at: datetime | str | None,
    occurred_at: datetime | str | None,
    narrative: str,
    lat: float | str | None = None,
    lng: float | str | None = None,
    address: str = "",
    grid_id: int | str | None = None,
    caller_name: str = "",
    caller_phone: str = "",
    external_id: str = "",
    intake_key: str = "",
) -> Incident:
    """Log an incident: validate, locate its grid, number it, flag repeats, audit.

    `intake_key` (a client's one-time token) makes it idempotent: a second call with a key
    already used at the station creates nothing and returns the first incident with
    `replayed = True`. A station the actor cannot see is Http404; one they see but where they
    may not log incidents is PermissionDenied.
    """
    station = Area.objects.filter(pk=station_id, kind="station").first()
    if station is None:
        raise Http404
    if (
        actor is not None
        and not Area.objects.visible_to(actor).filter(station_id=station.pk).exists()
    ):
        raise Http404
    denied = _("您无权在该辖区登记警情。")
    if actor is not None and not _reaches_station(actor, "incident.intake", station):
        raise PermissionDenied(denied)
    intake_key = _text(intake_key)
    if len(intake_key) > INTAKE_KEY_MAX:
        raise _invalid({"intake_key": [_("重复提交校验码过长。")]})
    if intake_key:
        first = _replay(station.pk, intake_key)
        if first is not None:
            return first
    now = timezone.now()
    values = {
        "source": source,
        "category_code": category_code,
        "reported_at": reported_at,
        "occurred_at": occurred_at,
        "narrative": narrative,
        "lat": lat,
        "lng": lng,
        "address": address,
        "grid_id": grid_id,
        "caller_name": caller_name,
        "caller_phone": caller_phone,
        "external_id": external_id,
    }
    facts = _clean_facts(station, values, now)
    grid: Area = facts["grid"]
    if actor is not None and not user_can(
        actor, "incident.intake", station_id=station.pk, area_id=grid.pk
    ):
        raise PermissionDenied(_("您无权在该网格登记警情。"))
    if _external_taken(station.pk, facts["external_id"]):
        raise _invalid({"external_id": [_("接警单号已登记过，请勿重复登记。")]})
    try:
        with transaction.atomic():
            return _intake_save(actor=actor, station=station, facts=facts, key=intake_key)
    except IntegrityError:
        # Two submits with one key raced past the look-up: the loser returns the winner.
        first = _replay(station.pk, intake_key) if intake_key else None
        if first is None:
            if _external_taken(station.pk, facts["external_id"]):
                raise _invalid({"external_id": [_("接警单号已登记过，请勿重复登记。")]}) from None
            raise
        return first


def _replay(station_id: int, key: str) -> Incident | None:
    first = Incident.objects.filter(station_id=station_id, intake_key=key).first()
    if first is not None:
        first.replayed = True  # type: ignore[attr-defined]
    return first


def _intake_save(*, actor: Any, station: Area, facts: dict[str, Any], key: str) -> Incident:
    user = _user(actor)
    reported: datetime = facts["reported_at"]
    year = timezone.localtime(reported).year
    incident = Incident(
        station=station,
        status=Status.RECEIVED,
        intake_key=key,
        created_by=user,
        updated_by=user,
        case_number=case_number_next(station_id=station.pk, prefix=CASE_PREFIX, year=year),
    )
    _apply_facts(incident, facts)
    incident.save()
    _reflag_around(incident, address=incident.address_key, caller=incident.caller_bidx, at=reported)
    incident.refresh_from_db(fields=["repeat_address", "repeat_caller", "repeat_reasons"])
    audit_change(actor=actor, action=f"{LABEL}.created", obj=incident, before=None)
    return incident


# --- state moves ---


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


# --- corrections ---


def incident_update(*, actor: Any, incident: Incident, version: int, **changes: Any) -> Incident:
    """Correct the facts of an incident (only the keywords given); Conflict on a stale version."""
    unknown = set(changes) - set(FACT_FIELDS)
    if unknown:
        raise TypeError(f"incident_update does not change {sorted(unknown)}")
    _require(actor, "incident.intake", incident, _("您无权修改该警情的登记信息。"))
    with transaction.atomic():
        current = _locked(incident, version)
        station = Area.objects.get(pk=current.station_id)
        values: dict[str, Any] = {
            "source": current.source,
            "category_code": current.category.code,
            "reported_at": current.reported_at,
            "occurred_at": current.occurred_at,
            "narrative": current.narrative,
            "lat": current.lat,
            "lng": current.lng,
            "address": current.address,
            "grid_id": current.area_id if current.lat is None else None,
            "caller_name": current.caller_name,
            "caller_phone": current.caller_phone,
            "external_id": current.external_id,
        }
        if ("lat" in changes or "lng" in changes) and "grid_id" not in changes:
            values["grid_id"] = None
        if "grid_id" in changes and "lat" not in changes and "lng" not in changes:
            values["lat"] = values["lng"] = None
        values.update(changes)
        facts = _clean_facts(station, values, timezone.now())
        if actor is not None and not user_can(
            actor, "incident.intake", station_id=station.pk, area_id=facts["grid"].pk
        ):
            raise PermissionDenied(_("您无权在该网格登记警情。"))
        if _external_taken(station.pk, facts["external_id"], exclude=current.pk):
            raise _invalid({"external_id": [_("接警单号已登记过，请勿重复登记。")]})
        done = [t for t in (current.dispatched_at, current.arrived_at, current.closed_at) if t]
        if any(t < facts["reported_at"] for t in done):
            raise _invalid({"reported_at": [_("报警时间不能晚于已登记的派警、到场或处结时间。")]})
        before = snapshot(current)
        old_keys = (current.address_key, current.caller_bidx, current.reported_at)
        _apply_facts(current, facts)
        after = snapshot(current, before.keys())
        if diff(before, after) == {}:
            return current
        current.version += 1
        current.updated_by = _user(actor)
        current.save()
        for addr, caller, at in (
            old_keys,
            (current.address_key, current.caller_bidx, current.reported_at),
        ):
            _reflag_around(current, address=addr, caller=caller, at=at)
        current.refresh_from_db(fields=["repeat_address", "repeat_caller", "repeat_reasons"])
        audit_change(actor=actor, action=f"{LABEL}.updated", obj=current, before=before)
        return current


# --- settings ---

CONFIG_FIELDS = (
    "repeat_min",
    "repeat_days",
    "briefing_hour",
    "briefing_minute",
    "hotspot_resolution",
)
_CONFIG_RANGES: dict[str, tuple[int, int, Any]] = {
    "repeat_min": (2, 100, gettext_lazy("重复报警次数阈值应在 %(lo)d 到 %(hi)d 之间。")),
    "repeat_days": (1, 366, gettext_lazy("重复报警统计天数应在 %(lo)d 到 %(hi)d 之间。")),
    "briefing_hour": (0, 23, gettext_lazy("生成时刻（时）应在 %(lo)d 到 %(hi)d 之间。")),
    "briefing_minute": (0, 59, gettext_lazy("生成时刻（分）应在 %(lo)d 到 %(hi)d 之间。")),
    "hotspot_resolution": (5, 12, gettext_lazy("热点网格分辨率应在 %(lo)d 到 %(hi)d 之间。")),
}


def incident_config_update(*, actor: Any, station_id: int, **values: Any) -> StationIncidentConfig:
    """Change a station's incident settings (chief); new repeat thresholds re-flag its incidents."""
    unknown = set(values) - set(CONFIG_FIELDS)
    if unknown:
        raise TypeError(f"incident_config_update does not change {sorted(unknown)}")
    station = Area.objects.filter(pk=station_id, kind="station").first()
    if station is None:
        raise Http404
    if actor is not None and not user_can(actor, "incident.configure", station_id=station.pk):
        if not Area.objects.visible_to(actor).filter(station_id=station.pk).exists():
            raise Http404
        raise PermissionDenied(_("只有所长可以修改警情设置。"))
    errors: Errors = {}
    cleaned: dict[str, int] = {}
    for name, raw in values.items():
        lo, hi, message = _CONFIG_RANGES[name]
        try:
            number = int(str(raw).strip())
        except (TypeError, ValueError):
            errors[name] = [_("请填写整数。")]
            continue
        if not lo <= number <= hi:
            errors[name] = [str(message) % {"lo": lo, "hi": hi}]
            continue
        cleaned[name] = number
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        cfg = StationIncidentConfig.objects.select_for_update().filter(station=station).first()
        created = cfg is None
        if cfg is None:
            cfg = StationIncidentConfig(station=station)
        before = snapshot(cfg, CONFIG_FIELDS)
        for name, number in cleaned.items():
            setattr(cfg, name, number)
        changes = diff(before, snapshot(cfg, CONFIG_FIELDS))
        if not changes and not created:
            return cfg
        cfg.save()
        audit_record(
            actor=actor,
            action="incidents.config.updated",
            obj=cfg,
            station_id=station.pk,
            changes=changes,
        )
        if "repeat_min" in changes or "repeat_days" in changes:
            span = Incident.objects.filter(station_id=station.pk).order_by()
            first = span.order_by("reported_at").values_list("reported_at", flat=True).first()
            last = span.order_by("-reported_at").values_list("reported_at", flat=True).first()
            if first is not None and last is not None:
                repeats.reflag(station_id=station.pk, first=first, last=last)
    return cfg
