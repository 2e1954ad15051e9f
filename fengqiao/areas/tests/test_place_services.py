"""Place services: validation, location, permissions, optimistic concurrency, audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from fengqiao.areas.models import Place, PlaceKind
from fengqiao.areas.services import place_create, place_update
from fengqiao.core.audit import REDACTED
from fengqiao.core.errors import Conflict, ValidationFailed
from fengqiao.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _create(j, actor, **extra):
    values = {
        "station_id": j.station.pk,
        "kind_code": "hotel",
        "name": "枫桥宾馆",
        "address": "枫桥路1号",
        "lat": 28.205,
        "lng": 112.905,
        "contact_phone": "138 1234 5678",
    }
    values.update(extra)
    return place_create(actor=actor, **values)


def test_create_places_the_place_in_its_grid_and_community(j):
    # given an officer of the station
    officer = j.user("officer")
    # when they register a place inside grid 3
    place = _create(j, officer, lat=28.215, lng=112.915, contact_name="王五", notes="三楼")
    # then the grid, community and station follow from the location
    assert place.area == j.grids[3]
    assert place.community == j.communities[1]
    assert place.station == j.station
    assert place.contact_phone == "13812345678"  # normalised
    assert place.version == 1 and place.created_by == officer
    assert "枫桥宾馆" in place.search_text and "王五" in place.search_text


def test_create_is_audited_without_the_phone(j):
    officer = j.user("officer")
    place = _create(j, officer)
    entry = AuditEntry.objects.get(action="areas.place.created", object_id=str(place.pk))
    assert entry.actor == officer and entry.station_id == j.station.pk
    assert entry.changes["contact_phone"] == [REDACTED, REDACTED]
    assert "13812345678" not in str(entry.changes)
    assert entry.changes["name"] == [None, "枫桥宾馆"]


def test_bad_input_is_refused_field_by_field(j):
    officer = j.user("officer")
    with pytest.raises(ValidationFailed) as exc:
        _create(j, officer, name=" ", address="", contact_phone="12345", kind_code="nope")
    assert set(exc.value.fields) >= {"name", "address", "contact_phone", "kind"}
    assert "电话号码格式不正确" in exc.value.fields["contact_phone"][0]
    assert Place.objects.count() == 0


def test_a_location_outside_the_station_is_refused(j, other):
    officer = j.user("officer")
    with pytest.raises(ValidationFailed) as exc:
        _create(j, officer, lng=112.955)  # inside the other station
    assert "location" in exc.value.fields
    assert Place.objects.count() == 0


def test_an_inactive_kind_is_refused(j):
    PlaceKind.objects.filter(code="pawnshop").update(active=False)
    with pytest.raises(ValidationFailed) as exc:
        _create(j, j.user("officer"), kind_code="pawnshop")
    assert "已停用" in exc.value.fields["kind"][0]


def test_the_responsible_officer_must_be_police_of_this_station(j, other):
    officer = j.user("officer")
    mine, volunteer, stranger = j.user("auxiliary"), j.user("volunteer"), other.user("officer")
    assert _create(j, officer, officer_id=mine.pk).officer == mine
    for wrong in (volunteer, stranger):
        with pytest.raises(ValidationFailed) as exc:
            _create(j, officer, officer_id=wrong.pk)
        assert "officer_id" in exc.value.fields


@pytest.mark.parametrize("role", ["volunteer", "mediator", "other_officer"])
def test_only_editors_of_the_station_may_create(j, other, role):
    user = other.user("officer") if role == "other_officer" else j.user(role)
    with pytest.raises(PermissionDenied):
        _create(j, user)
    assert Place.objects.count() == 0


def test_a_grid_level_auxiliary_may_create_only_in_their_grid(j):
    aux = j.user("auxiliary", area=j.grids[0])
    assert _create(j, aux).area == j.grids[0]
    # a point in the station but outside their grid is a location error naming where it is
    with pytest.raises(ValidationFailed) as exc:
        _create(j, aux, lat=28.215, lng=112.915)
    assert exc.value.fields["lat"] == ["该位置位于S1社区1，不在您负责的区域内。"]
    assert set(exc.value.fields) == {"lat", "lng"}
    # and in their own community's other grid, the grid is named
    with pytest.raises(ValidationFailed) as exc:
        _create(j, j.user("auxiliary", area=j.grids[0]), lat=28.215, lng=112.905)
    assert "S1社区0网格1" in exc.value.fields["lat"][0]
    assert Place.objects.count() == 1


def test_update_saves_the_changed_fields_and_audits_them(j):
    officer = j.user("officer")
    place = _create(j, officer)
    # when the name and phone change
    saved = place_update(
        actor=officer, place=place, version=1, name="枫桥大酒店", contact_phone="13900001111"
    )
    # then the version moves on and the audit names the fields, the phone redacted
    assert saved.version == 2 and saved.name == "枫桥大酒店"
    assert saved.contact_phone == "13900001111"
    assert "枫桥大酒店" in Place.objects.get(pk=place.pk).search_text
    entry = AuditEntry.objects.get(action="areas.place.updated")
    assert entry.changes == {
        "contact_phone": [REDACTED, REDACTED],
        "name": ["枫桥宾馆", "枫桥大酒店"],
    }


def test_moving_a_place_moves_it_to_the_new_grid(j):
    officer = j.user("officer")
    place = _create(j, officer)
    saved = place_update(actor=officer, place=place, version=1, lat=28.215, lng=112.915)
    assert saved.area == j.grids[3] and saved.community == j.communities[1]


def test_an_update_that_changes_nothing_writes_nothing(j):
    officer = j.user("officer")
    place = _create(j, officer)
    saved = place_update(actor=officer, place=place, version=1, name="枫桥宾馆")
    assert saved.version == 1
    assert not AuditEntry.objects.filter(action="areas.place.updated").exists()


def test_a_stale_version_is_a_conflict_and_nothing_is_lost(j):
    # given two officers who opened the same place at version 1
    first, second = j.user("officer"), j.user("chief")
    place = _create(j, first)
    place_update(actor=first, place=place, version=1, address="枫桥路2号")
    # when the second one saves on top of version 1
    with pytest.raises(Conflict) as exc:
        place_update(actor=second, place=place, version=1, name="别的名字")
    # then they are told, in Chinese, and the first change stands
    assert "已被他人修改" in exc.value.message
    fresh = Place.objects.get(pk=place.pk)
    assert (fresh.name, fresh.address, fresh.version) == ("枫桥宾馆", "枫桥路2号", 2)


def test_update_refuses_fields_it_does_not_know(j):
    officer = j.user("officer")
    place = _create(j, officer)
    with pytest.raises(TypeError):
        place_update(actor=officer, place=place, version=1, station_id=99)


@pytest.mark.parametrize("role", ["volunteer", "other_officer"])
def test_update_needs_place_edit_at_the_place(j, other, role):
    place = _create(j, j.user("officer"))
    user = other.user("officer") if role == "other_officer" else j.user(role)
    with pytest.raises(PermissionDenied):
        place_update(actor=user, place=place, version=1, name="改名")
    assert Place.objects.get(pk=place.pk).name == "枫桥宾馆"


def test_a_place_keeps_a_retired_kind_until_someone_changes_it(j):
    officer = j.user("officer")
    place = _create(j, officer, kind_code="pawnshop")
    PlaceKind.objects.filter(code="pawnshop").update(active=False)
    place.refresh_from_db()
    saved = place_update(actor=officer, place=place, version=1, kind_code="pawnshop", notes="改")
    assert saved.kind.code == "pawnshop" and saved.notes == "改"
    with pytest.raises(ValidationFailed):
        place_update(actor=officer, place=saved, version=2, kind_code="hotel ", name="")
