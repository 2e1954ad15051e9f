"""Every API error is JSON {code, message, fields} with its status, never HTML."""

from __future__ import annotations

import pytest
from django.test import override_settings

from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db

LOCATE = "/api/v1/areas/locate"


def assert_error(resp, status: int, code: str) -> dict:
    body = assert_api_error(resp, status, code)
    # Messages are for people, in Chinese.
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    return body


@pytest.fixture
def client(j):
    return api_client(j.user("officer"))


@pytest.mark.parametrize(
    "raw",
    [b"{", b"{'station_id': 1}", b"not json", b"\xff\xfe\x00", b'{"lat": NaN}', b"[1, 2"],
)
def test_malformed_json_is_400(client, raw):
    resp = client.post(LOCATE, raw, content_type="application/json")
    assert_error(resp, 400, "bad_request")


@pytest.mark.parametrize("body", [b"", b"[]", b"[1, 2]", b"1", b'"text"', b"null", b"true"])
def test_a_body_that_is_not_a_json_object_is_400_with_a_reason(client, body):
    # given a body that is empty or JSON but no object; when it is posted
    resp = client.post(LOCATE, body, content_type="application/json")
    # then it is a bad request that says what a body must be, not a field error on "_"
    err = assert_error(resp, 400, "bad_request")
    assert "JSON 对象" in err["message"]
    assert err["fields"] == {}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_body_that_is_not_json_is_415(client, j, content_type):
    raw = f'{{"station_id": {j.station.pk}, "lat": 28.205, "lng": 112.905}}'
    resp = client.post(LOCATE, raw, content_type=content_type)
    assert_error(resp, 415, "unsupported_media_type")


def test_a_json_body_with_charset_is_accepted(client, j):
    raw = f'{{"station_id": {j.station.pk}, "lat": 28.205, "lng": 112.905}}'
    resp = client.post(LOCATE, raw, content_type="application/json; charset=utf-8")
    assert resp.status_code == 200


def test_an_oversized_body_is_413(client, j):
    raw = '{"station_id": 1, "lat": 1, "lng": 1, "pad": "' + "x" * 5000 + '"}'
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        resp = client.post(LOCATE, raw, content_type="application/json")
    assert_error(resp, 413, "too_large")


def test_an_unknown_api_url_is_a_json_404(client):
    assert_error(client.get("/api/v1/nowhere"), 404, "not_found")
    assert_error(client.get("/api/v1/areas/not-a-number"), 404, "not_found")
    assert_error(client.get("/api/v2/areas"), 404, "not_found")


def test_a_wrong_method_is_a_json_405(client):
    resp = client.delete("/api/v1/areas")
    body = assert_error(resp, 405, "method_not_allowed")
    assert body["fields"] == {}
    assert "GET" in resp["Allow"]


def test_a_crash_is_a_json_500_with_no_details(client, j, monkeypatch):
    from fengqiao.areas import api as areas_api

    def boom(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(areas_api, "locate_point", boom)
    body = {"station_id": j.station.pk, "lat": 28.205, "lng": 112.905}
    resp = client.post(LOCATE, body, content_type="application/json")
    err = assert_error(resp, 500, "server_error")
    assert "secret" not in resp.content.decode()
    assert err["fields"] == {}


def test_validation_messages_are_chinese_per_field(client):
    resp = client.post(LOCATE, {"lat": 100, "lng": "x"}, content_type="application/json")
    body = assert_error(resp, 422, "validation_error")
    assert body["fields"]["station_id"] == ["必填"]
    assert body["fields"]["lat"] == ["不能大于 90"]
    assert body["fields"]["lng"] == ["应为数字"]


def test_pages_outside_the_api_keep_their_html_errors(client):
    resp = client.get("/areas/nowhere/")
    assert resp.status_code == 404
    assert resp["Content-Type"].startswith("text/html")
