"""API refusals match the pages: 403 for a role, 404 for what one cannot see, 422 in Chinese."""

from __future__ import annotations

import re

import pytest

from fengqiao.api import _schema_message
from fengqiao.areas.models import Place
from fengqiao.core.models import AuditEntry
from fengqiao.factories import UserFactory, api_client, assert_api_error, place

pytestmark = pytest.mark.django_db


def state() -> tuple[list[dict], int]:
    return list(Place.objects.order_by("pk").values()), AuditEntry.objects.count()


def new_place(j, **extra) -> dict:
    body = {
        "station_id": j.station.pk,
        "kind": "hotel",
        "name": "新开旅馆",
        "address": "枫桥路8号",
        "lat": 28.205,
        "lng": 112.905,
    }
    body.update(extra)
    return body


def post(client, body):
    return client.post("/api/v1/places", body, content_type="application/json")


# --- 2. where a community officer may register places ---


def test_a_community_officer_creates_in_their_community_and_gets_422_elsewhere(j):
    client = api_client(j.user("officer", area=j.communities[0]))
    # in their own community: created (the station itself is not theirs to see)
    resp = post(client, new_place(j))
    assert resp.status_code == 201, resp.content
    # in the other community of the same station: a location error, nothing written
    before = state()
    body = assert_api_error(
        post(client, new_place(j, lat=28.215, lng=112.915)), 422, "validation_error"
    )
    assert body["fields"]["lat"] == ["该位置位于S1社区1，不在您负责的区域内。"]
    assert "lng" in body["fields"]
    assert state() == before


def test_a_community_officer_moving_a_place_out_gets_422(j):
    p = place(j, name="枫桥宾馆", grid=0)
    client = api_client(j.user("officer", area=j.communities[0]))
    before = state()
    resp = client.patch(
        f"/api/v1/places/{p.pk}",
        {"version": 1, "lat": 28.215, "lng": 112.915},
        content_type="application/json",
    )
    body = assert_api_error(resp, 422, "validation_error")
    assert set(body["fields"]) == {"lat", "lng"}
    assert state() == before


def test_a_user_who_edits_places_nowhere_gets_403_on_create_and_update(j, other):
    p = place(j, name="枫桥宾馆")
    nobody = api_client(UserFactory())
    before = state()
    assert_api_error(post(nobody, new_place(j)), 403, "forbidden")
    resp = nobody.patch(
        f"/api/v1/places/{p.pk}", {"version": 1, "name": "甲"}, content_type="application/json"
    )
    assert_api_error(resp, 403, "forbidden")
    # a volunteer likewise, in their own station
    volunteer = api_client(j.user("volunteer"))
    assert_api_error(post(volunteer, new_place(j)), 403, "forbidden")
    assert state() == before


def test_a_station_or_place_one_cannot_see_is_404(j, other):
    p = place(other, name="别所旅馆")
    client = api_client(j.user("officer"))
    before = state()
    assert_api_error(post(client, new_place(j, station_id=other.station.pk)), 404, "not_found")
    assert_api_error(post(client, new_place(j, station_id=987654321)), 404, "not_found")
    resp = client.patch(
        f"/api/v1/places/{p.pk}", {"version": 1, "name": "甲"}, content_type="application/json"
    )
    assert_api_error(resp, 404, "not_found")
    assert state() == before


@pytest.mark.parametrize("area", ["station", "community", "grid"])
def test_a_volunteer_locates_a_point_in_their_own_station(j, area):
    where = {"station": j.station, "community": j.communities[0], "grid": j.grids[0]}[area]
    client = api_client(j.user("volunteer", area=where))
    body = {"station_id": j.station.pk, "lat": 28.215, "lng": 112.915}
    resp = client.post("/api/v1/areas/locate", body, content_type="application/json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["id"] == j.grids[3].pk


def test_locate_in_a_station_one_cannot_see_is_still_404(j, other):
    client = api_client(j.user("volunteer", area=j.communities[0]))
    body = {"station_id": other.station.pk, "lat": 28.215, "lng": 112.965}
    resp = client.post("/api/v1/areas/locate", body, content_type="application/json")
    assert_api_error(resp, 404, "not_found")


# --- 5. list filters that name nothing ---


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "no_such_kind"}, "kind"),
        ({"community": 987654321}, "community"),
        ({"grid": 987654321}, "grid"),
    ],
)
def test_place_list_refuses_filters_that_name_nothing(j, params, field):
    place(j, name="枫桥宾馆")
    resp = api_client(j.user("officer")).get("/api/v1/places", params)
    body = assert_api_error(resp, 422, "validation_error")
    assert list(body["fields"]) == [field]


def test_place_list_refuses_another_stations_community(j, other):
    resp = api_client(j.user("officer")).get(
        "/api/v1/places", {"community": other.communities[0].pk}
    )
    assert "community" in assert_api_error(resp, 422, "validation_error")["fields"]


def test_a_filter_that_matches_nothing_yet_is_no_error(j):
    resp = api_client(j.user("officer")).get(
        "/api/v1/places", {"kind": "ktv", "grid": j.grids[1].pk}
    )
    assert resp.status_code == 200 and resp.json()["items"] == []


# --- 6. schema errors in Chinese ---

ENGLISH_WORD = re.compile(r"[a-z]+")
PYDANTIC_WORDS = {"input", "should", "field", "required", "valid", "value", "items", "characters"}


def test_schema_errors_have_no_english(j):
    client = api_client(j.user("officer"))
    cases = [
        client.get("/api/v1/areas", {"kind": "planet"}),
        client.get("/api/v1/places", {"limit": "many", "grid": "x"}),
        post(client, new_place(j, name="x" * 200, lat="north", contact_phone=7, extra=1)),
        post(client, {"station_id": True, "kind": ["a"], "name": None}),
        client.post("/api/v1/places/1/reveal?field=name"),
    ]
    for resp in cases:
        body = assert_api_error(resp, 422, "validation_error")
        for messages in body["fields"].values():
            for m in messages:
                # choices quote codes (district, contact_phone); pydantic's sentences never
                assert not set(ENGLISH_WORD.findall(m.lower())) & PYDANTIC_WORDS, m
                assert any("\u4e00" <= ch <= "\u9fff" for ch in m), m


def test_a_literal_or_enum_error_lists_the_choices_in_chinese(j):
    resp = api_client(j.user("officer")).get("/api/v1/areas", {"kind": "planet"})
    message = assert_api_error(resp, 422, "validation_error")["fields"]["kind"][0]
    assert message == "取值应为 district、station、community、village、grid 之一"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"type": "missing"}, "必填"),
        ({"type": "string_too_long", "ctx": {"max_length": 120}}, "最多 120 个字符"),
        ({"type": "string_too_short", "ctx": {"min_length": 1}}, "至少 1 个字符"),
        (
            {"type": "too_long", "ctx": {"field_type": "List", "max_length": 120}},
            "最多 120 项",
        ),
        ({"type": "too_short", "ctx": {"field_type": "List", "min_length": 1}}, "至少 1 项"),
        ({"type": "int_parsing"}, "应为整数"),
        ({"type": "float_parsing"}, "应为数字"),
        ({"type": "greater_than_equal", "ctx": {"ge": 1.0}}, "不能小于 1"),
        ({"type": "less_than_equal", "ctx": {"le": 90}}, "不能大于 90"),
        (
            {"type": "literal_error", "ctx": {"expected": "'a', 'b' or 'c'"}},
            "取值应为 a、b、c 之一",
        ),
        ({"type": "enum", "ctx": {"expected": "'x' or 'y'"}}, "取值应为 x、y 之一"),
        ({"type": "bool_parsing"}, "应为 true 或 false"),
        ({"type": "json_invalid", "ctx": {"error": "EOF"}}, "不是有效的 JSON"),
        ({"type": "value_error", "msg": "Value error, 不能为空"}, "不能为空"),
        ({"type": "value_error", "msg": "Value error, must be positive"}, "取值无效"),
        ({"type": "some_future_type", "msg": "Something in English"}, "取值无效"),
    ],
)
def test_every_pydantic_error_type_reads_in_chinese(error, expected):
    assert _schema_message(error) == expected


# --- 8. names with markup ---


def test_a_place_name_with_markup_is_refused(j):
    client = api_client(j.user("officer"))
    before = state()
    body = assert_api_error(post(client, new_place(j, name="<img src=x>")), 422, "validation_error")
    assert body["fields"]["name"] == ["名称不能包含“<”或“>”。"]
    p = place(j, name="枫桥宾馆")
    before = state()
    resp = client.patch(
        f"/api/v1/places/{p.pk}", {"version": 1, "name": "a>b"}, content_type="application/json"
    )
    assert "name" in assert_api_error(resp, 422, "validation_error")["fields"]
    assert state() == before
