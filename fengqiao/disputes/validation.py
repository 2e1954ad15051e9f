"""Dispute input rules, shared by the pages, the API and the services: checks, no writes.

Errors are collected per field ({"amount": ["…"], "parties.0.name": ["…"]}) so that a form or
an API client can show every one of them at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from fengqiao.areas.geo import locate_point
from fengqiao.areas.models import Area
from fengqiao.core.errors import ValidationFailed
from fengqiao.core.pii import blind_index, validate_id_number, validate_phone
from fengqiao.core.text import to_simplified
from fengqiao.disputes.choices import (
    Consent,
    PartyKind,
    PartyRole,
    Referrer,
    Scale,
    Source,
)
from fengqiao.disputes.models import DisputeType

Errors = dict[str, list[str]]

NARRATIVE_MAX = 10000
ADDRESS_MAX = 200
NAME_MAX = 60
NOTE_MAX = 200
AMOUNT_MAX = Decimal("999999999999.99")
PEOPLE_MAX = 100000
CHANNELS_MAX = 6
GROUP_MIN_PEOPLE = 3


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def clean_amount(value: Any, errors: Errors, key: str = "amount") -> Decimal:
    """Return the amount in yuan (0 when blank); record an error for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Decimal(0)
    if isinstance(value, bool):
        errors[key] = [_("涉及金额应为数字，例如 12000 或 12000.50。")]
        return Decimal(0)
    try:
        text = str(value).strip().replace(",", "").replace("，", "")
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        errors[key] = [_("涉及金额应为数字，例如 12000 或 12000.50。")]
        return Decimal(0)
    if not amount.is_finite():
        errors[key] = [_("涉及金额应为数字，例如 12000 或 12000.50。")]
    elif amount < 0:
        errors[key] = [_("涉及金额不能为负数。")]
    elif amount > AMOUNT_MAX:
        errors[key] = [_("涉及金额过大，请核对。")]
    elif amount != amount.quantize(Decimal("0.01")):
        errors[key] = [_("涉及金额最多保留两位小数（精确到分）。")]
    else:
        return amount.quantize(Decimal("0.01"))
    return Decimal(0)


def _int(value: Any, key: str, label: str, low: int, high: int, errors: Errors) -> int | None:
    if isinstance(value, bool):
        errors[key] = [_("%(label)s应为整数。") % {"label": label}]
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[key] = [_("%(label)s应为整数。") % {"label": label}]
        return None
    if not low <= number <= high:
        errors[key] = [
            _("%(label)s应在 %(low)d 到 %(high)d 之间。")
            % {"label": label, "low": low, "high": high}
        ]
        return None
    return number


def clean_moment(value: Any, key: str, label: str, errors: Errors) -> datetime | None:
    """Return an aware datetime from a datetime or an ISO string; naive means local time."""
    if isinstance(value, datetime):
        moment: datetime | None = value
    else:
        text = _text(value)
        if not text:
            errors[key] = [_("请填写%(label)s。") % {"label": label}]
            return None
        try:
            moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            errors[key] = [_("%(label)s格式不正确，例如 2026-03-01 14:30。") % {"label": label}]
            return None
    assert moment is not None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _coordinate(value: Any, key: str, label: str, bound: float, errors: Errors) -> float | None:
    try:
        number = float(_text(value))
    except ValueError:
        errors[key] = [_("%(label)s应为数字，例如 28.2051。") % {"label": label}]
        return None
    if not math.isfinite(number) or not -bound <= number <= bound:
        errors[key] = [
            _("%(label)s应在 -%(b)d 到 %(b)d 之间。") % {"label": label, "b": int(bound)}
        ]
        return None
    return number


def _flag(value: Any) -> bool:
    """Return a yes/no from a bool or a form value ("on", "true", "1"; blank is no)."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes", "是"}
    return bool(value)


def _choice(value: Any, choices: Any, key: str, message: str, errors: Errors) -> str:
    text = _text(value)
    if text not in choices.values:
        errors[key] = [message]
        return ""
    return text


def clean_type(value: Any, errors: Errors) -> DisputeType | None:
    """Return the active subtype for a code such as 0201; classes are not enough."""
    code = _text(value)
    if not code:
        errors["type_code"] = [_("请选择纠纷类型。")]
        return None
    found = DisputeType.objects.select_related("stat_type").filter(code=code).first()
    if found is None:
        errors["type_code"] = [_("没有编码为“%(code)s”的纠纷类型。") % {"code": code}]
    elif found.is_class:
        errors["type_code"] = [
            _("请选择“%(name)s”下的具体小类，而不是大类。") % {"name": found.name}
        ]
    elif not found.active:
        errors["type_code"] = [_("纠纷类型“%(name)s”已停用。") % {"name": found.name}]
    else:
        return found
    return None


@dataclass(frozen=True)
class PartyInput:
    """One party as validated, with its matching keys for repeat detection."""

    kind: str
    role: str
    name: str
    phone: str
    id_number: str
    address: str
    consent: str
    consent_note: str

    @property
    def phone_bidx(self) -> str:
        return blind_index("party_phone", self.phone) if self.phone else ""

    @property
    def id_number_bidx(self) -> str:
        return blind_index("party_id", self.id_number) if self.id_number else ""

    @property
    def name_address_bidx(self) -> str:
        return name_address_key(self.name, self.address)


def _fold(text: str) -> str:
    return "".join(to_simplified(text).split())


def name_address_key(name: str, address: str) -> str:
    """Return the blind index of a name with an address, folded so spacing or script differ."""
    if not (name.strip() and address.strip()):
        return ""
    return blind_index("party_name_address", f"{_fold(name)}|{_fold(address)}")


def clean_party(values: Mapping[str, Any], i: int, errors: Errors) -> PartyInput | None:
    """Return one validated party; errors go under parties.<i>.<field>."""
    at = f"parties.{i}."
    before = len(errors)
    kind = _text(values.get("kind")) or PartyKind.PERSON
    if kind not in PartyKind.values:
        errors[at + "kind"] = [_("当事人类型应为自然人或单位。")]
    role = _choice(
        values.get("role"),
        PartyRole,
        at + "role",
        _("请选择当事人身份（申请人、被申请人或其他）。"),
        errors,
    )
    name = _text(values.get("name"))
    if not name:
        errors[at + "name"] = [_("请填写当事人姓名或名称。")]
    elif len(name) > NAME_MAX:
        errors[at + "name"] = [_("当事人姓名或名称不能超过%(n)d个字。") % {"n": NAME_MAX}]
    phone = _text(values.get("phone"))
    if phone:
        try:
            phone = validate_phone(phone)
        except ValidationError as exc:
            errors[at + "phone"] = [str(m) for m in exc.messages]
    id_number = _text(values.get("id_number"))
    if id_number and kind == PartyKind.ORGANISATION:
        errors[at + "id_number"] = [_("单位当事人不填写居民身份证号码。")]
    elif id_number:
        try:
            id_number = validate_id_number(id_number)
        except ValidationError as exc:
            errors[at + "id_number"] = [str(m) for m in exc.messages]
    address = _text(values.get("address"))
    if len(address) > ADDRESS_MAX:
        errors[at + "address"] = [_("住址不能超过%(n)d个字。") % {"n": ADDRESS_MAX}]
    consent = _text(values.get("consent")) or Consent.UNDECIDED
    if consent not in Consent.values:
        errors[at + "consent"] = [_("调解意愿应为同意、拒绝或未表态。")]
    note = _text(values.get("consent_note"))
    if len(note) > NOTE_MAX:
        errors[at + "consent_note"] = [_("表态说明不能超过%(n)d个字。") % {"n": NOTE_MAX}]
    if len(errors) > before:
        return None
    return PartyInput(kind, role, name, phone, id_number, address, consent, note)


def clean_parties(values: Any, errors: Errors) -> list[PartyInput]:
    """Return the validated parties: at least one, each person's ID number only once."""
    if not isinstance(values, Sequence) or isinstance(values, str | bytes) or not values:
        errors["parties"] = [_("请至少登记一名当事人。")]
        return []
    parties: list[PartyInput] = []
    for i, raw in enumerate(values):
        if not isinstance(raw, Mapping):
            errors[f"parties.{i}"] = [_("当事人信息格式不正确。")]
            continue
        party = clean_party(raw, i, errors)
        if party is not None:
            parties.append(party)
    ids = [p.id_number for p in parties if p.id_number]
    if len(ids) != len(set(ids)):
        errors["parties"] = [_("同一身份证号码不能登记为两名当事人。")]
    return parties


def clean_intake(values: Mapping[str, Any], *, now: datetime) -> tuple[dict[str, Any], Errors]:
    """Return (cleaned values, errors by field) for a new dispute, except its location."""
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    narrative = _text(values.get("narrative"))
    if not narrative:
        errors["narrative"] = [_("请填写纠纷情况。")]
    elif len(narrative) > NARRATIVE_MAX:
        errors["narrative"] = [_("纠纷情况不能超过%(n)d个字。") % {"n": NARRATIVE_MAX}]
    cleaned["narrative"] = narrative

    occurred = clean_moment(values.get("occurred_at"), "occurred_at", _("发生时间"), errors)
    raw_reported = values.get("reported_at")
    reported = (
        now
        if raw_reported in (None, "")
        else clean_moment(raw_reported, "reported_at", _("登记时间"), errors)
    )
    if reported is not None and reported > now:
        errors["reported_at"] = [_("登记时间不能晚于现在。")]
    if occurred is not None and occurred > now:
        errors["occurred_at"] = [_("发生时间不能晚于现在。")]
    elif occurred is not None and reported is not None and occurred > reported:
        errors["occurred_at"] = [_("发生时间不能晚于登记时间。")]
    cleaned["occurred_at"], cleaned["reported_at"] = occurred, reported

    source = _choice(values.get("source"), Source, "source", _("请选择案件来源。"), errors)
    referrer = _text(values.get("referrer"))
    if source == Source.REFERRAL and referrer not in Referrer.values:
        errors["referrer"] = [
            _("委托移送的案件请选择移送单位（法院、检察院、信访部门或其他部门）。")
        ]
    elif source != Source.REFERRAL and referrer:
        errors["referrer"] = [_("只有委托移送的案件才填写移送单位。")]
    cleaned["source"], cleaned["referrer"] = source, referrer

    cleaned["type"] = clean_type(values.get("type_code"), errors)
    cleaned["scale"] = _choice(
        values.get("scale"),
        Scale,
        "scale",
        _("请选择纠纷规模（个体、一般群体或重大群体）。"),
        errors,
    )
    cleaned["amount"] = clean_amount(values.get("amount"), errors)

    parties = clean_parties(values.get("parties"), errors)
    cleaned["parties"] = parties
    persons = sum(1 for p in parties if p.kind == PartyKind.PERSON)
    raw_people = values.get("people_count")
    if raw_people in (None, ""):
        people = max(persons, 1)
    else:
        people = _int(raw_people, "people_count", _("涉及人数"), 1, PEOPLE_MAX, errors) or 0
        if people and people < persons:
            errors["people_count"] = [
                _("涉及人数不能少于登记的当事人人数（%(n)d人）。") % {"n": persons}
            ]
    if cleaned["scale"] in (Scale.GROUP, Scale.MAJOR_GROUP) and 0 < people < GROUP_MIN_PEOPLE:
        errors["people_count"] = [_("群体性纠纷涉及人数应不少于3人。")]
    cleaned["people_count"] = people

    raw_channels = values.get("channels_involved")
    cleaned["channels_involved"] = (
        1
        if raw_channels in (None, "")
        else _int(raw_channels, "channels_involved", _("涉及渠道/部门数"), 1, CHANNELS_MAX, errors)
        or 1
    )
    for flag in ("violence", "death", "special_groups", "difficult"):
        cleaned[flag] = _flag(values.get(flag))

    address = _text(values.get("address"))
    if len(address) > ADDRESS_MAX:
        errors["address"] = [_("地址不能超过%(n)d个字。") % {"n": ADDRESS_MAX}]
    cleaned["address"] = address
    return cleaned, errors


def clean_location(values: Mapping[str, Any], errors: Errors) -> tuple[float | None, float | None]:
    """Return (lat, lng) when a map point was given, (None, None) when it was not."""
    lat_raw, lng_raw = _text(values.get("lat")), _text(values.get("lng"))
    if not lat_raw and not lng_raw:
        return None, None
    if not lat_raw:
        errors["lat"] = [_("请同时填写纬度和经度。")]
        return None, None
    if not lng_raw:
        errors["lng"] = [_("请同时填写纬度和经度。")]
        return None, None
    return (
        _coordinate(lat_raw, "lat", _("纬度"), 90, errors),
        _coordinate(lng_raw, "lng", _("经度"), 180, errors),
    )


def clean_grid(
    station: Area, values: Mapping[str, Any], errors: Errors, *, address: str | None = None
) -> tuple[Area | None, float | None, float | None]:
    """Return (grid, lat, lng): the station's grid holding the map point, or, without a point,
    the grid chosen (grid_id), with lat and lng None.

    `address` is the case's address where a chosen grid must come with one (a dispute's
    location is then the address); None where the chosen grid alone will do (an incident).
    """
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
    if address is None and grid_id is None:
        errors["location"] = [_("请在地图上选择位置，或选择网格。")]
    elif address is not None and (grid_id is None or not address):
        errors["location"] = [_("请在地图上选择位置，或填写地址并选择网格。")]
    if grid_id is None:
        return None, None, None
    grid = (
        Area.objects.select_related("parent")
        .filter(pk=grid_id, kind="grid", station_id=station.pk)
        .first()
    )
    if grid is None:
        errors["grid_id"] = [_("请选择本所辖区内的网格。")]
    return grid, None, None
