"""Import area boundaries and police grids from GeoJSON: check every feature, then all or none.

Each problem is reported against its feature (position in the file and code), so whoever
drew the map can fix them all in one pass; nothing is written unless the whole file is clean.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from shapely.geometry import shape

from fengqiao.accounts.access import Scope, scope_for
from fengqiao.areas.geojson_import import (
    AREA_TOLERANCE,
    ImportReport,
    code_and_name,
    feature_properties,
    index_codes,
    load_features,
    read_geometry,
    square_metres,
    text_of,
    view_scope,
    within,
    write_failed,
)
from fengqiao.areas.models import PARENT_KINDS, Area, AreaKind, ZoneKind
from fengqiao.areas.police_grid_import import police_grids_import
from fengqiao.areas.services import (
    area_create,
    area_update,
)
from fengqiao.core.errors import ValidationFailed

__all__ = ["ImportReport", "boundaries_import", "police_grids_import"]

KINDS = {
    "station": AreaKind.STATION,
    "派出所": AreaKind.STATION,
    "community": AreaKind.COMMUNITY,
    "社区": AreaKind.COMMUNITY,
    "village": AreaKind.VILLAGE,
    "村": AreaKind.VILLAGE,
    "grid": AreaKind.GRID,
    "网格": AreaKind.GRID,
}
ZONES = {
    "built": ZoneKind.BUILT,
    "已建成区": ZoneKind.BUILT,
    "transitional": ZoneKind.TRANSITIONAL,
    "过渡区": ZoneKind.TRANSITIONAL,
    "undeveloped": ZoneKind.UNDEVELOPED,
    "待开发区": ZoneKind.UNDEVELOPED,
}
# Parents are written before their children.
RANK: dict[str, int] = {
    AreaKind.STATION: 0,
    AreaKind.COMMUNITY: 1,
    AreaKind.VILLAGE: 1,
    AreaKind.GRID: 2,
}


@dataclass
class _AreaRow:
    index: int
    code: str
    name: str
    kind: str | None
    parent_code: str
    zone: str | None  # None: not in the file, keep what is stored
    population: int | None
    population_given: bool
    boundary: dict[str, Any] | None
    geom: Any = None
    existing: Area | None = None
    usable: bool = True  # has a code of its own, so other checks may lean on it
    placed: bool = False  # its parent is known, of the right kind and unchanged


def _read_area(index: int, raw: Any, report: ImportReport) -> _AreaRow | None:
    props = feature_properties(index, raw, report)
    if props is None:
        return None
    code, name = code_and_name(index, props, report)
    raw_kind = text_of(props.get("kind"))
    kind = KINDS.get(raw_kind.lower())
    if not raw_kind:
        report.add(index, code, _("缺少类型（kind）。"))
    elif kind is None:
        report.add(
            index,
            code,
            _("类型“%(kind)s”无法识别：应为 派出所、社区、村 或 网格。") % {"kind": raw_kind},
        )
    parent_code = text_of(props.get("parent"))
    if not parent_code:
        report.add(index, code, _("缺少上级编码（parent）。"))
    zone: str | None = None
    raw_zone = text_of(props.get("zone"))
    if raw_zone:
        zone = ZONES.get(raw_zone.lower())
        if zone is None:
            report.add(
                index,
                code,
                _("区域类型“%(zone)s”无法识别：应为 已建成区、过渡区 或 待开发区。")
                % {"zone": raw_zone},
            )
    population, given = _population(props.get("population"))
    if given and population is None:
        report.add(index, code, _("人口应为非负整数。"))
    boundary, geom, errors = read_geometry(raw.get("geometry"))
    for message in errors:
        report.add(index, code, message)
    return _AreaRow(index, code, name, kind, parent_code, zone, population, given, boundary, geom)


def _population(value: Any) -> tuple[int | None, bool]:
    """Return (population, given); (None, True) when given but not a whole number."""
    if value is None or value == "":
        return None, False
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()), True
    whole = isinstance(value, int | float) and not isinstance(value, bool)
    if whole and float(value).is_integer() and value >= 0:
        return int(value), True
    return None, True


def _kind_label(kind: str | None) -> str:
    return str(AreaKind(kind).label) if kind else _("（无）")


def _check_tree(
    rows: list[_AreaRow], by_code: dict[str, _AreaRow], db: dict[str, Area], report: ImportReport
) -> None:
    """Report unknown parents, parents of the wrong kind, and changes of kind or parent."""
    for row in rows:
        if not row.usable or row.kind is None:
            continue
        row.existing = db.get(row.code)
        if row.existing is not None and row.existing.kind != row.kind:
            report.add(
                row.index,
                row.code,
                _("系统中编码“%(code)s”是%(old)s，不能改为%(new)s。")
                % {
                    "code": row.code,
                    "old": _kind_label(row.existing.kind),
                    "new": _kind_label(row.kind),
                },
            )
        pc = row.parent_code
        if not pc:
            continue
        parent: Any = by_code.get(pc) or db.get(pc)
        if pc == row.code:
            report.add(row.index, row.code, _("上级不能是自己。"))
            continue
        if parent is None:
            report.add(
                row.index,
                row.code,
                _("上级编码“%(parent)s”不存在（系统和文件中都没有）。") % {"parent": pc},
            )
            continue
        allowed = PARENT_KINDS[row.kind]
        if parent.kind is not None and parent.kind not in allowed:
            report.add(
                row.index,
                row.code,
                _("上级“%(parent)s”是%(pkind)s；%(kind)s的上级应为%(allowed)s。")
                % {
                    "parent": pc,
                    "pkind": _kind_label(parent.kind),
                    "kind": _kind_label(row.kind),
                    "allowed": pgettext("list separator", "、").join(
                        sorted(_kind_label(k) for k in allowed if k)
                    ),
                },
            )
            continue
        old_parent = row.existing.parent if row.existing is not None else None
        if old_parent is not None and old_parent.code != pc:
            report.add(
                row.index,
                row.code,
                _("不能通过导入更改上级：“%(code)s”现属于“%(parent)s”。")
                % {"code": row.code, "parent": old_parent.code},
            )
            continue
        row.placed = True


def _check_scope(
    rows: list[_AreaRow],
    by_code: dict[str, _AreaRow],
    db: dict[str, Area],
    scope: Scope,
    seen: Scope,
    report: ImportReport,
) -> None:
    """Report features that would write outside the areas where the actor may import."""
    memo: dict[str, Area | None] = {}

    def blocker(row: _AreaRow) -> Area | None:
        # The stored area that decides (the row itself if stored, else its nearest stored
        # ancestor), returned when the actor may not write under it.
        if row.code in memo:
            return memo[row.code]
        memo[row.code] = None  # a cycle through the file is reported elsewhere
        decider: Area | None = row.existing
        if decider is None:
            parent_row = by_code.get(row.parent_code)
            if parent_row is not None and parent_row is not row:
                memo[row.code] = blocker(parent_row)
                return memo[row.code]
            decider = db.get(row.parent_code)
        memo[row.code] = decider if decider is not None and not within(scope, decider) else None
        return memo[row.code]

    for row in rows:
        if not row.usable:
            continue
        area = blocker(row)
        if area is None:
            continue
        if within(seen, area):
            message = _("您无权导入或修改“%(area)s”（%(code)s）辖区内的区域。") % {
                "area": area.name,
                "code": area.code,
            }
        else:
            # The code is the file's own (the row's or its parent's): it tells nothing new.
            message = _("您无权导入或修改“%(code)s”辖区内的区域。") % {"code": area.code}
        report.add(row.index, row.code, message)


def _check_shapes(
    rows: list[_AreaRow],
    by_code: dict[str, _AreaRow],
    db: dict[str, Area],
    seen: Scope,
    report: ImportReport,
) -> None:
    """Report children outside their parent and overlaps between siblings, old or new."""
    # Only areas whose place in the tree is sound are compared with parents and siblings.
    placed = [r for r in rows if r.placed and r.geom is not None]
    file_codes = set(by_code)
    updated = {r.code for r in placed if r.existing is not None}
    stored_children = [
        (
            a.code,
            a.name if within(seen, a) else "",
            a.parent.code if a.parent else "",
            shape(a.boundary),
        )
        for a in Area.objects.filter(
            parent__code__in={r.parent_code for r in placed} | updated, boundary__isnull=False
        )
        .exclude(code__in=file_codes)
        .select_related("parent")
    ]
    # A parent's shape: the file's if it has one, else the stored one.
    for row in placed:
        parent_row = by_code.get(row.parent_code)
        parent_geom: Any = None
        if parent_row is not None:
            parent_geom = parent_row.geom
        elif row.parent_code in db and db[row.parent_code].boundary:
            parent_geom = shape(db[row.parent_code].boundary)
        if parent_geom is None or not parent_geom.is_valid:
            continue
        overhang = row.geom.difference(parent_geom).area
        if overhang > AREA_TOLERANCE:
            report.add(
                row.index,
                row.code,
                _("超出上级“%(parent)s”的边界（超出约 %(m2)d 平方米）。")
                % {"parent": row.parent_code, "m2": square_metres(overhang, row.geom.centroid.y)},
            )
    rows_by_code = {r.code: r for r in placed}
    for code, name, parent_code, child in stored_children:
        changed = rows_by_code.get(parent_code)
        if changed is None or not child.is_valid:
            continue
        overhang = child.difference(changed.geom).area
        if overhang > AREA_TOLERANCE:
            values = {"name": name, "code": code, "m2": square_metres(overhang, child.centroid.y)}
            if name:
                message = _("新边界没有包住下级“%(name)s”（%(code)s），有约 %(m2)d 平方米在外。")
            else:
                message = _("新边界没有包住下级“%(code)s”，有约 %(m2)d 平方米在外。")
            report.add(changed.index, changed.code, message % values)
    _check_siblings(placed, stored_children, report)


def _check_siblings(
    placed: list[_AreaRow], stored: list[tuple[str, str, str, Any]], report: ImportReport
) -> None:
    """Report pairs of areas under one parent whose interiors overlap."""
    groups: dict[str, list[tuple[_AreaRow | None, str, str, Any]]] = defaultdict(list)
    for row in placed:
        groups[row.parent_code].append((row, row.code, row.name, row.geom))
    for code, name, parent_code, geom in stored:
        if parent_code in groups and geom.is_valid:
            groups[parent_code].append((None, code, name, geom))
    for members in groups.values():
        geoms = np.array([m[3] for m in members], dtype=object)
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        overlaps = shapely.area(shapely.intersection(geoms[left], geoms[right]))
        for a, b, deg2 in zip(left.tolist(), right.tolist(), overlaps.tolist(), strict=True):
            if deg2 <= AREA_TOLERANCE:
                continue
            first, second = members[a], members[b]
            if first[0] is None and second[0] is None:
                continue  # both stored already: not this file's doing
            # Blame the later feature of the file; name the other one.
            if second[0] is None or (first[0] is not None and first[0].index > second[0].index):
                first, second = second, first
            row = second[0]
            assert row is not None
            where = _("（系统中已有）") if first[0] is None else ""
            values = {
                "name": first[2],
                "code": first[1],
                "where": where,
                "m2": square_metres(deg2, row.geom.centroid.y),
            }
            if first[2]:
                message = _("与同级的“%(name)s”（%(code)s）%(where)s重叠约 %(m2)d 平方米。")
            else:  # a stored area the user cannot see: its code only
                message = _("与同级的“%(code)s”%(where)s重叠约 %(m2)d 平方米。")
            report.add(row.index, row.code, message % values)


def boundaries_import(
    *,
    actor: Any,
    data: bytes | str | dict[str, Any],
    enforce_scope: bool = True,
    dry_run: bool = False,
) -> ImportReport:
    """Check every area of a GeoJSON FeatureCollection; create or update all of them, or none."""
    report = ImportReport(what="areas", dry_run=dry_run)
    features = load_features(data, report)
    rows = [r for i, raw in enumerate(features) if (r := _read_area(i, raw, report)) is not None]
    if not rows:
        return report
    by_code = index_codes(rows, report)
    wanted = set(by_code) | {r.parent_code for r in rows if r.parent_code}
    db = {a.code: a for a in Area.objects.filter(code__in=wanted).select_related("parent")}
    _check_tree(rows, by_code, db, report)
    seen = view_scope(actor, enforce_scope)
    if enforce_scope:
        _check_scope(rows, by_code, db, scope_for(actor, "area.import"), seen, report)
    _check_shapes(rows, by_code, db, seen, report)
    report.problems.sort(key=lambda p: -1 if p.index is None else p.index)
    if not report.ok:
        return report
    order = sorted(rows, key=lambda r: (RANK[r.kind or ""], r.index))
    try:
        with transaction.atomic():
            _write_areas(actor, order, db, report)
            if dry_run:  # the real writes, undone: the report says exactly what would happen
                transaction.set_rollback(True)
    except (IntegrityError, ValidationFailed) as exc:
        report.created, report.updated, report.unchanged = [], [], []
        report.add(None, "", write_failed(exc))
    return report


def _write_areas(
    actor: Any, order: list[_AreaRow], db: dict[str, Area], report: ImportReport
) -> None:
    made: dict[str, Area] = {}
    for row in order:
        area = row.existing
        if area is None:
            area = area_create(
                actor=actor,
                code=row.code,
                name=row.name,
                kind=row.kind or "",
                parent=made.get(row.parent_code) or db[row.parent_code],
                zone=row.zone or "",
                boundary=row.boundary,
                population=row.population,
            )
            report.created.append(row.code)
        elif area_update(
            actor=actor,
            area=area,
            name=row.name,
            zone=area.zone if row.zone is None else row.zone,
            boundary=row.boundary,
            population=row.population if row.population_given else area.population,
        ):
            report.updated.append(row.code)
        else:
            report.unchanged.append(row.code)
        made[row.code] = area
