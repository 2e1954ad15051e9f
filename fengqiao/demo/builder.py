"""Build the demo district: areas, staff, police grids and places; a second run adds nothing.

Every row has a stable key (area and police-grid codes, usernames, a place's name within its
station) and is created only when that key is missing, so the demo loads into a fresh
database in seconds and leaves a used one as it found it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.db import transaction

from fengqiao.accounts.models import Membership, User
from fengqiao.accounts.services import password_generate
from fengqiao.areas.geo import grid_index
from fengqiao.areas.models import Area, AreaKind, Place, PlaceKind, PoliceGrid, PoliceGridLink
from fengqiao.areas.services import area_create
from fengqiao.core.audit import audit_record, audit_records_bulk
from fengqiao.core.search import search_index
from fengqiao.core.text import search_document
from fengqiao.demo.disputes import load_disputes
from fengqiao.demo.geography import GRID_SIZE, Ground, build_ground, geojson, split_contiguous
from fengqiao.demo.incidents import load_incidents
from fengqiao.demo.places import LEIFENG_COUNTS, NEIGHBOUR_COUNTS, PlacePlan, plan_places
from fengqiao.demo.plan import (
    ACTOR,
    DISTRICT_CODE,
    DISTRICT_NAME,
    DONGFANGHONG,
    LEIFENG,
    POLICE_GRID_FROM,
    SEED,
    StationPlan,
    beats,
    community_code,
    grid_code,
)
from fengqiao.demo.staff import StaffPlan, plan_staff

STATIONS = (LEIFENG, DONGFANGHONG)
PLACE_COUNTS = {LEIFENG.code: LEIFENG_COUNTS, DONGFANGHONG.code: NEIGHBOUR_COUNTS}


@dataclass(frozen=True)
class Login:
    """A sample login made by this run: printed once, never stored in clear."""

    username: str
    role: str
    post: str
    password: str


@dataclass
class LoadResult:
    """What a run created, and the sample logins whose passwords it made."""

    created: Counter[str] = field(default_factory=Counter)
    logins: list[Login] = field(default_factory=list)
    existing_logins: list[StaffPlan] = field(default_factory=list)
    skipped_places: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def _shares(total: int, weights: list[float]) -> list[int]:
    """Split `total` into whole parts in proportion to the weights, summing exactly."""
    raw = [total * w / sum(weights) for w in weights]
    parts = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


class _Areas:
    """Areas by code: the ones already there, and the ones created through `area_create`."""

    def __init__(self, result: LoadResult) -> None:
        self.result = result
        self.by_code: dict[str, Area] = {
            a.code: a for a in Area.objects.filter(code__startswith=DISTRICT_CODE)
        }

    def get_or_create(self, code: str, **fields: Any) -> Area:
        area = self.by_code.get(code)
        if area is None:
            area = area_create(actor=ACTOR, code=code, **fields)
            self.by_code[code] = area
            self.result.created["areas"] += 1
        return area


def _load_areas(grounds: dict[str, Ground], areas: _Areas) -> None:
    """Create the district, its stations, their communities and grids where missing."""
    outline = shapely.union_all([g.station for g in grounds.values()], grid_size=GRID_SIZE)
    district = areas.get_or_create(
        DISTRICT_CODE,
        name=DISTRICT_NAME,
        kind=AreaKind.DISTRICT,
        boundary=geojson(outline) if outline.geom_type == "Polygon" else None,
        population=sum(s.population for s in STATIONS),
    )
    for plan in STATIONS:
        ground = grounds[plan.code]
        rng = random.Random(f"{SEED}-{plan.code}-population")
        station = areas.get_or_create(
            plan.code,
            name=plan.name,
            kind=AreaKind.STATION,
            parent=district,
            boundary=geojson(ground.station),
            population=plan.population,
        )
        for ci, community in enumerate(plan.communities):
            parent = areas.get_or_create(
                community_code(plan, ci),
                name=community.name,
                kind=community.kind,
                parent=station,
                zone=community.zone,
                boundary=geojson(ground.communities[ci]),
                population=community.population,
            )
            cells = ground.grids[ci]
            people = _shares(community.population, [c.area * rng.uniform(0.6, 1.4) for c in cells])
            for gi, cell in enumerate(cells):
                areas.get_or_create(
                    grid_code(plan, ci, gi),
                    name=f"{community.name}第{gi + 1}网格",
                    kind=AreaKind.GRID,
                    parent=parent,
                    zone=community.zone,
                    boundary=geojson(cell),
                    population=people[gi],
                )


def _station_of(area: Area) -> int | None:
    return area.station_id or (area.pk if area.kind == AreaKind.STATION else None)


def _load_staff(staff: list[StaffPlan], areas: _Areas, result: LoadResult) -> dict[str, User]:
    """Create the missing accounts with their one role; only sample logins get a password."""
    users = {u.username: u for u in User.objects.filter(username__in=[s.username for s in staff])}
    for plan in staff:
        if plan.username in users:
            if plan.shown:
                result.existing_logins.append(plan)
            continue
        area = areas.by_code[plan.area_code]
        # Other accounts get no usable password until someone sets one: no secret unshown.
        password = password_generate() if plan.shown else None
        user = User.objects.create_user(
            username=plan.username,
            password=password,
            full_name=plan.full_name,
            badge_number=plan.badge,
        )
        Membership.objects.create(user=user, area=area, role=plan.role)
        audit_record(
            actor=ACTOR,
            action="accounts.user.created",
            obj=user,
            station_id=_station_of(area),
            changes={"username": plan.username, "role": plan.role, "area": area.pk},
        )
        users[plan.username] = user
        result.created["accounts"] += 1
        if password is not None:
            result.logins.append(
                Login(plan.username, plan.role, f"{area.name} {plan.title}", password)
            )
    return users


def _load_police_grids(
    grounds: dict[str, Ground],
    areas: _Areas,
    officers: dict[str, User],
    result: LoadResult,
) -> dict[str, User | None]:
    """Create the missing police grids over contiguous grids; return each grid's officer."""
    existing = {pg.code: pg for pg in PoliceGrid.objects.filter(code__startswith=DISTRICT_CODE)}
    officer_of_grid: dict[str, User | None] = {}
    for plan in STATIONS:
        ground = grounds[plan.code]
        station = areas.by_code[plan.code]
        groups = {
            ci: split_contiguous(ground.grids[ci], community.police_grids)
            for ci, community in enumerate(plan.communities)
        }
        for beat in beats(plan):
            grid_codes = [
                grid_code(plan, beat.community, gi) for gi in groups[beat.community][beat.beat]
            ]
            pg = existing.get(beat.code)
            if pg is None:
                grids = [areas.by_code[c] for c in grid_codes]
                pg = _police_grid_create(
                    station, beat.name, beat.code, officers.get(beat.code), grids
                )
                result.created["police_grids"] += 1
            for code in grid_codes:
                officer_of_grid[code] = pg.officer
    return officer_of_grid


def _police_grid_create(
    station: Area, name: str, code: str, officer: User | None, grids: list[Area]
) -> PoliceGrid:
    """Create a police grid with its grids from 2024; grids already in a beat stay there."""
    pg = PoliceGrid.objects.create(station=station, code=code, name=name, officer=officer)
    taken = set(
        PoliceGridLink.objects.filter(grid__in=grids, valid_to__isnull=True).values_list(
            "grid_id", flat=True
        )
    )
    added = [g for g in grids if g.pk not in taken]
    PoliceGridLink.objects.bulk_create(
        PoliceGridLink(police_grid=pg, grid=g, valid_from=POLICE_GRID_FROM) for g in added
    )
    audit_record(
        actor=ACTOR,
        action="areas.police_grid.created",
        obj=pg,
        station_id=station.pk,
        changes={
            "code": code,
            "name": name,
            "officer": officer.pk if officer else None,
            "grids": [g.code for g in added],
            "valid_from": POLICE_GRID_FROM.isoformat(),
        },
    )
    return pg


def _load_places(
    grounds: dict[str, Ground],
    areas: _Areas,
    officer_of_grid: dict[str, User | None],
    result: LoadResult,
) -> None:
    """Create each station's missing places in one insert, located to their grids."""
    kinds = {k.code: k for k in PlaceKind.objects.all()}
    for plan in STATIONS:
        station = areas.by_code[plan.code]
        have = set(Place.objects.filter(station=station).values_list("name", flat=True))
        wanted = [
            p
            for p in plan_places(plan, grounds[plan.code], PLACE_COUNTS[plan.code], SEED)
            if p.name not in have
        ]
        if not wanted:
            continue
        located = grid_index(station.pk).locate_many(
            [p.lng for p in wanted], [p.lat for p in wanted]
        )
        grids = {a.pk: a for a in areas.by_code.values() if a.kind == AreaKind.GRID}
        parents = {a.pk: a for a in areas.by_code.values()}
        rows = []
        for p, grid_id in zip(wanted, located.tolist(), strict=True):
            grid = grids.get(grid_id)
            if grid is None:  # the grid was redrawn since the demo was loaded
                result.skipped_places.append(p.name)
                continue
            community = parents[grid.parent_id or 0]
            officer = officer_of_grid.get(grid.code)
            rows.append(_place(p, station, community, grid, kinds[p.kind], officer))
        Place.objects.bulk_create(rows, batch_size=500)
        search_index(label="areas.place", rows=[(p.pk, p.search_text) for p in rows], fresh=True)
        audit_records_bulk(
            actor=ACTOR,
            action="areas.place.created",
            objs=rows,
            changes=lambda p: {"source": "demo", "name": p.name, "kind": p.kind_id},
        )
        audit_record(
            actor=ACTOR,
            action="demo.places.loaded",
            obj=station,
            changes={"count": len(rows), "kinds": dict(Counter(p.kind.code for p in rows))},
        )
        result.created["places"] += len(rows)


def _place(
    p: PlacePlan, station: Area, community: Area, grid: Area, kind: PlaceKind, officer: User | None
) -> Place:
    return Place(
        station=station,
        community=community,
        area=grid,
        kind=kind,
        name=p.name,
        address=p.address,
        lat=p.lat,
        lng=p.lng,
        contact_name=p.contact_name,
        contact_phone=p.contact_phone,
        officer=officer,
        notes=p.notes,
        search_text=search_document(p.name, p.address, p.notes, p.contact_name),
    )


def load_demo() -> LoadResult:
    """Load the demo district into the database, creating only what is missing."""
    result = LoadResult()
    grounds = build_ground(STATIONS, SEED)
    staff = plan_staff(SEED)
    with transaction.atomic():
        areas = _Areas(result)
        _load_areas(grounds, areas)
        users = _load_staff(staff, areas, result)
        officers = {s.police_grid: users[s.username] for s in staff if s.police_grid}
        officer_of_grid = _load_police_grids(grounds, areas, officers, result)
        _load_places(grounds, areas, officer_of_grid, result)
        result.created.update(load_disputes(station=areas.by_code[LEIFENG.code]))
        result.created.update(load_incidents(station=areas.by_code[LEIFENG.code]))
    return result


def station_summary(plan: StationPlan) -> dict[str, int]:
    """Return the counts a tester checks first: communities, grids, police grids, places."""
    station = Area.objects.filter(code=plan.code).first()
    if station is None:
        return {}
    return {
        "communities": Area.objects.filter(station=station).communities().count(),
        "grids": Area.objects.filter(station=station).grids().count(),
        "police_grids": PoliceGrid.objects.filter(station=station).count(),
        "places": Place.objects.filter(station=station).count(),
    }
