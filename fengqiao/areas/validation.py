"""Place input rules, shared by the pages, the API and the import: pure checks, no writes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from fengqiao.accounts.models import Membership
from fengqiao.areas.models import Area, PlaceKind
from fengqiao.core.pii import validate_phone

# The fields a caller may set on a place; station, community and grid follow from the location.
PLACE_FIELDS = (
    "kind",
    "name",
    "address",
    "lat",
    "lng",
    "contact_name",
    "contact_phone",
    "officer_id",
    "notes",
)
# A place's responsible officer (责任民警) is police staff, never a civilian role.
OFFICER_ROLES = frozenset({"chief", "officer", "auxiliary"})

NAME_MAX = 120
ADDRESS_MAX = 200
CONTACT_NAME_MAX = 60
NOTES_MAX = 5000

Errors = dict[str, list[str]]


def kind_lookup(*, names: bool = False) -> dict[str, PlaceKind]:
    """Return every place kind by code (and by Chinese name when `names`), active or not."""
    lookup: dict[str, PlaceKind] = {}
    for kind in PlaceKind.objects.all():
        if names:
            lookup.setdefault(kind.name.strip(), kind)
        lookup[kind.code] = kind
        lookup[kind.code.lower()] = kind
    return lookup


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _required_text(
    values: Mapping[str, Any], key: str, label: str, limit: int, errors: Errors
) -> str:
    text = _text(values.get(key))
    if not text:
        errors[key] = [_("请填写%(label)s。") % {"label": label}]
    elif len(text) > limit:
        errors[key] = [_("%(label)s不能超过%(n)d个字。") % {"label": label, "n": limit}]
    return text


def _coordinate(value: Any, key: str, label: str, bound: float, errors: Errors) -> float | None:
    text = _text(value)
    if not text:
        errors[key] = [_("请填写%(label)s。") % {"label": label}]
        return None
    try:
        number = float(text)
    except ValueError:
        errors[key] = [_("%(label)s应为数字，例如 28.2051。") % {"label": label}]
        return None
    if not math.isfinite(number) or not -bound <= number <= bound:
        errors[key] = [
            _("%(label)s应在 -%(b)d 到 %(b)d 之间。") % {"label": label, "b": int(bound)}
        ]
        return None
    return number


def _kind(value: Any, kinds: Mapping[str, PlaceKind], errors: Errors) -> PlaceKind | None:
    if isinstance(value, PlaceKind):
        kind: PlaceKind | None = value
    else:
        text = _text(value)
        if not text:
            errors["kind"] = [_("请选择场所类型。")]
            return None
        kind = kinds.get(text) or kinds.get(text.lower())
        if kind is None:
            errors["kind"] = [_("没有“%(kind)s”这种场所类型。") % {"kind": text}]
            return None
    assert kind is not None
    if not kind.active:
        errors["kind"] = [_("场所类型“%(kind)s”已停用。") % {"kind": kind.name}]
        return None
    return kind


def clean_place(
    values: Mapping[str, Any], *, kinds: Mapping[str, PlaceKind], partial: bool = False
) -> tuple[dict[str, Any], Errors]:
    """Return (cleaned values, errors by field) for a new place, or for the keys of a change."""
    errors: Errors = {}
    cleaned: dict[str, Any] = {}

    def wanted(key: str) -> bool:
        return not partial or key in values

    if wanted("kind"):
        cleaned["kind"] = _kind(values.get("kind"), kinds, errors)
    if wanted("name"):
        cleaned["name"] = _required_text(values, "name", _("名称"), NAME_MAX, errors)
    if wanted("address"):
        cleaned["address"] = _required_text(values, "address", _("地址"), ADDRESS_MAX, errors)
    if wanted("lat"):
        cleaned["lat"] = _coordinate(values.get("lat"), "lat", _("纬度"), 90, errors)
    if wanted("lng"):
        cleaned["lng"] = _coordinate(values.get("lng"), "lng", _("经度"), 180, errors)
    if wanted("contact_name"):
        cleaned["contact_name"] = _text(values.get("contact_name"))
        if len(cleaned["contact_name"]) > CONTACT_NAME_MAX:
            errors["contact_name"] = [_("联系人不能超过%(n)d个字。") % {"n": CONTACT_NAME_MAX}]
    if wanted("contact_phone"):
        phone = _text(values.get("contact_phone"))
        if phone:
            try:
                phone = validate_phone(phone)
            except ValidationError as exc:
                errors["contact_phone"] = [str(m) for m in exc.messages]
        cleaned["contact_phone"] = phone
    if wanted("notes"):
        cleaned["notes"] = _text(values.get("notes"))
        if len(cleaned["notes"]) > NOTES_MAX:
            errors["notes"] = [_("备注不能超过%(n)d个字。") % {"n": NOTES_MAX}]
    if wanted("officer_id"):
        raw = values.get("officer_id")
        if raw in (None, ""):
            cleaned["officer_id"] = None
        else:
            try:
                cleaned["officer_id"] = int(raw)
            except (TypeError, ValueError):
                errors["officer_id"] = [_("责任民警无效。")]
    return cleaned, errors


def _station_lineage(station: Area) -> Q:
    """Return the filter for areas that reach the station: itself, beneath it, or above it."""
    ancestors = [int(part) for part in station.path.strip("/").split("/") if part]
    return Q(area__path__startswith=station.path) | Q(area_id__in=ancestors)


def officer_allowed(*, officer_id: int, station: Area) -> bool:
    """Return whether the user is active police staff with a role at this station."""
    return (
        Membership.objects.filter(
            _station_lineage(station),
            user_id=officer_id,
            user__is_active=True,
            role__in=sorted(OFFICER_ROLES),
        )
        .values("pk")
        .exists()
    )


def officers_at(*, station_ids: list[int]) -> list[tuple[int, str, int]]:
    """Return (user id, label, station id) of the active police staff of the given stations."""
    stations = list(Area.objects.filter(pk__in=station_ids, kind="station"))
    if not stations:
        return []
    cond = Q()
    for station in stations:
        cond |= _station_lineage(station)
    rows = (
        Membership.objects.filter(cond, user__is_active=True, role__in=sorted(OFFICER_ROLES))
        .select_related("user", "area")
        .order_by("user__full_name", "user__username")
    )
    out: dict[tuple[int, int], tuple[int, str, int]] = {}
    for m in rows:
        for station in stations:
            if m.area.path.startswith(station.path) or station.path.startswith(m.area.path):
                out.setdefault((m.user_id, station.pk), (m.user_id, m.user.label, station.pk))
    return list(out.values())
