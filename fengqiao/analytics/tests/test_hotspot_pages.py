"""The hotspots page and API: permission matrix, figures, filters, bad input, query counts."""

from __future__ import annotations

from datetime import timedelta

import h3
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fengqiao.analytics.tests.test_hotspot_selectors import END, make_incidents
from fengqiao.core.models import AuditEntry
from fengqiao.factories import api_client, assert_api_error
from fengqiao.incidents.models import Incident

URL = "/analytics/hotspots/"
API = "/api/v1/analytics/hotspots"


def cluster(j, *, lat=28.2105, lng=112.9105, n=42, station=None):
    """A cluster on one cell and its ring in the last window, plus scattered incidents."""
    spot = h3.latlng_to_cell(lat, lng, 9)
    centres = [h3.cell_to_latlng(c) for c in [spot, *h3.grid_ring(spot, 1)]]
    rows = [(END - timedelta(days=d % 20), *centres[d % 7]) for d in range(n)]
    for k in range(6):
        for i in range(10):
            day = END - timedelta(days=28 * k + i)
            rows.append(
                (day, lat - 0.0095 + 0.0018 * i, lng - 0.0085 + 0.0017 * ((i * 7 + k) % 10))
            )
    make_incidents(j, rows, station=station)
    return spot


def page_client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def _state():
    return (Incident.objects.count(), AuditEntry.objects.count())


# --- the page ---


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("volunteer", 404),
        ("mediator", 404),
        ("other_officer", 404),
        ("auxiliary", 200),
        ("officer", 200),
        ("chief", 200),
        ("analyst", 200),
    ],
)
def test_page_permission_matrix(j, other, role, status):
    spot = cluster(j)
    before = _state()
    if role == "anonymous":
        user = None
    elif role == "other_officer":
        user = other.user("officer")
    elif role == "analyst":
        user = j.user("analyst", j.district)
    else:
        user = j.user(role)
    resp = page_client(user).get(URL, {"station": j.station.pk, "end": END.isoformat()})
    assert resp.status_code == status
    if status == 200:
        body = resp.content.decode()
        assert spot in body
        assert "新增热点" in body
    else:
        assert spot.encode() not in resp.content
    assert _state() == before


def test_page_shows_the_hot_cells_table_legend_and_map_data(j):
    spot = cluster(j)
    resp = page_client(j.user("chief")).get(URL, {"end": END.isoformat()})
    assert resp.status_code == 200
    ctx = resp.context
    assert ctx["report"].end == END
    assert ctx["hot_cells"][0].h3 == spot
    data = ctx["map_data"]
    assert data["cells"]["type"] == "FeatureCollection"
    assert any(f["id"] == spot and f["properties"]["hot"] for f in data["cells"]["features"])
    assert len(data["grids"]["features"]) == 4
    body = resp.content.decode()
    assert 'id="hotspot-data"' in body and "<script>" not in body.replace(" src=", "")
    assert 'id="hotspot-table"' in body
    assert 'data-trend="new"' in body


def test_page_reports_bad_filters_and_keeps_the_input(j):
    cluster(j)
    c = page_client(j.user("chief"))
    resp = c.get(URL, {"end": "2026-02-30", "resolution": "42", "class_code": "999999"})
    assert resp.status_code == 200
    msgs = [str(m) for m in resp.context["messages"]]
    assert any("截止日期" in m for m in msgs)
    assert any("分辨率" in m for m in msgs)
    assert any("警情大类" in m for m in msgs)
    body = resp.content.decode()
    assert 'value="2026-02-30"' in body
    assert 'value="42"' in body
    assert resp.context["report"].resolution == 9


def test_page_filters_by_class_and_resolution(j):
    cluster(j)
    resp = page_client(j.user("chief")).get(
        URL, {"end": END.isoformat(), "resolution": "8", "class_code": "100000"}
    )
    report = resp.context["report"]
    assert report.resolution == 8
    assert report.class_code == "100000"
    assert report.total == 0


def test_analyst_picks_a_station_of_the_district(j, other):
    cluster(other, lat=28.2105, lng=112.9605, station=other.station)
    analyst = j.user("analyst", j.district)
    resp = page_client(analyst).get(URL, {"station": other.station.pk, "end": END.isoformat()})
    assert resp.status_code == 200
    assert resp.context["station"] == other.station
    assert resp.context["report"].total > 0
    assert b'name="station"' in resp.content


def test_page_query_count_does_not_grow_with_incidents(j):
    chief = j.user("chief")
    cluster(j, n=14)
    c = page_client(chief)
    c.get(URL)  # warm the session and the grid cache
    with CaptureQueriesContext(connection) as small:
        c.get(URL, {"end": END.isoformat()})
    cluster(j, n=300, lat=28.205, lng=112.905)
    with CaptureQueriesContext(connection) as big:
        resp = c.get(URL, {"end": END.isoformat()})
    assert len(resp.context["report"].cells) > 0
    assert len(big.captured_queries) == len(small.captured_queries)
    assert len(big.captured_queries) <= 14


# --- the API ---


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("volunteer", 404),
        ("other_officer", 404),
        ("auxiliary", 200),
        ("officer", 200),
        ("chief", 200),
    ],
)
def test_api_permission_matrix(j, as_role, role, status):
    spot = cluster(j)
    client = as_role(role)
    before = _state()
    resp = client.get(API, {"station_id": j.station.pk, "end": END.isoformat()})
    assert resp.status_code == status, resp.content
    if status == 200:
        ids = [f["id"] for f in resp.json()["features"]]
        assert spot in ids
    else:
        assert spot.encode() not in resp.content
    assert _state() == before


def test_api_returns_geojson_with_the_figures(j):
    spot = cluster(j)
    resp = api_client(j.user("officer")).get(
        API, {"end": END.isoformat(), "resolution": 9, "windows": 6, "window_days": 28}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["type"] == "FeatureCollection"
    assert body["station_id"] == j.station.pk
    assert body["end"] == END.isoformat()
    assert body["resolution"] == 9
    assert len(body["windows"]) == 6 and body["windows"][-1]["end"] == END.isoformat()
    assert body["total"] == sum(w["total"] for w in body["windows"])
    f = next(f for f in body["features"] if f["id"] == spot)
    assert f["geometry"]["type"] == "Polygon"
    ring = f["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7
    assert 112.9 < ring[0][0] < 112.92 and 28.2 < ring[0][1] < 28.22  # [lng, lat]
    p = f["properties"]
    assert p["hot"] is True and p["trend"] == "new" and p["trend_label"] == "新增热点"
    assert p["z"] > 0 and 0 <= p["p"] <= p["q"] <= 0.05
    assert body["trend_counts"]["new"] >= 1


def test_api_and_page_agree(j):
    cluster(j)
    chief = j.user("chief")
    api = api_client(chief).get(API, {"end": END.isoformat()}).json()
    page = page_client(chief).get(URL, {"end": END.isoformat()}).context["map_data"]["cells"]
    assert api["features"] == page["features"]


@pytest.mark.parametrize(
    "params",
    [
        {"resolution": 4},
        {"resolution": 13},
        {"windows": 0},
        {"window_days": 400},
        {"alpha": 1},
        {"end": "2026-13-01"},
        {"end": "0001-01-01"},
        {"end": "9999-12-31"},
        {"class_code": "abc"},
        {"station_id": 0},
    ],
)
def test_api_rejects_bad_parameters(j, params):
    resp = api_client(j.user("chief")).get(API, params)
    assert_api_error(resp, 422, "validation_error")


def test_api_unknown_class_is_a_clear_422(j):
    resp = api_client(j.user("chief")).get(API, {"class_code": "999999"})
    body = assert_api_error(resp, 422, "validation_error")
    assert "class_code" in body["fields"]


def test_api_404s_alike_for_missing_and_forbidden_station(j, other):
    client = api_client(j.user("chief"))
    a = client.get(API, {"station_id": other.station.pk})
    b = client.get(API, {"station_id": 987654})
    assert_api_error(a, 404, "not_found")
    assert_api_error(b, 404, "not_found")
    assert a.json()["message"] == b.json()["message"]


def test_navigation_shows_hotspots_to_who_may_see_them(j):
    resp = page_client(j.user("officer")).get("/")
    assert "热点" in [label for label, _url, _cur in resp.context["nav_items"]]
    resp = page_client(j.user("volunteer")).get("/")
    assert "热点" not in [label for label, _url, _cur in resp.context["nav_items"]]


def test_page_shows_the_message_for_an_end_out_of_range_and_keeps_it(j):
    resp = page_client(j.user("chief")).get(URL, {"end": "1999-12-31"})
    assert resp.status_code == 200
    assert resp.context["report"] is None
    assert any("截止日期应在" in str(m) for m in resp.context["messages"])
    assert b'value="1999-12-31"' in resp.content
