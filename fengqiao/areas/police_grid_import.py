"""Import police grids from GeoJSON: every grid checked, then all reassigned or none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fengqiao.accounts.access import Scope, scope_for
from fengqiao.accounts.models import Membership, User
from fengqiao.areas.geojson_import import (
    ImportReport,
    code_and_name,
    feature_properties,
    index_codes,
    load_features,
    shown_name,
    text_of,
    view_scope,
    within,
    write_failed,
)
from fengqiao.areas.models import Area, AreaKind, PoliceGrid
from fengqiao.areas.services import police_grid_assign, police_grid_save
from fengqiao.core.errors import ValidationFailed

# Who may be a police grid's officer: a 民警 of the station (or its chief).
BEAT_ROLES = ("officer", "chief")


@dataclass
class _BeatRow:
    index: int
    code: str
    name: str
    station_code: str
    grid_codes: list[str]
    officer: str
    usable: bool = True


def _read_beat(index: int, raw: Any, report: ImportReport) -> _BeatRow | None:
    props = feature_properties(index, raw, report)
    if props is None:
        return None
    code, name = code_and_name(index, props, report)
    station_code = text_of(props.get("station"))
    if not station_code:
        report.add(index, code, _("缺少派出所编码（station）。"))
    grids = props.get("grids")
    grid_codes = [text_of(g) for g in grids] if isinstance(grids, list) else []
    if not isinstance(grids, list) or not all(grid_codes):
        report.add(index, code, _("网格（grids）应为网格编码的列表。"))
    elif not grid_codes:
        report.add(index, code, _("警格至少应包含一个网格。"))
    return _BeatRow(
        index,
        code,
        name,
        station_code,
        list(dict.fromkeys(grid_codes)),
        text_of(props.get("officer")),
    )


def police_grids_import(
    *,
    actor: Any,
    data: bytes | str | dict[str, Any],
    on_date: date | None = None,
    enforce_scope: bool = True,
    dry_run: bool = False,
) -> ImportReport:
    """Check every police grid of a file; save them and reassign their grids, or change nothing."""
    report = ImportReport(what="police_grids", dry_run=dry_run)
    on_date = on_date or timezone.localdate()
    features = load_features(data, report)
    rows = [r for i, raw in enumerate(features) if (r := _read_beat(i, raw, report)) is not None]
    if not rows:
        return report
    by_code = index_codes(rows, report)
    areas = {
        a.code: a
        for a in Area.objects.filter(
            code__in={r.station_code for r in rows} | {g for r in rows for g in r.grid_codes}
        )
    }
    existing = {
        pg.code: pg for pg in PoliceGrid.objects.filter(code__in=by_code).select_related("station")
    }
    officers = {
        u.username: u
        for u in User.objects.filter(username__in={r.officer for r in rows if r.officer})
    }
    scope = scope_for(actor, "area.import")
    seen = view_scope(actor, enforce_scope)
    claimed: dict[str, _BeatRow] = {}
    for row in rows:
        station = areas.get(row.station_code)
        if row.station_code and station is None:
            report.add(
                row.index, row.code, _("派出所编码“%(code)s”不存在。") % {"code": row.station_code}
            )
        elif station is not None and station.kind != AreaKind.STATION:
            report.add(
                row.index, row.code, _("“%(code)s”不是派出所。") % {"code": row.station_code}
            )
            station = None
        if station is not None:
            _check_beat(row, station, areas, existing, officers, seen, report)
            if enforce_scope and not within(scope, station):
                report.add(
                    row.index,
                    row.code,
                    _("您无权修改“%(station)s”的警格。") % {"station": shown_name(seen, station)},
                )
        for g in row.grid_codes:
            if row.usable and g in claimed:
                report.add(
                    row.index,
                    row.code,
                    _("网格“%(grid)s”已列在第 %(n)d 个要素（警格 %(pg)s）中。")
                    % {"grid": g, "n": claimed[g].index + 1, "pg": claimed[g].code},
                )
            elif row.usable:
                claimed[g] = row
    report.problems.sort(key=lambda p: -1 if p.index is None else p.index)
    if not report.ok:
        return report
    try:
        with transaction.atomic():
            _write_beats(actor, rows, areas, existing, officers, on_date, report)
            if dry_run:
                transaction.set_rollback(True)
    except (IntegrityError, ValidationFailed) as exc:
        report.created, report.updated, report.unchanged = [], [], []
        report.add(None, "", write_failed(exc))
    return report


def _check_beat(
    row: _BeatRow,
    station: Area,
    areas: dict[str, Area],
    existing: dict[str, PoliceGrid],
    officers: dict[str, User],
    seen: Scope,
    report: ImportReport,
) -> None:
    """Report a police grid's foreign grids, a change of station, and an unknown officer."""
    # Stations are named only where the actor can see them; elsewhere by their code.
    name = shown_name(seen, station)
    pg = existing.get(row.code)
    if pg is not None and pg.station_id != station.pk:
        report.add(
            row.index,
            row.code,
            _("警格“%(code)s”属于“%(station)s”，不能通过导入改到其他派出所。")
            % {"code": row.code, "station": shown_name(seen, pg.station)},
        )
    problems = {
        _("以下网格编码不存在：%(codes)s"): [g for g in row.grid_codes if g not in areas],
        _("以下编码不是网格：%(codes)s"): [
            g for g in row.grid_codes if g in areas and areas[g].kind != AreaKind.GRID
        ],
        _("以下网格不属于“%(station)s”：%(codes)s"): [
            g
            for g in row.grid_codes
            if g in areas and areas[g].kind == AreaKind.GRID and areas[g].station_id != station.pk
        ],
    }
    for message, codes in problems.items():
        if codes:
            text = message % {
                "codes": pgettext("list separator", "、").join(codes),
                "station": name,
            }
            report.add(row.index, row.code, text)
    if row.officer:
        user = officers.get(row.officer)
        if user is None or not user.is_active:
            report.add(
                row.index,
                row.code,
                _("民警账号“%(name)s”不存在或已停用。") % {"name": row.officer},
            )
        elif not Membership.objects.filter(
            user=user, role__in=BEAT_ROLES, area__path__startswith=station.path
        ).exists():
            report.add(
                row.index,
                row.code,
                _("“%(name)s”不是“%(station)s”的民警。") % {"name": row.officer, "station": name},
            )


def _write_beats(
    actor: Any,
    rows: list[_BeatRow],
    areas: dict[str, Area],
    existing: dict[str, PoliceGrid],
    officers: dict[str, User],
    on_date: date,
    report: ImportReport,
) -> None:
    for row in rows:
        pg, saved = police_grid_save(
            actor=actor,
            station=areas[row.station_code],
            code=row.code,
            name=row.name,
            officer=officers.get(row.officer),
        )
        moved = police_grid_assign(
            actor=actor,
            police_grid=pg,
            grid_ids=[areas[g].pk for g in row.grid_codes],
            on_date=on_date,
        )
        report.links_opened += len(moved.added)
        report.links_closed += len(moved.removed) + len(moved.moved_from)
        if row.code not in existing:
            report.created.append(row.code)
        elif saved or moved.changed:
            report.updated.append(row.code)
        else:
            report.unchanged.append(row.code)
