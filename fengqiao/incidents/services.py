"""Incident writes: intake, corrections and the station's settings (the state moves: moves.py).

Keyword-only, atomic, audited (`incidents.incident.<verb>`); every state move goes through
`Incident.TRANSITIONS` and an illegal one raises IllegalTransition with the reason in words.
The rollups follow every save through their own hooks (incidents.rollups); repeats are
re-flagged here, for the incident's address and caller only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fengqiao.accounts.access import scope_for, user_can
from fengqiao.areas.models import Area
from fengqiao.core.audit import audit_change, audit_record, diff, snapshot
from fengqiao.core.casenumbers import case_number_next
from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.pii import validate_phone
from fengqiao.core.text import search_document
from fengqiao.disputes.validation import clean_grid, clean_moment
from fengqiao.incidents import repeats
from fengqiao.incidents.choices import Source, Status
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
    grid, lat, lng = clean_grid(station, values, errors)
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
