"""The OpenAPI spec loads, lists every endpoint, and documents the error body."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    ("get", "/api/v1/me"),
    ("get", "/api/v1/areas"),
    ("get", "/api/v1/areas/{area_id}"),
    ("get", "/api/v1/areas/{area_id}/boundary"),
    ("post", "/api/v1/areas/locate"),
    ("get", "/api/v1/places"),
    ("post", "/api/v1/places"),
    ("get", "/api/v1/places/{place_id}"),
    ("patch", "/api/v1/places/{place_id}"),
    ("post", "/api/v1/places/{place_id}/reveal"),
}


@pytest.fixture
def spec() -> dict:
    resp = Client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/json")
    return resp.json()


def test_the_spec_loads_and_lists_every_endpoint(spec):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Fengqiao API"
    listed = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert listed >= ENDPOINTS, ENDPOINTS - listed


def test_every_endpoint_requires_a_token_or_a_session(spec):
    schemes = spec["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("security"), f"{method} {path} is open"


def test_errors_are_documented_as_the_error_body(spec):
    op = spec["paths"]["/api/v1/places/{place_id}"]["patch"]
    for status in ("401", "403", "404", "409", "422"):
        ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorOut")
    error = spec["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"code", "message", "fields"}


def test_the_list_documents_its_paging_parameters(spec):
    params = {p["name"]: p for p in spec["paths"]["/api/v1/places"]["get"]["parameters"]}
    assert set(params) == {"cursor", "limit", "kind", "community", "grid", "q"}
    assert params["limit"]["schema"] == {
        "default": 50,
        "maximum": 200,
        "minimum": 1,
        "title": "Limit",
        "type": "integer",
    }
    page = spec["components"]["schemas"]["PlacePage"]
    assert set(page["properties"]) == {"items", "next_cursor"}


def test_the_docs_page_is_served():
    resp = Client().get("/api/v1/docs")
    assert resp.status_code == 200
