"""Area and place writes: every change is audited."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext as _

from fengqiao.areas.access import scope_for, user_can
from fengqiao.areas.geo import grid_index, locate_point
from fengqiao.areas.imports import ParsedFile, RowError
from fengqiao.areas.models import Area, Place, PlaceKind
from fengqiao.areas.validation import (
    PLACE_FIELDS,
    clean_place,
    kind_lookup,
    officer_allowed,
)
from fengqiao.core.audit import audit_change, audit_record, audit_records_bulk, snapshot
from fengqiao.core.errors import Conflict, ValidationFailed
from fengqiao.core.search import search_index
from fengqiao.core.text import search_document, to_simplified


def pii_reveal(*, actor: Any, obj: models.Model, field: str) -> str:
    """Return the plain value of a personal-data field, recording who read it."""
    station_id = getattr(obj, "station_id", None)
    area_id = getattr(obj, "area_id", None)
    if not user_can(actor, "pii.reveal", station_id=station_id, area_id=area_id):
        raise PermissionDenied(_("您的角色无权查看完整的个人信息。"))
    audit_record(
        actor=actor,
        action=f"{obj._meta.label_lower}.pii_revealed",
        obj=obj,
        changes={"field": field},
    )
    return str(getattr(obj, field) or "")


def _place_in_tree(area: Any) -> None:
    """Set path, depth and station from the parent; the caller saves."""
    from fengqiao.areas.models import PARENT_KINDS, AreaKind

    parent = area.parent
    allowed = PARENT_KINDS[area.kind]
    if (parent.kind if parent else None) not in allowed:
        from fengqiao.core.errors import ValidationFailed

        raise ValidationFailed(
            _("“%(name)s”的上级类型不正确。") % {"name": area.name},
            fields={"parent": ["wrong kind"]},
        )
    area.depth = parent.depth + 1 if parent else 0
    if area.kind == AreaKind.STATION:
        area.station_id = area.pk
    elif parent is not None:
        area.station_id = parent.pk if parent.kind == AreaKind.STATION else parent.station_id
    area.path = f"{parent.path if parent else '/'}{area.pk}/"


def area_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    parent: Any = None,
    zone: str = "",
    boundary: dict | None = None,
    population: int | None = None,
) -> Any:
    """Create an area under `parent`, with its boundary's centroid; audited."""
    from django.db import transaction

    from fengqiao.areas.geo import centroid_of
    from fengqiao.areas.models import Area

    with transaction.atomic():
        area = Area(
            code=code,
            name=name,
            kind=kind,
            parent=parent,
            zone=zone,
            boundary=boundary,
            population=population,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            path="/pending/",
        )
        if boundary:
            area.centroid_lat, area.centroid_lng = centroid_of(boundary)
        area.save()
        _place_in_tree(area)
        area.save(update_fields=["path", "depth", "station"])
        audit_record(
            actor=actor,
            action="areas.area.created",
            obj=area,
            changes={
                "code": code,
                "name": name,
                "kind": kind,
                "parent": parent.pk if parent else None,
            },
        )
    return area


def area_update(
    *,
    actor: Any,
    area: Any,
    name: str,
    zone: str,
    boundary: dict | None,
    population: int | None,
) -> bool:
    """Change an area's name, zone, boundary and population; audited; False if nothing changed."""
    from django.db import transaction

    from fengqiao.areas.geo import centroid_of
    from fengqiao.core.audit import audit_change, snapshot

    wanted: dict[str, Any] = {
        "name": name,
        "zone": zone,
        "boundary": boundary,
        "population": population,
    }
    changed = [f for f, value in wanted.items() if getattr(area, f) != value]
    if not changed:
        return False
    if "boundary" in changed:
        changed += ["centroid_lat", "centroid_lng"]
    with transaction.atomic():
        before = snapshot(area, changed)
        for f, value in wanted.items():
            setattr(area, f, value)
        if "boundary" in changed:
            lat_lng = centroid_of(boundary) if boundary else (None, None)
            area.centroid_lat, area.centroid_lng = lat_lng
        area.updated_by = actor if getattr(actor, "is_authenticated", False) else None
        # updated_at is in the list because grid indexes are versioned by it.
        area.save(update_fields=[*changed, "updated_by", "updated_at"])
        audit_change(actor=actor, action="areas.area.updated", obj=area, before=before)
    return True


def police_grid_save(
    *, actor: Any, station: Any, code: str, name: str, officer: Any = None
) -> tuple[Any, bool]:
    """Create the police grid `code` or update its name and officer; audited; (grid, changed)."""
    from django.db import transaction

    from fengqiao.areas.models import PoliceGrid
    from fengqiao.core.audit import audit_change, snapshot

    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        pg = PoliceGrid.objects.select_for_update().filter(code=code).first()
        if pg is None:
            pg = PoliceGrid.objects.create(
                station=station, code=code, name=name, officer=officer, created_by=user
            )
            audit_change(actor=actor, action="areas.police_grid.created", obj=pg, before=None)
            return pg, True
        if pg.station_id != station.pk:
            raise ValidationFailed(_("警格“%(code)s”属于其他派出所。") % {"code": code})
        before = snapshot(pg, ["name", "officer_id"])
        pg.name, pg.officer = name, officer
        if snapshot(pg, before.keys()) == before:
            return pg, False
        pg.updated_by = user
        pg.save(update_fields=["name", "officer", "updated_by", "updated_at"])
        audit_change(actor=actor, action="areas.police_grid.updated", obj=pg, before=before)
    return pg, True


@dataclass(frozen=True)
class Reassignment:
    """What `police_grid_assign` did: grid ids added, removed, and taken from other police grids."""

    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    moved_from: tuple[tuple[int, int], ...] = ()  # (grid id, previous police grid id)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def police_grid_assign(
    *, actor: Any, police_grid: Any, grid_ids: Iterable[int], on_date: date
) -> Reassignment:
    """Make `grid_ids` the police grid's grids from `on_date`; old links are closed, not deleted."""
    from django.db import transaction

    from fengqiao.areas.models import Area, AreaKind, PoliceGridLink

    wanted = set(grid_ids)
    grids = Area.objects.filter(pk__in=wanted, kind=AreaKind.GRID, station=police_grid.station_id)
    if len(wanted) != grids.count():
        raise ValidationFailed(
            _("只能把本所的网格划入警格“%(name)s”。") % {"name": police_grid.name},
            fields={"grid_ids": [_("网格不存在或不属于本所")]},
        )
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        current = list(
            PoliceGridLink.objects.select_for_update()
            .filter(valid_to__isnull=True)
            .filter(models.Q(police_grid=police_grid) | models.Q(grid__in=wanted))
        )
        mine = {link.grid_id for link in current if link.police_grid_id == police_grid.pk}
        # Open links elsewhere are all for wanted grids (the filter above): close them all,
        # and this police grid's links for grids it no longer has.
        closing = [
            link
            for link in current
            if link.police_grid_id != police_grid.pk or link.grid_id not in wanted
        ]
        if any(link.valid_from > on_date for link in closing):
            raise ValidationFailed(
                _("变更日期早于现有警格对应关系的起始日期。"),
                fields={"on_date": [_("日期过早")]},
            )
        for link in closing:
            link.valid_to = on_date
        # Close before opening: a grid may have only one open link at a time.
        PoliceGridLink.objects.bulk_update(closing, ["valid_to"])
        added = sorted(wanted - mine)
        PoliceGridLink.objects.bulk_create(
            PoliceGridLink(police_grid=police_grid, grid_id=g, valid_from=on_date, changed_by=user)
            for g in added
        )
        result = Reassignment(
            added=tuple(added),
            removed=tuple(sorted(mine - wanted)),
            moved_from=tuple(
                sorted(
                    (link.grid_id, link.police_grid_id)
                    for link in closing
                    if link.police_grid_id != police_grid.pk
                )
            ),
        )
        if result.changed:
            audit_record(
                actor=actor,
                action="areas.police_grid.assigned",
                obj=police_grid,
                station_id=police_grid.station_id,
                changes={
                    "on_date": on_date.isoformat(),
                    "added": list(result.added),
                    "removed": list(result.removed),
                    "moved_from": [list(pair) for pair in result.moved_from],
                },
            )
    return result


# --- places: one set of rules for the pages, the API, the import and the command ---

IMPORT_BATCH = 1000


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _denied(perm: str) -> PermissionDenied:
    if perm == "place.import":
        return PermissionDenied(_("您无权向该派出所导入场所。"))
    return PermissionDenied(_("您无权在该辖区新增或修改场所。"))


def _require(actor: Any, perm: str, *, station_id: int, area_id: int | None = None) -> None:
    """Raise PermissionDenied unless the actor holds `perm` there; None is the system itself."""
    # actor=None is how management commands and demo data call services: no person to check.
    if actor is not None and not user_can(actor, perm, station_id=station_id, area_id=area_id):
        raise _denied(perm)


def _require_in_station(actor: Any, perm: str, station: Area) -> None:
    """Raise PermissionDenied unless the actor holds `perm` on the station or one of its grids."""
    if actor is None:
        return
    scope = scope_for(actor, perm)
    if scope.allows_station(station.pk):
        return
    # A grid-level role (an auxiliary on one grid) may work in its grids only; the exact grid
    # is checked once the location is known.
    grids = Area.objects.filter(pk__in=sorted(scope.area_ids), station=station)
    if scope.area_ids and grids.exists():
        return
    raise _denied(perm)


def _station(station_id: int) -> Area:
    station = Area.objects.filter(pk=station_id, kind="station").first()
    if station is None:
        raise ValidationFailed(_("派出所不存在。"), fields={"station_id": [_("派出所不存在")]})
    return station


def _kinds_for(value: Any) -> dict[str, PlaceKind]:
    """Return the lookup that resolves one kind code, with a single query."""
    if isinstance(value, PlaceKind) or not value:
        return {}
    code = str(value).strip()
    return {k.code: k for k in PlaceKind.objects.filter(code=code)}


def _invalid(errors: dict[str, list[str]]) -> ValidationFailed:
    return ValidationFailed(_("请修改标出的错误后再保存。"), fields=errors)


_MARKUP = re.compile(r"[<>]")
_MASK = re.compile(r"[*＊]")


def _place_text_errors(values: Mapping[str, Any], errors: dict[str, list[str]]) -> None:
    """Add what the shared checks leave out: markup in a name, a masked phone pasted back."""
    name = values.get("name")
    if isinstance(name, str) and _MARKUP.search(name) and "name" not in errors:
        # Pages escape names anyway; refusing them keeps exports and other systems clean.
        errors["name"] = [_("名称不能包含“<”或“>”。")]
    phone = values.get("contact_phone")
    if isinstance(phone, str) and _MASK.search(phone):
        # An exported list shows phones as 138****5678: say so rather than "wrong format".
        errors["contact_phone"] = [_("电话号码已脱敏（含*号），请填写完整号码或留空。")]


def _outside_reach(actor: Any, station_id: int, grid: Area) -> dict[str, list[str]]:
    """Return location errors when the grid is in the station but outside the actor's areas."""
    if actor is None or user_can(actor, "place.edit", station_id=station_id, area_id=grid.pk):
        return {}
    community = grid.parent
    # Name the community; a grid-level user who works in that community needs the grid.
    paths = scope_for(actor, "place.edit").paths
    mine = community is not None and any(p.startswith(community.path) for p in paths)
    where = grid.name if mine or community is None else community.name
    message = _("该位置位于%(community)s，不在您负责的区域内。") % {"community": where}
    return {"lat": [message], "lng": [message]}


PLACE_LABEL = "areas.place"


def _search_text(place: Place) -> str:
    return search_document(place.name, place.address, place.notes, place.contact_name)


def place_create(
    *,
    actor: Any,
    station_id: int,
    name: str,
    address: str,
    lat: float | str,
    lng: float | str,
    kind_code: str | None = None,
    kind: PlaceKind | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    officer_id: int | None = None,
    notes: str = "",
) -> Place:
    """Create a place in the grid that contains its location; validated and audited."""
    station = _station(station_id)
    _require_in_station(actor, "place.edit", station)
    values = {
        "kind": kind if kind is not None else kind_code,
        "name": name,
        "address": address,
        "lat": lat,
        "lng": lng,
        "contact_name": contact_name,
        "contact_phone": contact_phone,
        "officer_id": officer_id,
        "notes": notes,
    }
    cleaned, errors = clean_place(values, kinds=_kinds_for(values["kind"]))
    _place_text_errors(cleaned, errors)
    grid = None
    if "lat" not in errors and "lng" not in errors:
        try:
            grid = locate_point(station_id=station.pk, lat=cleaned["lat"], lng=cleaned["lng"])
        except ValidationFailed as exc:
            errors.update(exc.fields)
        else:
            errors.update(_outside_reach(actor, station.pk, grid))
    officer = cleaned.get("officer_id")
    if officer is not None and not officer_allowed(officer_id=officer, station=station):
        errors["officer_id"] = [_("责任民警须为本所在职民警或辅警。")]
    if errors or grid is None:
        raise _invalid(errors)
    user = _user(actor)
    place = Place(
        station=station,
        community_id=grid.parent_id,
        area=grid,
        created_by=user,
        updated_by=user,
        **cleaned,
    )
    place.search_text = _search_text(place)
    with transaction.atomic():
        place.save()
        search_index(label=PLACE_LABEL, rows=[(place.pk, place.search_text)], fresh=True)
        audit_change(actor=actor, action="areas.place.created", obj=place, before=None)
    return place


PLACE_UPDATABLE = frozenset({*PLACE_FIELDS, "kind_code"})


def _same_kind(value: Any, place: Place) -> bool:
    if isinstance(value, PlaceKind):
        return value.pk == place.kind_id
    return isinstance(value, str) and value.strip() == place.kind.code


# Fields whose text feeds the search index.
_SEARCHED = frozenset({"name", "address", "notes", "contact_name"})


def place_update(*, actor: Any, place: Place, version: int, **changes: Any) -> Place:
    """Apply `changes` if nobody saved the place since `version`; return the saved place."""
    unknown = set(changes) - PLACE_UPDATABLE
    if unknown:
        raise TypeError(f"place_update() cannot change {sorted(unknown)}")
    if "kind_code" in changes:
        changes["kind"] = changes.pop("kind_code")
    _require(actor, "place.edit", station_id=place.station_id, area_id=place.area_id)
    if _same_kind(changes.get("kind"), place):
        # A kind retired since the place was registered stays valid until someone changes it.
        del changes["kind"]
    cleaned, errors = clean_place(changes, kinds=_kinds_for(changes.get("kind")), partial=True)
    _place_text_errors(cleaned, errors)
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        current = Place.objects.select_for_update().get(pk=place.pk)
        if current.version != version:
            raise Conflict(
                _(
                    "该场所已被他人修改（您编辑的是第 %(yours)d 版，现在是第 %(now)d 版），"
                    "您的修改尚未保存。"
                )
                % {"yours": version, "now": current.version}
            )
        # Compare on ids so that an unchanged kind or officer costs no query.
        attnames = {"kind": "kind_id"}
        new = {
            attnames.get(k, k): (v.pk if isinstance(v, PlaceKind) else v)
            for k, v in cleaned.items()
        }
        changed = {k: v for k, v in new.items() if getattr(current, k) != v}
        if not changed:
            return current
        if "lat" in changed or "lng" in changed:
            lat, lng = changed.get("lat", current.lat), changed.get("lng", current.lng)
            grid = locate_point(station_id=current.station_id, lat=lat, lng=lng)
            outside = _outside_reach(actor, current.station_id, grid)
            if outside:
                raise _invalid(outside)
            if grid.pk != current.area_id:
                changed["area_id"], changed["community_id"] = grid.pk, grid.parent_id
        officer = changed.get("officer_id")
        if officer is not None:
            station = Area.objects.get(pk=current.station_id)
            if not officer_allowed(officer_id=officer, station=station):
                raise _invalid({"officer_id": [_("责任民警须为本所在职民警或辅警。")]})
        before = snapshot(current, changed.keys())
        for key, value in changed.items():
            setattr(current, key, value)
        fields = [current._meta.get_field(k.removesuffix("_id")).name for k in changed]
        if _SEARCHED & set(changed):
            current.search_text = _search_text(current)
            fields.append("search_text")
        current.version += 1
        current.updated_by = _user(actor)
        current.save(update_fields=[*fields, "version", "updated_by", "updated_at"])
        if "search_text" in fields:
            search_index(label=PLACE_LABEL, rows=[(current.pk, current.search_text)])
        audit_change(actor=actor, action="areas.place.updated", obj=current, before=before)
    return current


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the places created, or the row errors that stopped it."""

    created: int = 0
    errors: tuple[RowError, ...] = ()
    first_id: int | None = None
    last_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _import_kinds() -> dict[str, PlaceKind]:
    """Return every kind by code and Chinese name, folded: 旅館 finds 旅馆, HOTEL finds hotel."""
    folded: dict[str, PlaceKind] = {}
    for key, kind in kind_lookup(names=True).items():
        folded.setdefault(to_simplified(key), kind)
    return folded


def _place_key(name: Any, address: Any) -> tuple[str, str] | None:
    if not name or not address:
        return None
    return to_simplified(str(name)), to_simplified(str(address))


def _duplicates(
    station: Area, parsed: ParsedFile, cleaned_rows: list[dict[str, Any]]
) -> list[RowError]:
    """Report rows whose name and address a place of the station, or an earlier row, has."""
    # Both columns of the whole station: short text, and no parameter limit for a big file.
    stored = {
        _place_key(name, address)
        for name, address in Place.objects.filter(station=station).values_list("name", "address")
    }
    column = f"{parsed.column('name')}/{parsed.column('address')}"
    seen: dict[tuple[str, str], int] = {}
    errors: list[RowError] = []
    for row, cleaned in zip(parsed.rows, cleaned_rows, strict=True):
        key = _place_key(cleaned.get("name"), cleaned.get("address"))
        if key is None:
            continue
        if key in stored:
            errors.append(RowError(row.line, column, _("已存在同名同地址的场所。")))
        elif key in seen:
            message = _("已存在同名同地址的场所（与第 %(row)d 行相同）。") % {"row": seen[key]}
            errors.append(RowError(row.line, column, message))
        else:
            seen[key] = row.line
    return errors


def place_import(
    *, actor: Any, station_id: int, parsed: ParsedFile, source: str = ""
) -> ImportResult:
    """Validate every row, then create all the places in one transaction, or none of them."""
    station = _station(station_id)
    _require(actor, "place.import", station_id=station.pk)
    if not parsed.rows:
        raise ValidationFailed(_("文件中没有数据行。"), fields={"file": [_("没有数据行")]})
    kinds = _import_kinds()
    errors: list[RowError] = []
    cleaned_rows: list[dict[str, Any]] = []
    for row in parsed.rows:
        values: dict[str, Any] = dict(row.values)
        raw_kind = str(values.get("kind") or "")
        # A known kind goes in as the object; an unknown one as typed, so the error quotes it.
        values["kind"] = kinds.get(to_simplified(raw_kind), raw_kind) if raw_kind else raw_kind
        cleaned, row_errors = clean_place(values, kinds={})
        _place_text_errors(values, row_errors)
        cleaned_rows.append(cleaned)
        for key, messages in row_errors.items():
            errors.extend(RowError(row.line, parsed.column(key), m) for m in messages)
    errors.extend(_duplicates(station, parsed, cleaned_rows))
    # Locate every row in one vectorised pass rather than one query per row.
    located = [i for i, c in enumerate(cleaned_rows) if None not in (c["lat"], c["lng"])]
    grid_ids = grid_index(station.pk).locate_many(
        [cleaned_rows[i]["lng"] for i in located], [cleaned_rows[i]["lat"] for i in located]
    )
    parents = dict(Area.objects.filter(station=station, kind="grid").values_list("id", "parent_id"))
    where = f"{parsed.column('lat')}/{parsed.column('lng')}"
    for i, grid_id in zip(located, grid_ids.tolist(), strict=True):
        if grid_id < 0:
            c = cleaned_rows[i]
            message = _("位置（%(lat).6f, %(lng).6f）不在本所辖区的任何网格内。") % c
            errors.append(RowError(parsed.rows[i].line, where, message))
        else:
            cleaned_rows[i]["area_id"] = grid_id
            cleaned_rows[i]["community_id"] = parents[grid_id]
    if errors:
        return ImportResult(errors=tuple(sorted(errors)))
    user = _user(actor)
    places = []
    for cleaned in cleaned_rows:
        place = Place(station=station, created_by=user, updated_by=user, **cleaned)
        place.search_text = _search_text(place)
        places.append(place)
    with transaction.atomic():
        Place.objects.bulk_create(places, batch_size=IMPORT_BATCH)
        search_index(label=PLACE_LABEL, rows=[(p.pk, p.search_text) for p in places], fresh=True)

        # Each place gets its own "created" entry, so its timeline starts with the import.
        def created(p: Any) -> dict[str, Any]:
            return {"source": source, "name": p.name, "kind": p.kind_id}

        audit_records_bulk(actor=actor, action="areas.place.created", objs=places, changes=created)
        ids = [p.pk for p in places if p.pk is not None]
        first, last = (min(ids), max(ids)) if ids else (None, None)
        audit_record(
            actor=actor,
            action="areas.place.imported",
            station_id=station.pk,
            object_type="areas.place",
            changes={"count": len(places), "first_id": first, "last_id": last, "source": source},
        )
    return ImportResult(created=len(places), first_id=first, last_id=last)
