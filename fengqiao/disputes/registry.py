"""The mediator registry, the lawyers' duty rota and the routing list: writes and their reads.

Everything here is kept by the station's chief (`mediator.manage` for the registry and the rota,
`dispute.route` for the routing list). The registry keeps blind indexes of each mediator's ID
number, phone, name with address, and address alone, computed exactly as a party's, so that the
conflict-of-interest check (`routing_checks.conflicts`) compares them without decrypting
anything.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fengqiao.accounts.access import scope_for, user_can
from fengqiao.accounts.models import Membership
from fengqiao.areas.models import Area
from fengqiao.core.audit import audit_change, audit_record, snapshot
from fengqiao.core.errors import Conflict, ValidationFailed
from fengqiao.core.pii import blind_index, validate_id_number, validate_phone
from fengqiao.disputes.choices import Channel, Grade, MediatorKind
from fengqiao.disputes.models import DisputeType, LawyerDuty, Mediator, RoutingRule
from fengqiao.disputes.validation import _fold, name_address_key

Errors = dict[str, list[str]]

NAME_MAX = 60
ORG_MAX = 100
ADDRESS_MAX = 200
NOTE_MAX = 200
SPECIALTIES_MAX = 30
POOL_MAX = 200
MEDIATOR_FIELDS = (
    "kind",
    "name",
    "organisation",
    "phone",
    "id_number",
    "address",
    "specialties",
    "user_id",
    "active",
)
RULE_FIELDS = (
    "type_id",
    "grade",
    "community_id",
    "channel",
    "use_duty_rota",
    "note",
    "active",
)


def address_key(address: str) -> str:
    """Return the blind index of an address alone, folded like the name-and-address key."""
    folded = _fold(address or "")
    return blind_index("party_address", folded) if folded else ""


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _invalid(errors: Errors) -> ValidationFailed:
    return ValidationFailed(_("请修改标出的错误后再保存。"), fields=errors)


def _require_station(actor: Any, perm: str, station_id: int, message: str) -> None:
    """Raise PermissionDenied unless the actor holds `perm` on the whole station."""
    if actor is not None and not scope_for(actor, perm).allows_station(station_id):
        raise PermissionDenied(message)


def _station(station_id: Any) -> Area:
    try:
        pk = int(str(station_id))
    except (TypeError, ValueError):
        pk = 0
    station = Area.objects.filter(pk=pk, kind="station").first()
    if station is None:
        raise ValidationFailed(_("派出所不存在。"), fields={"station_id": [_("派出所不存在")]})
    return station


def stations_for(user: Any, perm: str) -> list[Area]:
    """Return the stations where the user holds `perm` on the whole station, by name."""
    scope = scope_for(user, perm)
    qs = Area.objects.filter(kind="station").only("id", "name", "code", "path")
    if not scope.everything:
        qs = qs.filter(pk__in=sorted(scope.station_ids))
    return list(qs.order_by("name", "id"))


# --- mediators ---


def _clean_specialties(value: Any, errors: Errors) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v for v in value.replace("，", ",").replace(" ", ",").split(",") if v]
    if not isinstance(value, Iterable):
        errors["specialties"] = [_("擅长类型应为纠纷类型编码的列表。")]
        return []
    codes = sorted({_text(v) for v in value if _text(v)})
    if len(codes) > SPECIALTIES_MAX:
        errors["specialties"] = [_("擅长类型最多%(n)d项。") % {"n": SPECIALTIES_MAX}]
        return []
    known = set(DisputeType.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        errors["specialties"] = [
            _("没有编码为“%(code)s”的纠纷类型。") % {"code": "、".join(unknown)}
        ]
    return codes


def _clean_user(value: Any, station: Area, mediator: Mediator | None, errors: Errors) -> int | None:
    if value in (None, ""):
        return None
    try:
        user_id = int(str(value))
    except ValueError:
        errors["user_id"] = [_("请选择本所的系统账号。")]
        return None
    belongs = Membership.objects.filter(
        Q(area_id=station.pk) | Q(area__station_id=station.pk), user_id=user_id
    ).exists()
    if not belongs:
        errors["user_id"] = [_("该账号不属于本所，不能关联为本所调解员。")]
        return None
    taken = Mediator.objects.filter(station=station, user_id=user_id)
    if mediator is not None:
        taken = taken.exclude(pk=mediator.pk)
    if taken.exists():
        errors["user_id"] = [_("该账号已关联本所的另一名调解员。")]
        return None
    return user_id


def clean_mediator(
    values: dict[str, Any], *, station: Area, mediator: Mediator | None = None
) -> tuple[dict[str, Any], Errors]:
    """Return (cleaned values, errors by field) for a registry row; no writes."""
    errors: Errors = {}
    out: dict[str, Any] = {}
    kind = _text(values.get("kind"))
    if kind not in MediatorKind.values:
        errors["kind"] = [_("请选择调解员类别。")]
    out["kind"] = kind
    name = _text(values.get("name"))
    if not name:
        errors["name"] = [_("请填写调解员姓名。")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("姓名不能超过%(n)d个字。") % {"n": NAME_MAX}]
    out["name"] = name
    organisation = _text(values.get("organisation"))
    if len(organisation) > ORG_MAX:
        errors["organisation"] = [_("所在单位不能超过%(n)d个字。") % {"n": ORG_MAX}]
    out["organisation"] = organisation
    phone = _text(values.get("phone"))
    if phone:
        try:
            phone = validate_phone(phone)
        except ValidationError as exc:
            errors["phone"] = [str(m) for m in exc.messages]
    out["phone"] = phone
    id_number = _text(values.get("id_number"))
    if id_number:
        try:
            id_number = validate_id_number(id_number)
        except ValidationError as exc:
            errors["id_number"] = [str(m) for m in exc.messages]
    out["id_number"] = id_number
    address = _text(values.get("address"))
    if len(address) > ADDRESS_MAX:
        errors["address"] = [_("住址不能超过%(n)d个字。") % {"n": ADDRESS_MAX}]
    out["address"] = address
    out["specialties"] = _clean_specialties(values.get("specialties"), errors)
    out["user_id"] = _clean_user(values.get("user_id"), station, mediator, errors)
    active = values.get("active", True)
    out["active"] = active if isinstance(active, bool) else _text(active) in {"1", "on", "true"}
    return out, errors


def _set_keys(m: Mediator) -> None:
    m.phone_bidx = blind_index("party_phone", m.phone) if m.phone else ""
    m.id_number_bidx = blind_index("party_id", m.id_number) if m.id_number else ""
    m.name_address_bidx = name_address_key(m.name, m.address)
    m.address_bidx = address_key(m.address)


def mediator_create(*, actor: Any, station_id: int, **values: Any) -> Mediator:
    """Add a mediator to the station's registry; audited."""
    station = _station(station_id)
    _require_station(actor, "mediator.manage", station.pk, _("只有所长可以维护本所的调解员名册。"))
    cleaned, errors = clean_mediator(values, station=station)
    if errors:
        raise _invalid(errors)
    user = _user(actor)
    with transaction.atomic():
        m = Mediator(station=station, created_by=user, updated_by=user, **cleaned)
        _set_keys(m)
        m.save()
        audit_change(actor=actor, action="disputes.mediator.created", obj=m, before=None)
    return m


def _locked_mediator(mediator: Mediator, version: int) -> Mediator:
    current = Mediator.objects.select_for_update().get(pk=mediator.pk)
    if current.version != version:
        raise Conflict(
            _(
                "该调解员信息已被他人修改（您看到的是第 %(yours)d 版，现在是第 %(now)d 版），"
                "您的修改没有保存，请刷新后重试。"
            )
            % {"yours": version, "now": current.version}
        )
    return current


def mediator_update(*, actor: Any, mediator: Mediator, version: int, **values: Any) -> Mediator:
    """Change a registry row; refused (Conflict) if someone saved it since `version`."""
    _require_station(
        actor, "mediator.manage", mediator.station_id, _("只有所长可以维护本所的调解员名册。")
    )
    station = Area.objects.get(pk=mediator.station_id)
    merged = {f: getattr(mediator, f) for f in MEDIATOR_FIELDS}
    merged.update(values)
    cleaned, errors = clean_mediator(merged, station=station, mediator=mediator)
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        current = _locked_mediator(mediator, version)
        before = snapshot(current, MEDIATOR_FIELDS)
        for field, value in cleaned.items():
            setattr(current, field, value)
        if snapshot(current, MEDIATOR_FIELDS) == before:
            return current
        _set_keys(current)
        current.version += 1
        current.updated_by = _user(actor)
        current.save()
        audit_change(actor=actor, action="disputes.mediator.updated", obj=current, before=before)
    return current


def mediator_set_active(*, actor: Any, mediator: Mediator, version: int, active: bool) -> Mediator:
    """Take a mediator off duty (their open cases stay theirs until reassigned), or back on."""
    return mediator_update(actor=actor, mediator=mediator, version=version, active=active)


def mediators_of(*, station_id: int, active_only: bool = False) -> QuerySet[Mediator]:
    """Return the station's registry, by kind and name."""
    qs = Mediator.objects.filter(station_id=station_id).select_related("user")
    return qs.filter(active=True) if active_only else qs


def access_mediator(user: Any, pk: int, perm: str = "mediator.manage") -> Mediator:
    """Return the mediator if the user holds `perm` on its station; 404 alike otherwise."""
    from django.http import Http404

    m = Mediator.objects.select_related("user", "station").filter(pk=pk).first()
    if m is None or not scope_for(user, perm).allows_station(m.station_id):
        raise Http404
    return m


def user_candidates(*, station_id: int) -> list[Any]:
    """Return the accounts that may be linked to a mediator of the station."""
    from fengqiao.accounts.models import User

    return list(
        User.objects.filter(
            Q(memberships__area_id=station_id) | Q(memberships__area__station_id=station_id),
            is_active=True,
        )
        .distinct()
        .order_by("username")
    )


# --- the duty rota ---


def month_bounds(month: str | None, today: date) -> tuple[date, date]:
    """Return the first and last day of a "YYYY-MM" month, this month if blank or invalid."""
    try:
        year, mon = (int(x) for x in (month or "").split("-"))
        first = date(year, mon, 1)
    except ValueError:
        first = today.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


@dataclass(frozen=True)
class RotaDay:
    day: date
    duties: list[LawyerDuty]


def rota_month(*, station_id: int, first: date, last: date) -> list[RotaDay]:
    """Return every day of the month with the mediators on duty that day."""
    rows = list(
        LawyerDuty.objects.filter(station_id=station_id, day__gte=first, day__lte=last)
        .select_related("mediator")
        .order_by("day", "mediator__name", "id")
    )
    by_day: dict[date, list[LawyerDuty]] = {}
    for r in rows:
        by_day.setdefault(r.day, []).append(r)
    return [
        RotaDay(first.replace(day=d), by_day.get(first.replace(day=d), []))
        for d in range(1, last.day + 1)
    ]


def duty_add(*, actor: Any, mediator_id: Any, day: Any, note: str = "") -> LawyerDuty:
    """Put a mediator of the station on duty for a day; audited."""
    errors: Errors = {}
    try:
        m = Mediator.objects.filter(pk=int(str(mediator_id))).first()
    except ValueError:
        m = None
    if m is None:
        raise ValidationFailed(_("调解员不存在。"), fields={"mediator_id": [_("调解员不存在")]})
    _require_station(actor, "mediator.manage", m.station_id, _("只有所长可以安排值班。"))
    if not m.active:
        errors["mediator_id"] = [_("%(name)s已不在岗，不能安排值班。") % {"name": m.name}]
    if isinstance(day, date):
        when: date | None = day
    else:
        try:
            when = date.fromisoformat(_text(day))
        except ValueError:
            when = None
            errors["day"] = [_("值班日期格式不正确，例如 2026-03-01。")]
    note = _text(note)
    if len(note) > 100:
        errors["note"] = [_("备注不能超过%(n)d个字。") % {"n": 100}]
    if errors or when is None:
        raise _invalid(errors)
    try:
        with transaction.atomic():
            duty = LawyerDuty.objects.create(
                station_id=m.station_id, mediator=m, day=when, note=note
            )
            audit_record(
                actor=actor,
                action="disputes.duty.added",
                obj=m,
                changes={"day": when.isoformat(), "note": note},
            )
    except IntegrityError:
        raise ValidationFailed(
            _("%(name)s在%(day)s已有值班安排。") % {"name": m.name, "day": when.isoformat()},
            fields={"day": [_("当天已有值班安排")]},
        ) from None
    return duty


def duty_remove(*, actor: Any, duty: LawyerDuty) -> None:
    """Take a day off the rota; audited."""
    _require_station(actor, "mediator.manage", duty.station_id, _("只有所长可以安排值班。"))
    with transaction.atomic():
        m = duty.mediator
        day = duty.day
        duty.delete()
        audit_record(
            actor=actor, action="disputes.duty.removed", obj=m, changes={"day": day.isoformat()}
        )


def on_duty(*, station_id: int, day: date) -> list[Mediator]:
    """Return the active mediators on the station's duty rota that day."""
    return list(
        Mediator.objects.filter(
            station_id=station_id, active=True, duties__day=day, duties__station_id=station_id
        )
        .distinct()
        .order_by("id")
    )


# --- the routing list ---


def _clean_rule(
    values: dict[str, Any], *, station: Area
) -> tuple[dict[str, Any], list[int], Errors]:
    errors: Errors = {}
    out: dict[str, Any] = {}
    code = _text(values.get("type_code"))
    out["type_id"] = None
    if code:
        t = DisputeType.objects.filter(code=code).first()
        if t is None:
            errors["type_code"] = [_("没有编码为“%(code)s”的纠纷类型。") % {"code": code}]
        else:
            out["type_id"] = t.pk
    grade = _text(values.get("grade"))
    if grade and grade not in Grade.values:
        errors["grade"] = [_("分级应为日常琐事、民间纠纷或重大矛盾，或留空表示任意。")]
    out["grade"] = grade
    raw_community = values.get("community_id")
    out["community_id"] = None
    if raw_community not in (None, ""):
        try:
            cid = int(str(raw_community))
        except ValueError:
            cid = 0
        if not Area.objects.filter(
            pk=cid, kind__in=("community", "village"), station_id=station.pk
        ).exists():
            errors["community_id"] = [_("请选择本所辖区内的社区/村，或留空表示任意。")]
        else:
            out["community_id"] = cid
    channel = _text(values.get("channel"))
    if channel not in Channel.values:
        errors["channel"] = [_("请选择调解方式。")]
    out["channel"] = channel
    rota = values.get("use_duty_rota", False)
    out["use_duty_rota"] = rota if isinstance(rota, bool) else _text(rota) in {"1", "on", "true"}
    note = _text(values.get("note"))
    if len(note) > NOTE_MAX:
        errors["note"] = [_("说明不能超过%(n)d个字。") % {"n": NOTE_MAX}]
    out["note"] = note
    active = values.get("active", True)
    out["active"] = active if isinstance(active, bool) else _text(active) in {"1", "on", "true"}
    raw_pool = values.get("pool") or []
    pool: list[int] = []
    try:
        pool = sorted({int(str(v)) for v in raw_pool})
    except (TypeError, ValueError):
        errors["pool"] = [_("调解员库格式不正确。")]
    if len(pool) > POOL_MAX:
        errors["pool"] = [_("调解员库最多%(n)d人。") % {"n": POOL_MAX}]
    elif pool:
        found = {
            m.pk: m
            for m in Mediator.objects.filter(pk__in=pool).only("id", "station_id", "active", "name")
        }
        foreign = [p for p in pool if p not in found or found[p].station_id != station.pk]
        inactive = [found[p].name for p in pool if p in found and not found[p].active]
        if foreign:
            errors["pool"] = [_("调解员库中有不属于本所的调解员，不能加入本所的分流清单。")]
        elif inactive:
            errors["pool"] = [
                _("%(names)s已不在岗，不能加入调解员库。") % {"names": "、".join(inactive)}
            ]
    if not pool and not out["use_duty_rota"] and "pool" not in errors:
        errors["pool"] = [_("请至少选择一名调解员，或勾选“加入当日值班律师”。")]
    return out, pool, errors


def _rule_state(rule: RoutingRule) -> dict[str, Any]:
    state = snapshot(rule, RULE_FIELDS)
    state["pool"] = sorted(rule.pool.values_list("pk", flat=True)) if rule.pk else []
    return state


def rule_create(*, actor: Any, station_id: int, **values: Any) -> RoutingRule:
    """Add a line to the station's routing list; audited."""
    station = _station(station_id)
    _require_station(actor, "dispute.route", station.pk, _("只有所长可以修改分流清单。"))
    cleaned, pool, errors = _clean_rule(values, station=station)
    if errors:
        raise _invalid(errors)
    user = _user(actor)
    with transaction.atomic():
        rule = RoutingRule.objects.create(
            station=station, created_by=user, updated_by=user, **cleaned
        )
        rule.pool.set(pool)
        audit_record(
            actor=actor, action="disputes.routingrule.created", obj=rule, changes=_rule_state(rule)
        )
    return rule


def rule_update(*, actor: Any, rule: RoutingRule, version: int, **values: Any) -> RoutingRule:
    """Change a line of the routing list; refused (Conflict) if saved by someone since."""
    _require_station(actor, "dispute.route", rule.station_id, _("只有所长可以修改分流清单。"))
    station = Area.objects.get(pk=rule.station_id)
    merged: dict[str, Any] = {
        "type_code": rule.type.code if rule.type is not None else "",
        "grade": rule.grade,
        "community_id": rule.community_id,
        "channel": rule.channel,
        "use_duty_rota": rule.use_duty_rota,
        "note": rule.note,
        "active": rule.active,
        "pool": list(rule.pool.values_list("pk", flat=True)),
    }
    merged.update(values)
    cleaned, pool, errors = _clean_rule(merged, station=station)
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        current = RoutingRule.objects.select_for_update().get(pk=rule.pk)
        if current.version != version:
            raise Conflict(
                _(
                    "该分流规则已被他人修改（您看到的是第 %(yours)d 版，现在是第 %(now)d 版），"
                    "您的修改没有保存，请刷新后重试。"
                )
                % {"yours": version, "now": current.version}
            )
        before = _rule_state(current)
        for field, value in cleaned.items():
            setattr(current, field, value)
        current.pool.set(pool)
        after = _rule_state(current)
        if after == before:
            return current
        current.version += 1
        current.updated_by = _user(actor)
        current.save()
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        audit_record(
            actor=actor, action="disputes.routingrule.updated", obj=current, changes=changes
        )
    return current


def rules_of(*, station_id: int) -> QuerySet[RoutingRule]:
    """Return the station's routing list with types, communities and pools loaded."""
    return (
        RoutingRule.objects.filter(station_id=station_id)
        .select_related("type", "community")
        .prefetch_related("pool")
        .order_by("-active", "type__code", "grade", "community__name", "id")
    )


def access_rule(user: Any, pk: int, perm: str = "dispute.route") -> RoutingRule:
    """Return the rule if the user holds `perm` on its station; 404 alike otherwise."""
    from django.http import Http404

    rule = RoutingRule.objects.select_related("type", "community").filter(pk=pk).first()
    if rule is None or not scope_for(user, perm).allows_station(rule.station_id):
        raise Http404
    return rule


def can_manage(user: Any, station_id: int) -> bool:
    """Return whether the user keeps the station's registry and rota."""
    return user_can(user, "mediator.manage", station_id=station_id)


def pool_choices(*, station_id: int) -> Sequence[Mediator]:
    """Return the station's active mediators, for a pool or a rota picker."""
    return list(mediators_of(station_id=station_id, active_only=True))
