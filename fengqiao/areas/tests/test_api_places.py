"""The places API: list, detail, create, update, reveal; each with its permission matrix."""

from __future__ import annotations

import pytest

from fengqiao.areas.models import Place
from fengqiao.core.models import AuditEntry
from fengqiao.factories import api_client, assert_api_error, place

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "volunteer", "other_officer", "officer", "chief")
PHONE = "13812345678"
MASKED = "138****5678"


@pytest.fixture
def hotel(j):
    return place(j, name="枫桥旅馆", kind="hotel", grid=1, contact_phone=PHONE)


def state() -> tuple[list[dict], int]:
    """Return every place row and the audit length: a denial must leave both untouched."""
    return list(Place.objects.order_by("pk").values()), AuditEntry.objects.count()


def new_place(j, **extra) -> dict:
    body = {
        "station_id": j.station.pk,
        "kind": "small_shop",
        "name": "新开小超市",
        "address": "枫桥路8号",
        "lat": 28.215,
        "lng": 112.915,
        "contact_name": "王老板",
        "contact_phone": "13900001111",
    }
    body.update(extra)
    return body


# --- list ---


@pytest.mark.parametrize("role", ROLES)
def test_place_list_matrix(j, as_role, hotel, role):
    resp = as_role(role).get("/api/v1/places")
    if role == "anonymous":
        assert_api_error(resp, 401, "unauthorized")
        return
    assert resp.status_code == 200
    body = resp.json()
    ids = [p["id"] for p in body["items"]]
    assert ids == ([] if role == "other_officer" else [hotel.pk])
    assert body["next_cursor"] is None


def test_place_list_never_shows_a_plain_phone(j, hotel):
    resp = api_client(j.user("chief")).get("/api/v1/places")
    assert PHONE not in resp.content.decode()
    assert resp.json()["items"][0]["contact_phone"] == MASKED


def test_place_list_filters_like_the_page(j):
    shop = place(j, name="便民小卖部", kind="small_shop", grid=0, address="东街1号")
    cafe = place(j, name="星空网吧", kind="internet_cafe", grid=3, address="西街2号")
    hotel = place(j, name="枫桥旅馆", kind="hotel", grid=2, address="東街3號")
    client = api_client(j.user("officer"))

    def ids(**params) -> list[int]:
        resp = client.get("/api/v1/places", params)
        assert resp.status_code == 200, resp.content
        return [p["id"] for p in resp.json()["items"]]

    assert ids() == [hotel.pk, cafe.pk, shop.pk]
    assert ids(kind="internet_cafe") == [cafe.pk]
    assert ids(community=j.communities[1].pk) == [hotel.pk, cafe.pk]
    assert ids(grid=j.grids[0].pk) == [shop.pk]
    # Traditional characters find simplified ones, as on the page.
    assert ids(q="東街") == [hotel.pk, shop.pk]
    assert ids(q="网吧", community=j.communities[1].pk) == [cafe.pk]
    # a kind that does not exist is an error, not an empty list (see test_api_refusals)
    assert client.get("/api/v1/places", {"kind": "no_such_kind"}).status_code == 422


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"community": "x"}, "community"),
        ({"grid": -1}, "grid"),
        ({"cursor": "!!!"}, "cursor"),
        ({"cursor": "WyJhIl0"}, "cursor"),  # ["a"]: not an id
        ({"cursor": "eyJhIjoxfQ"}, "cursor"),  # {"a":1}: not a list
        ({"q": "x" * 101}, "q"),
        ({"q": "a\x00b"}, "q"),
    ],
)
def test_place_list_refuses_bad_parameters(j, params, field):
    resp = api_client(j.user("officer")).get("/api/v1/places", params)
    body = assert_api_error(resp, 422, "validation_error")
    assert field in body["fields"], body


# --- detail ---


@pytest.mark.parametrize("role", ROLES)
def test_place_detail_matrix(j, as_role, hotel, role):
    resp = as_role(role).get(f"/api/v1/places/{hotel.pk}")
    if role == "anonymous":
        assert_api_error(resp, 401, "unauthorized")
    elif role == "other_officer":
        assert_api_error(resp, 404, "not_found")
    else:
        assert resp.status_code == 200
        body = resp.json()
        assert body["name"] == "枫桥旅馆"
        assert body["kind"] == "hotel"
        assert body["grid_id"] == j.grids[1].pk
        assert body["community_id"] == j.communities[0].pk
        assert body["contact_phone"] == MASKED
        assert PHONE not in resp.content.decode()


def test_a_missing_place_is_404(j):
    assert_api_error(api_client(j.user("chief")).get("/api/v1/places/99999999"), 404, "not_found")


# --- create ---


@pytest.mark.parametrize("role", ROLES)
def test_place_create_matrix(j, as_role, hotel, role):
    before = state()
    client = as_role(role)
    resp = client.post("/api/v1/places", new_place(j), content_type="application/json")
    if role in ("anonymous", "volunteer", "other_officer"):
        expected = {"anonymous": (401, "unauthorized"), "volunteer": (403, "forbidden")}
        assert_api_error(resp, *expected.get(role, (404, "not_found")))
        assert state() == before
        return
    assert resp.status_code == 201, resp.content
    body = resp.json()
    created = Place.objects.get(pk=body["id"])
    assert created.area == j.grids[3]  # located from lat/lng
    assert created.community == j.communities[1]
    assert created.contact_phone == "13900001111"
    assert body["contact_phone"] == "139****1111"
    assert body["version"] == 1
    assert AuditEntry.objects.filter(
        action="areas.place.created", object_id=str(created.pk)
    ).exists()


def test_place_create_outside_the_station_is_422(j, other):
    client = api_client(j.user("officer"))
    before = state()
    resp = client.post("/api/v1/places", new_place(j, lng=112.955), content_type="application/json")
    body = assert_api_error(resp, 422, "validation_error")
    assert "location" in body["fields"]
    assert state() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "spaceport"}, "kind"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"lat": 95}, "lat"),
        ({"lat": None}, "lat"),
        ({"notes": "a\x00b"}, "notes"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_place_create_validates(j, change, field):
    client = api_client(j.user("officer"))
    before = state()
    resp = client.post("/api/v1/places", new_place(j, **change), content_type="application/json")
    body = assert_api_error(resp, 422, "validation_error")
    assert field in body["fields"], body
    assert state() == before


def test_place_create_in_a_station_one_cannot_see_is_404(j, other):
    client = api_client(j.user("officer"))
    before = state()
    body = new_place(j, station_id=other.station.pk, lng=112.955)
    resp = client.post("/api/v1/places", body, content_type="application/json")
    assert_api_error(resp, 404, "not_found")
    assert state() == before


# --- update ---


@pytest.mark.parametrize("role", ROLES)
def test_place_update_matrix(j, as_role, hotel, role):
    before = state()
    resp = as_role(role).patch(
        f"/api/v1/places/{hotel.pk}",
        {"version": hotel.version, "name": "枫桥宾馆"},
        content_type="application/json",
    )
    if role in ("anonymous", "volunteer", "other_officer"):
        expected = {"anonymous": (401, "unauthorized"), "volunteer": (403, "forbidden")}
        assert_api_error(resp, *expected.get(role, (404, "not_found")))
        assert state() == before
        return
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["name"] == "枫桥宾馆"
    assert body["version"] == hotel.version + 1
    assert body["contact_phone"] == MASKED
    hotel.refresh_from_db()
    assert hotel.name == "枫桥宾馆"
    assert AuditEntry.objects.filter(action="areas.place.updated", object_id=str(hotel.pk)).exists()


def test_place_update_with_a_stale_version_is_409_and_changes_nothing(j, hotel):
    client = api_client(j.user("officer"))
    url = f"/api/v1/places/{hotel.pk}"
    first = client.patch(url, {"version": 1, "name": "甲"}, content_type="application/json")
    assert first.json()["version"] == 2
    before = state()
    resp = client.patch(url, {"version": 1, "name": "乙"}, content_type="application/json")
    body = assert_api_error(resp, 409, "conflict")
    assert "已被他人修改" in body["message"]
    assert state() == before


def test_place_update_requires_a_version(j, hotel):
    resp = api_client(j.user("officer")).patch(
        f"/api/v1/places/{hotel.pk}", {"name": "甲"}, content_type="application/json"
    )
    body = assert_api_error(resp, 422, "validation_error")
    assert body["fields"] == {"version": ["必填"]}


def test_place_update_moves_the_place_with_its_location(j, hotel):
    resp = api_client(j.user("officer")).patch(
        f"/api/v1/places/{hotel.pk}",
        {"version": 1, "lat": 28.215, "lng": 112.915, "kind": "ktv", "contact_phone": ""},
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert (body["grid_id"], body["community_id"]) == (j.grids[3].pk, j.communities[1].pk)
    assert body["kind"] == "ktv"
    assert body["contact_phone"] == ""


@pytest.mark.parametrize("change", [{"name": None}, {"kind": None}, {"officer_id": "x"}])
def test_place_update_refuses_nulls_and_bad_types(j, hotel, change):
    before = state()
    resp = api_client(j.user("officer")).patch(
        f"/api/v1/places/{hotel.pk}", {"version": 1, **change}, content_type="application/json"
    )
    body = assert_api_error(resp, 422, "validation_error")
    assert set(change) <= set(body["fields"])
    assert state() == before


def test_place_update_can_clear_the_officer(j, hotel):
    officer = j.user("officer")
    hotel.officer = officer
    hotel.save()
    resp = api_client(officer).patch(
        f"/api/v1/places/{hotel.pk}",
        {"version": hotel.version, "officer_id": None},
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["officer_id"] is None


# --- reveal ---


@pytest.mark.parametrize("role", (*ROLES, "auxiliary"))
def test_place_reveal_matrix(j, as_role, hotel, role):
    before = state()
    resp = as_role(role).post(f"/api/v1/places/{hotel.pk}/reveal?field=contact_phone")
    if role in ("anonymous", "volunteer", "auxiliary", "other_officer"):
        expected = {"anonymous": (401, "unauthorized"), "other_officer": (404, "not_found")}
        assert_api_error(resp, *expected.get(role, (403, "forbidden")))
        assert state() == before
        return
    assert resp.status_code == 200
    assert resp.json() == {"field": "contact_phone", "value": PHONE}
    entry = AuditEntry.objects.get(action="areas.place.pii_revealed")
    assert entry.object_id == str(hotel.pk)
    assert entry.changes == {"field": "contact_phone"}


@pytest.mark.parametrize("query", ["", "?field=name", "?field=contact_name"])
def test_place_reveal_only_personal_data_fields(j, hotel, query):
    before = state()
    resp = api_client(j.user("chief")).post(f"/api/v1/places/{hotel.pk}/reveal{query}")
    body = assert_api_error(resp, 422, "validation_error")
    assert "field" in body["fields"]
    assert state() == before


def test_place_reveal_is_post_only(j, hotel):
    resp = api_client(j.user("chief")).get(f"/api/v1/places/{hotel.pk}/reveal?field=contact_phone")
    assert_api_error(resp, 405, "method_not_allowed")
