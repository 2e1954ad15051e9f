"""The areas API: list with filters, detail, boundary, locate; each with its permission matrix."""

from __future__ import annotations

import pytest

from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "volunteer", "other_officer", "officer", "chief")


@pytest.mark.parametrize("role", ROLES)
def test_area_list_matrix(j, as_role, role):
    resp = as_role(role).get("/api/v1/areas")
    if role == "anonymous":
        assert_api_error(resp, 401, "unauthorized")
        return
    assert resp.status_code == 200
    ids = {a["id"] for a in resp.json()}
    mine = {j.station.pk, *(c.pk for c in j.communities), *(g.pk for g in j.grids)}
    if role == "other_officer":
        assert not ids & mine
    else:
        assert ids == mine


def test_area_list_filters_by_kind_and_parent(j):
    client = api_client(j.user("officer"))
    grids = client.get("/api/v1/areas", {"kind": "grid"}).json()
    assert [g["id"] for g in grids] == [g.pk for g in j.grids]
    children = client.get("/api/v1/areas", {"parent": j.communities[1].pk}).json()
    assert {a["id"] for a in children} == {j.grids[2].pk, j.grids[3].pk}
    both = client.get("/api/v1/areas", {"kind": "grid", "parent": j.station.pk}).json()
    assert both == []


def test_area_list_refuses_an_unknown_kind(j):
    resp = api_client(j.user("officer")).get("/api/v1/areas", {"kind": "planet"})
    body = assert_api_error(resp, 422, "validation_error")
    assert "kind" in body["fields"]


@pytest.mark.parametrize("role", ROLES)
def test_area_detail_matrix(j, as_role, role):
    resp = as_role(role).get(f"/api/v1/areas/{j.grids[1].pk}")
    if role == "anonymous":
        assert_api_error(resp, 401, "unauthorized")
    elif role == "other_officer":
        assert_api_error(resp, 404, "not_found")
    else:
        assert resp.status_code == 200
        body = resp.json()
        assert body["code"] == j.grids[1].code
        assert body["parent_id"] == j.communities[0].pk
        assert body["station_id"] == j.station.pk


def test_a_missing_area_is_404_like_a_forbidden_one(j):
    resp = api_client(j.user("officer")).get("/api/v1/areas/987654321")
    assert_api_error(resp, 404, "not_found")


@pytest.mark.parametrize("role", ROLES)
def test_area_boundary_matrix(j, as_role, role):
    resp = as_role(role).get(f"/api/v1/areas/{j.grids[0].pk}/boundary")
    if role == "anonymous":
        assert_api_error(resp, 401, "unauthorized")
    elif role == "other_officer":
        assert_api_error(resp, 404, "not_found")
    else:
        assert resp.status_code == 200
        feature = resp.json()
        assert feature["type"] == "Feature"
        assert feature["geometry"] == j.grids[0].boundary
        assert feature["properties"] == {
            "id": j.grids[0].pk,
            "code": j.grids[0].code,
            "name": j.grids[0].name,
            "kind": "grid",
        }


def test_a_boundary_is_parsed_as_geojson(j):
    from shapely.geometry import shape

    feature = api_client(j.user("officer")).get(f"/api/v1/areas/{j.station.pk}/boundary").json()
    polygon = shape(feature["geometry"])
    assert polygon.is_valid
    assert polygon.area == pytest.approx(0.02 * 0.02)


@pytest.mark.parametrize("role", ROLES)
def test_locate_matrix(j, as_role, role):
    body = {"station_id": j.station.pk, "lat": 28.215, "lng": 112.915}
    resp = as_role(role).post("/api/v1/areas/locate", body, content_type="application/json")
    if role == "anonymous":
        assert_api_error(resp, 401, "unauthorized")
    elif role == "other_officer":
        assert_api_error(resp, 404, "not_found")
    else:
        assert resp.status_code == 200
        assert resp.json() == {
            "id": j.grids[3].pk,
            "code": j.grids[3].code,
            "name": j.grids[3].name,
            "community": {
                "id": j.communities[1].pk,
                "code": j.communities[1].code,
                "name": j.communities[1].name,
            },
        }


def test_locate_outside_the_station_is_422_outside_station(j, other):
    client = api_client(j.user("officer"))
    body = {"station_id": j.station.pk, "lat": 28.205, "lng": 112.955}  # in the other station
    resp = client.post("/api/v1/areas/locate", body, content_type="application/json")
    err = assert_api_error(resp, 422, "outside_station")
    assert "不在本所辖区" in err["message"]
    assert "location" in err["fields"]


def test_locate_needs_a_station(j):
    client = api_client(j.user("officer"))
    body = {"station_id": j.communities[0].pk, "lat": 28.205, "lng": 112.905}
    resp = client.post("/api/v1/areas/locate", body, content_type="application/json")
    err = assert_api_error(resp, 422, "validation_error")
    assert "station_id" in err["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"station_id": 1, "lat": 91, "lng": 112.9}, "lat"),
        ({"station_id": 1, "lat": 28.2, "lng": -181}, "lng"),
        ({"station_id": 1, "lat": "north", "lng": 112.9}, "lat"),
        ({"station_id": 0, "lat": 28.2, "lng": 112.9}, "station_id"),
        ({"station_id": 2**64, "lat": 28.2, "lng": 112.9}, "station_id"),
        ({"lat": 28.2, "lng": 112.9}, "station_id"),
        ({"station_id": 1, "lat": 28.2, "lng": 112.9, "extra": 1}, "extra"),
    ],
)
def test_locate_validates_its_body(j, body, field):
    client = api_client(j.user("officer"))
    resp = client.post("/api/v1/areas/locate", body, content_type="application/json")
    err = assert_api_error(resp, 422, "validation_error")
    assert field in err["fields"], err
