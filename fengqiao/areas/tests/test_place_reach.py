"""Who may import, and where a community officer may register places: said, never a bare 403."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fengqiao.areas.models import Place
from fengqiao.core.models import AuditEntry
from fengqiao.factories import place

from .places_kit import GOOD_ROWS, login, xlsx_bytes

pytestmark = pytest.mark.django_db

IMPORT = "/areas/places/import/"
CREATE = "/areas/places/new/"


def _new(j, **changes) -> dict:
    data = {
        "station": j.station.pk,
        "kind": "hotel",
        "name": "枫桥宾馆",
        "address": "枫桥路1号",
        "lat": "28.205",
        "lng": "112.905",
        "contact_phone": "",
    }
    data.update(changes)
    return data


def _edit(p, **changes) -> dict:
    data = {
        "kind": p.kind.code,
        "name": p.name,
        "address": p.address,
        "lat": p.lat,
        "lng": p.lng,
        "contact_name": "",
        "contact_phone": "",
        "officer_id": "",
        "notes": "",
        "version": p.version,
    }
    data.update(changes)
    return data


# --- 1. place import is a station-level task ---


def test_a_community_officer_is_not_offered_the_import(client, j):
    # given an officer whose role is on one community, not on the station
    c = login(client, j.user("officer", area=j.communities[0]))
    # when they open the list, then there is no import button
    html = c.get("/areas/places/").content.decode()
    assert IMPORT not in html
    # and the import page says why, with no form to fill in
    resp = c.get(IMPORT)
    assert resp.status_code == 403
    body = resp.content.decode()
    assert "批量导入场所须由所长或所级民警操作" in body
    assert 'type="file"' not in body and 'enctype="multipart/form-data"' not in body


def test_a_community_officer_posting_an_import_writes_nothing(client, j):
    c = login(client, j.user("officer", area=j.communities[0]))
    resp = c.post(
        IMPORT,
        {"station": j.station.pk, "file": SimpleUploadedFile("p.xlsx", xlsx_bytes(GOOD_ROWS))},
    )
    assert resp.status_code == 403
    assert "批量导入场所须由所长或所级民警操作" in resp.content.decode()
    assert not Place.objects.exists()
    assert not AuditEntry.objects.filter(action="areas.place.imported").exists()


@pytest.mark.parametrize("role", ["officer", "chief"])
def test_station_staff_see_the_import_button_and_form(client, j, role):
    c = login(client, j.user(role))
    assert IMPORT in c.get("/areas/places/").content.decode()
    resp = c.get(IMPORT)
    assert resp.status_code == 200 and 'type="file"' in resp.content.decode()


def test_a_volunteer_gets_the_reason_too(client, j):
    resp = login(client, j.user("volunteer")).get(IMPORT)
    assert resp.status_code == 403
    assert "批量导入场所须由所长或所级民警操作" in resp.content.decode()


# --- 2. a location in another community is a field error, and the input survives ---


def test_a_community_officer_creating_in_another_community_sees_a_location_error(client, j):
    # given an officer of community 0
    officer = j.user("officer", area=j.communities[0])
    c = login(client, officer)
    # when they register a place at a point of community 1 of the same station
    resp = c.post(CREATE, _new(j, name="我填的名字", lat="28.215", lng="112.915"))
    # then the form comes back with a location error and what they typed
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "该位置位于S1社区1，不在您负责的区域内。" in html
    assert 'value="我填的名字"' in html and 'value="28.215"' in html
    form = resp.context["form"]
    assert form.errors["lat"] == ["该位置位于S1社区1，不在您负责的区域内。"]
    assert not Place.objects.exists()
    # and in their own community it works
    assert c.post(CREATE, _new(j)).status_code == 302
    assert Place.objects.get().community == j.communities[0]


def test_a_community_officer_moving_a_place_out_of_their_community_sees_a_location_error(client, j):
    p = place(j, name="枫桥宾馆", grid=0)
    c = login(client, j.user("officer", area=j.communities[0]))
    resp = c.post(f"/areas/places/{p.pk}/edit/", _edit(p, lat="28.215", lng="112.915"))
    assert resp.status_code == 200
    assert "该位置位于S1社区1，不在您负责的区域内。" in resp.content.decode()
    p.refresh_from_db()
    assert (p.area_id, p.version) == (j.grids[0].pk, 1)
    assert not AuditEntry.objects.filter(action="areas.place.updated").exists()


# --- 3. errors on hidden fields are shown ---


def test_a_station_one_may_not_use_is_an_error_on_the_create_form(client, j, other):
    # given an officer of one station, whose form carries the station as a hidden field
    c = login(client, j.user("officer"))
    # when the form comes back with another station in it
    resp = c.post(CREATE, _new(j, station=other.station.pk))
    # then the page says so instead of redisplaying silently
    assert resp.status_code == 200
    assert "所选派出所无效，或您无权在该所登记场所" in resp.content.decode()
    assert not Place.objects.exists()


def test_a_station_one_may_not_use_is_an_error_on_the_import_form(client, j, other):
    c = login(client, j.user("officer"))
    resp = c.post(
        IMPORT,
        {"station": other.station.pk, "file": SimpleUploadedFile("p.xlsx", xlsx_bytes(GOOD_ROWS))},
    )
    assert resp.status_code == 200
    assert "所选派出所无效，或您无权向该所导入场所" in resp.content.decode()
    assert not Place.objects.exists()


def test_a_missing_version_on_the_edit_form_is_shown(client, j):
    p = place(j, name="枫桥宾馆")
    c = login(client, j.user("officer"))
    data = _edit(p, name="新名字")
    del data["version"]
    resp = c.post(f"/areas/places/{p.pk}/edit/", data)
    assert resp.status_code == 200
    assert "缺少版本号，请刷新页面后重试" in resp.content.decode()
    p.refresh_from_db()
    assert p.name == "枫桥宾馆"


# --- 8. names with markup ---


def test_a_name_with_markup_is_refused_on_the_page(client, j):
    c = login(client, j.user("officer"))
    resp = c.post(CREATE, _new(j, name="<b>宾馆</b>"))
    assert resp.status_code == 200
    assert resp.context["form"].errors["name"] == ["名称不能包含“<”或“>”。"]
    assert not Place.objects.exists()
