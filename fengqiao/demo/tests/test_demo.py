"""The demo district: counts, ground, people, places, and a second run that changes nothing."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import shapely
from django.core.management import call_command
from django.db import connection, transaction
from shapely.geometry import shape

from fengqiao.accounts.models import Membership, User
from fengqiao.accounts.roles import Role
from fengqiao.areas.geo import grid_index
from fengqiao.areas.models import Area, Place, PoliceGrid, PoliceGridLink
from fengqiao.core.audit import audit_verify
from fengqiao.core.models import AuditEntry
from fengqiao.core.pii import validate_phone
from fengqiao.core.text import to_simplified
from fengqiao.demo.geography import build_ground, connected, geojson
from fengqiao.demo.places import LEIFENG_COUNTS, plan_places
from fengqiao.demo.plan import DISTRICT_CODE, DONGFANGHONG, LEIFENG, SEED
from fengqiao.demo.tests.kit import ensure_code_lists

pytestmark = pytest.mark.django_db  # each test runs in a savepoint inside the module's load

HOTELS = {"hotel", "small_hotel"}
BATH_KTV = {"beauty_bath", "ktv", "small_karaoke"}


@dataclass
class Loaded:
    output: str
    station: Area
    neighbour: Area


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[Loaded]:
    """Load the demo once for the module, in a transaction rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        ensure_code_lists()
        out = io.StringIO()
        call_command("demo_load", stdout=out)
        yield Loaded(
            out.getvalue(),
            Area.objects.get(code=LEIFENG.code),
            Area.objects.get(code=DONGFANGHONG.code),
        )
        transaction.set_rollback(True)


def _counts() -> dict[str, int]:
    return {
        "areas": Area.objects.count(),
        "places": Place.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "police_grids": PoliceGrid.objects.count(),
        "links": PoliceGridLink.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def _logins(output: str) -> dict[str, str]:
    """Return {username: password} from the table the first run prints."""
    return dict(re.findall(r"^  ([a-z]+_[a-z]+\d*)\s.*\s([A-Za-z0-9]{14})$", output, re.M))


def test_the_station_has_the_planned_size(demo: Loaded) -> None:
    areas = Area.objects.filter(station=demo.station)
    assert areas.communities().count() == 8
    assert {a.zone for a in areas.communities()} == {"built", "transitional", "undeveloped"}
    assert {a.kind for a in areas.communities()} == {"community", "village"}
    assert 45 <= areas.grids().count() <= 55
    assert PoliceGrid.objects.filter(station=demo.station).count() == 11
    population = sum(a.population or 0 for a in areas.communities())
    assert population == demo.station.population == 120_000
    assert sum(a.population or 0 for a in areas.grids()) == population


def test_places_come_in_the_planned_numbers(demo: Loaded) -> None:
    kinds = Counter(Place.objects.filter(station=demo.station).values_list("kind__code", flat=True))
    assert kinds["police_office"] == 7
    assert kinds["service_station"] == 6
    assert sum(kinds[k] for k in HOTELS) == 36
    assert sum(kinds[k] for k in BATH_KTV) == 9
    assert kinds["industrial_park"] >= 1 and kinds["school"] >= 1 and kinds["compound"] >= 1
    nine_small = {"small_shop", "small_school", "small_clinic", "internet_cafe", "small_eatery"}
    assert all(kinds[k] > 0 for k in nine_small | {"small_workshop", "rental_house"})
    assert 280 <= sum(kinds.values()) <= 320
    assert Place.objects.filter(station=demo.neighbour).count() >= 3


def test_grids_are_valid_do_not_overlap_and_cover_their_parents(demo: Loaded) -> None:
    for station in (demo.station, demo.neighbour):
        grids = list(Area.objects.filter(station=station).grids())
        shapes = [shape(g.boundary) for g in grids]
        assert all(s.is_valid and s.geom_type == "Polygon" for s in shapes)
        # A valid coverage: edges match exactly, so no two grids overlap and no slivers.
        assert shapely.coverage_is_valid(shapes)
        outline = shape(station.boundary)
        assert shapely.union_all(shapes).symmetric_difference(outline).area < 1e-12
        communities = {c.pk: shape(c.boundary) for c in Area.objects.filter(station=station)}
        for grid, s in zip(grids, shapes, strict=True):
            assert s.difference(communities[grid.parent_id]).area < 1e-14
    assert shape(demo.station.boundary).intersection(shape(demo.neighbour.boundary)).area < 1e-12


def test_every_place_lies_in_its_own_grid(demo: Loaded) -> None:
    for station in (demo.station, demo.neighbour):
        places = list(Place.objects.filter(station=station).select_related("area"))
        located = grid_index(station.pk).locate_many(
            [p.lng for p in places], [p.lat for p in places]
        )
        assert located.tolist() == [p.area_id for p in places]
        assert all(p.community_id == p.area.parent_id for p in places)
        assert all(p.area.station_id == station.pk for p in places)


def test_places_carry_contacts_officers_and_search_text(demo: Loaded) -> None:
    places = list(Place.objects.filter(station=demo.station))
    assert len({p.name for p in places}) == len(places)
    assert all(validate_phone(p.contact_phone) == p.contact_phone for p in places)
    assert all(p.contact_name and p.address.startswith("长沙市") for p in places)
    assert all(to_simplified(p.name) in p.search_text for p in places)
    officers = {p.officer_id for p in places}
    assert None not in officers
    assert set(Membership.objects.filter(user_id__in=officers).values_list("role", flat=True)) == {
        Role.OFFICER
    }
    with connection.cursor() as cur:
        cur.execute("SELECT contact_phone FROM areas_place WHERE id = %s", [places[0].pk])
        assert places[0].contact_phone not in cur.fetchone()[0]


def test_police_grids_are_contiguous_current_and_staffed(demo: Loaded) -> None:
    grid_ids = set(Area.objects.filter(station=demo.station).grids().values_list("pk", flat=True))
    seen: list[int] = []
    for pg in PoliceGrid.objects.filter(station=demo.station).prefetch_related("links__grid"):
        links = list(pg.links.all())
        assert links and all(lk.valid_to is None and lk.valid_from.year == 2024 for lk in links)
        grids = [lk.grid for lk in links]
        assert len({g.parent_id for g in grids}) == 1  # a beat stays inside one community
        assert connected([shape(g.boundary) for g in grids])
        role = Membership.objects.get(user=pg.officer)
        assert role.role == Role.OFFICER and role.area_id == grids[0].parent_id
        seen += [g.pk for g in grids]
    assert sorted(seen) == sorted(grid_ids)  # every grid in exactly one police grid


def test_every_role_has_a_user_and_one_printed_login(demo: Loaded) -> None:
    held = set(Membership.objects.values_list("role", flat=True))
    assert held == set(Role.values)
    assert 50 <= User.objects.count() <= 70
    station_staff = Membership.objects.filter(area__station=demo.station)
    roles = Counter(station_staff.values_list("role", flat=True))
    assert roles[Role.CHIEF] == 1 and roles[Role.OFFICER] == 19 and roles[Role.AUXILIARY] == 14
    district = Area.objects.get(code=DISTRICT_CODE)
    assert Membership.objects.filter(area=district, role=Role.ANALYST).exists()
    assert Membership.objects.filter(area=district, role=Role.ADMIN).exists()
    logins = _logins(demo.output)
    printed = {Membership.objects.get(user__username=u).role for u in logins if u.startswith("lf_")}
    assert printed | {Role.ANALYST, Role.ADMIN} == set(Role.values)
    assert "dfh_chief" in logins
    for username, password in logins.items():
        assert User.objects.get(username=username).check_password(password)


def test_the_summary_counts_the_incidents_it_made(demo: Loaded) -> None:
    from fengqiao.incidents.models import Incident

    made = Incident.objects.filter(station=demo.station).count()
    assert made > 10_000
    assert f"警情：{made} 起（近两年）" in demo.output


def test_the_neighbour_stays_out_of_sight(demo: Loaded) -> None:
    chief = User.objects.get(username="lf_chief")
    other = User.objects.get(username="dfh_chief")
    mine = Place.objects.visible_to(chief)
    theirs = Place.objects.visible_to(other)
    assert mine.exists() and theirs.exists()
    assert not mine.filter(station=demo.neighbour).exists()
    assert not theirs.filter(station=demo.station).exists()


def test_the_load_is_audited(demo: Loaded) -> None:
    assert audit_verify().ok
    assert AuditEntry.objects.filter(action="demo.places.loaded").count() == 2
    assert (
        AuditEntry.objects.filter(action="areas.area.created").count()
        == Area.objects.filter(code__startswith=DISTRICT_CODE).count()
    )


def test_a_second_run_changes_nothing_and_shows_no_password(demo: Loaded) -> None:
    before = _counts()
    out = io.StringIO()
    call_command("demo_load", stdout=out)
    assert _counts() == before
    again = out.getvalue()
    assert "changepassword" in again
    assert not _logins(again)
    assert not any(pw in again for pw in _logins(demo.output).values())


def test_the_ground_and_places_are_the_same_every_time() -> None:
    first = build_ground([LEIFENG, DONGFANGHONG], SEED)
    second = build_ground([LEIFENG, DONGFANGHONG], SEED)
    for code, ground in first.items():
        assert [geojson(g) for c in ground.grids for g in c] == [
            geojson(g) for c in second[code].grids for g in c
        ]
    ground = first[LEIFENG.code]
    assert plan_places(LEIFENG, ground, LEIFENG_COUNTS, SEED) == plan_places(
        LEIFENG, ground, LEIFENG_COUNTS, SEED
    )
