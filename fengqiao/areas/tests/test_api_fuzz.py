"""Random bodies and parameters never make a 500, and every error is {code, message, fields}."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fengqiao.factories import api_client

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Strings that have broken APIs before: NUL (PostgreSQL refuses it), lone surrogates,
# astral characters, SQL and path noise, huge and signed numbers as text.
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "𝕏𝕐",
        "' OR 1=1 --",
        "../../etc/passwd",
        "%00",
        "1e309",
        "-0",
        "NaN",
        "99999999999999999999999",
        "枫桥" * 200,
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and ±Infinity too: json.dumps writes them as bare words
    st.text(max_size=50),
    NASTY,
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def bodies(keys: list[str]) -> st.SearchStrategy[Any]:
    """Return JSON values, mostly objects with the endpoint's own keys holding any value."""
    known = st.dictionaries(st.sampled_from(keys), ANY_JSON, max_size=len(keys))
    return st.one_of(known, known, ANY_JSON)


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def raw(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8", "surrogatepass")


def assert_json_error_or_ok(resp) -> None:
    assert resp.status_code != 500, resp.content
    assert resp.status_code < 500
    assert resp["Content-Type"].startswith("application/json"), resp.content
    body = resp.json()
    if resp.status_code >= 400:
        assert set(body) == {"code", "message", "fields"}, body
        assert isinstance(body["code"], str) and body["code"]
        assert isinstance(body["message"], str) and body["message"]
        assert isinstance(body["fields"], dict)


PLACE_KEYS = [
    "station_id",
    "kind",
    "name",
    "address",
    "lat",
    "lng",
    "contact_name",
    "contact_phone",
    "officer_id",
    "notes",
    "version",
]


@pytest.fixture
def officer_client(j, other):
    return api_client(j.user("officer"))


@FUZZ
@given(body=bodies(PLACE_KEYS), extra=st.sampled_from([{}, {"station": True}]))
def test_post_places_never_500s(j, officer_client, body, extra):
    if extra and isinstance(body, dict):
        body = {**body, "station_id": j.station.pk}
    resp = officer_client.post("/api/v1/places", raw(body), content_type="application/json")
    assert_json_error_or_ok(resp)


@FUZZ
@given(body=bodies(["station_id", "lat", "lng"]), near=st.booleans())
def test_post_locate_never_500s(j, officer_client, body, near):
    if near and isinstance(body, dict):
        body = {**body, "station_id": j.station.pk}
    resp = officer_client.post("/api/v1/areas/locate", raw(body), content_type="application/json")
    assert_json_error_or_ok(resp)


@FUZZ
@given(
    data=st.binary(max_size=200),
    content_type=st.sampled_from(["application/json", "text/plain", ""]),
)
def test_raw_bytes_never_500(j, officer_client, data, content_type):
    resp = officer_client.post("/api/v1/areas/locate", data, content_type=content_type)
    assert_json_error_or_ok(resp)


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["cursor", "limit", "kind", "community", "grid", "q", "other"]),
        # A URL cannot carry a lone surrogate: the client would fail before the server.
        st.one_of(st.text(max_size=30), NASTY, st.integers().map(str)).filter(encodable),
        max_size=5,
    )
)
def test_get_places_params_never_500(j, officer_client, params):
    resp = officer_client.get("/api/v1/places", params)
    assert_json_error_or_ok(resp)


@FUZZ
@given(body=bodies(PLACE_KEYS))
def test_patch_places_never_500s(j, officer_client, body):
    from fengqiao.factories import place

    if not hasattr(j, "_fuzz_place"):
        j._fuzz_place = place(j, contact_phone="13812345678")
    url = f"/api/v1/places/{j._fuzz_place.pk}"
    resp = officer_client.patch(url, raw(body), content_type="application/json")
    assert_json_error_or_ok(resp)
