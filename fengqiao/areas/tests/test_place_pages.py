"""Place pages: the permission matrix, query counts, search, the stale edit, the phone."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fengqiao.areas.models import Place
from fengqiao.areas.services import place_update
from fengqiao.core.models import AuditEntry
from fengqiao.factories import place

from .places_kit import actor, login

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "nobody", "volunteer", "other_officer", "officer", "chief"]


def _form(p, **changes):
    data = {
        "kind": p.kind.code,
        "name": p.name,
        "address": p.address,
        "lat": p.lat,
        "lng": p.lng,
        "contact_name": p.contact_name,
        "contact_phone": "",
        "officer_id": "",
        "notes": p.notes,
        "version": p.version,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("role", "status", "listed"),
    [
        ("anonymous", 302, False),
        ("nobody", 403, False),
        ("volunteer", 200, True),
        ("other_officer", 200, False),
        ("officer", 200, True),
        ("chief", 200, True),
    ],
)
def test_list_matrix(client, j, other, role, status, listed):
    p = place(j, name="枫桥宾馆")
    resp = login(client, actor(role, j, other)).get("/areas/places/")
    assert resp.status_code == status
    if status == 302:
        assert resp["Location"].startswith("/accounts/login/")
    assert (f"/areas/places/{p.pk}/" in resp.content.decode()) is listed


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("nobody", 404),
        ("volunteer", 200),
        ("other_officer", 404),
        ("officer", 200),
        ("chief", 200),
    ],
)
def test_detail_matrix(client, j, other, role, status):
    p = place(j, name="枫桥宾馆", contact_phone="13812345678")
    resp = login(client, actor(role, j, other)).get(f"/areas/places/{p.pk}/")
    assert resp.status_code == status
    if status == 200:
        body = resp.content.decode()
        assert "138****5678" in body and "13812345678" not in body
        # the reveal button is for roles with pii.reveal only
        assert ("/pii/areas.place/" in body) is (role in ("officer", "chief"))


@pytest.mark.parametrize(
    ("role", "status", "created"),
    [
        ("anonymous", 302, False),
        ("nobody", 403, False),
        ("volunteer", 403, False),
        ("other_officer", 200, False),  # the form offers only their own station
        ("officer", 302, True),
        ("chief", 302, True),
    ],
)
def test_create_matrix(client, j, other, role, status, created):
    user = actor(role, j, other)
    data = {
        "station": j.station.pk,
        "kind": "hotel",
        "name": "枫桥宾馆",
        "address": "枫桥路1号",
        "lat": "28.205",
        "lng": "112.905",
        "contact_phone": "13812345678",
    }
    resp = login(client, user).post("/areas/places/new/", data)
    assert resp.status_code == status
    assert Place.objects.filter(name="枫桥宾馆").exists() is created
    if created:
        p = Place.objects.get()
        assert resp["Location"] == f"/areas/places/{p.pk}/"
        assert p.station == j.station and p.area == j.grids[0] and p.created_by == user
        assert AuditEntry.objects.filter(action="areas.place.created").count() == 1
    else:
        assert not AuditEntry.objects.filter(action="areas.place.created").exists()


@pytest.mark.parametrize(
    ("role", "status", "changed"),
    [
        ("anonymous", 302, False),
        ("nobody", 404, False),
        ("volunteer", 403, False),
        ("other_officer", 404, False),
        ("officer", 302, True),
        ("chief", 302, True),
    ],
)
def test_edit_matrix(client, j, other, role, status, changed):
    p = place(j, name="枫桥宾馆")
    c = login(client, actor(role, j, other))
    get = c.get(f"/areas/places/{p.pk}/edit/")
    assert get.status_code == (200 if changed else status)
    resp = c.post(f"/areas/places/{p.pk}/edit/", _form(p, name="枫桥大酒店"))
    assert resp.status_code == status
    p.refresh_from_db()
    assert (p.name == "枫桥大酒店") is changed
    assert p.version == (2 if changed else 1)
    assert AuditEntry.objects.filter(action="areas.place.updated").exists() is changed


def test_list_query_count_does_not_grow_with_rows(client, j, django_assert_max_num_queries):
    # given an officer and a few places, then many places
    c = login(client, j.user("officer"))
    place(j, name="宾馆0")
    with CaptureQueriesContext(connection) as few:
        assert c.get("/areas/places/?q=宾馆").status_code == 200
    for i in range(1, 40):
        place(j, name=f"宾馆{i}", grid=i % 4, kind="hotel" if i % 2 else "small_shop")
    # then a full page of 40 rows with every filter costs the same queries
    url = f"/areas/places/?q=宾馆&kind=hotel&community={j.communities[0].pk}"
    with django_assert_max_num_queries(len(few)):
        assert c.get(url).status_code == 200
    print(f"list page: {len(few)} queries")
    assert len(few) <= 16


def test_the_list_finds_a_simplified_name_from_a_traditional_query(client, j):
    hotel = place(j, name="枫桥宾馆")
    shop = place(j, name="金园小卖部", kind="small_shop")
    body = login(client, j.user("volunteer")).get("/areas/places/", {"q": "楓橋"}).content
    assert f"/areas/places/{hotel.pk}/".encode() in body
    assert f"/areas/places/{shop.pk}/".encode() not in body


def test_next_page_keeps_the_filters(client, j):
    for i in range(55):
        place(j, name=f"宾馆{i}")
    shop = place(j, name="商店", kind="small_shop")
    body = login(client, j.user("officer")).get("/areas/places/", {"kind": "hotel"}).content
    html = body.decode()
    assert "kind=hotel" in html and "cursor=" in html
    start = html.index("?kind=hotel&amp;cursor=")
    link = html[start : html.index('"', start)].replace("&amp;", "&")
    second = client.get("/areas/places/" + link).content.decode()
    assert len(re.findall(r'href="/areas/places/\d+/"', second)) == 5
    assert f"/areas/places/{shop.pk}/" not in html + second


def test_a_stale_edit_is_refused_and_the_users_input_survives(client, j):
    # given an officer who opened the edit page at version 1
    p = place(j, name="枫桥宾馆")
    officer, chief = j.user("officer"), j.user("chief")
    c = login(client, officer)
    assert 'name="version" value="1"' in c.get(f"/areas/places/{p.pk}/edit/").content.decode()
    # and the chief who saved a change meanwhile
    place_update(actor=chief, place=p, version=1, address="枫桥路99号")
    # when the officer saves on top of version 1
    resp = c.post(f"/areas/places/{p.pk}/edit/", _form(p, name="我的新名字", version=1))
    # then the page says so, keeps their input, shows the latest and moves to version 2
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "已被他人修改" in html
    assert 'value="我的新名字"' in html
    assert "枫桥路99号" in html
    assert 'name="version" value="2"' in html
    p.refresh_from_db()
    assert (p.name, p.address, p.version) == ("枫桥宾馆", "枫桥路99号", 2)
    # and saving again, deliberately, works
    resp = c.post(f"/areas/places/{p.pk}/edit/", _form(p, name="我的新名字", address="枫桥路99号"))
    assert resp.status_code == 302
    p.refresh_from_db()
    assert (p.name, p.version) == ("我的新名字", 3)


def test_a_blank_phone_on_edit_keeps_the_phone_and_clear_removes_it(client, j):
    p = place(j, name="枫桥宾馆", contact_phone="13812345678")
    c = login(client, j.user("officer"))
    edit = c.get(f"/areas/places/{p.pk}/edit/").content.decode()
    assert "13812345678" not in edit and "138****5678" in edit
    c.post(f"/areas/places/{p.pk}/edit/", _form(p, notes="备注"))
    p.refresh_from_db()
    assert p.contact_phone == "13812345678" and p.notes == "备注"
    c.post(f"/areas/places/{p.pk}/edit/", _form(p, clear_phone="on"))
    p.refresh_from_db()
    assert p.contact_phone == ""


def test_service_errors_show_on_the_form(client, j, other):
    c = login(client, j.user("officer"))
    data = {
        "station": j.station.pk,
        "kind": "hotel",
        "name": "枫桥宾馆",
        "address": "枫桥路1号",
        "lat": "28.205",
        "lng": "112.955",  # in the other station
        "contact_phone": "12345",
    }
    html = c.post("/areas/places/new/", data).content.decode()
    assert "位置不在本所辖区内" in html and "电话号码格式不正确" in html
    assert not Place.objects.exists()


def test_the_reveal_of_the_phone_is_audited(client, j):
    p = place(j, name="枫桥宾馆", contact_phone="13812345678")
    c = login(client, j.user("officer"))
    resp = c.post(f"/pii/areas.place/{p.pk}/contact_phone/reveal")
    assert "13812345678" in resp.content.decode()
    assert AuditEntry.objects.filter(action="areas.place.pii_revealed").count() == 1
    timeline = c.get(f"/areas/places/{p.pk}/").content.decode()
    assert "查看了完整联系电话" in timeline


def test_detail_query_count_does_not_grow_with_the_timeline(client, j):
    # given a place with one change, then with ten more
    officer = j.user("officer")
    p = place(j, name="枫桥宾馆", contact_phone="13812345678")
    p = place_update(
        actor=officer, place=p, version=1, notes="改0", lat=28.215, kind_code="small_hotel"
    )
    c = login(client, officer)
    with CaptureQueriesContext(connection) as short:
        assert c.get(f"/areas/places/{p.pk}/").status_code == 200
    for i in range(1, 11):
        lat, kind = (28.205, "hotel") if i % 2 else (28.215, "small_hotel")
        p = place_update(
            actor=officer, place=p, version=p.version, notes=f"改{i}", lat=lat, kind_code=kind
        )
    # then the page with eleven entries costs no more queries than the one with one
    with CaptureQueriesContext(connection) as long:
        body = c.get(f"/areas/places/{p.pk}/").content.decode()
    assert body.count("修改信息") == 11 and "小旅馆" in body and "S1社区0网格1" in body
    assert len(long) == len(short)
