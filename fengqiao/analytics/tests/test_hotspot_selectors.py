"""station_hotspots: one query for the station's valid incidents, windows, area and classes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import h3
import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fengqiao.analytics.hotspot_selectors import (
    access_hotspot_station,
    hotspot_stations,
    station_hotspots,
    station_points,
    trend_label,
    window_bounds,
)
from fengqiao.core.errors import ValidationFailed
from fengqiao.incidents.models import Incident, IncidentCategory, StationIncidentConfig

END = date(2026, 6, 30)


def make_incidents(j, rows, *, station=None, valid=True, code="200100"):
    """Create incidents directly: rows of (local day, lat, lng)."""
    cat = IncidentCategory.objects.get(code=code)
    grid = j.grids[0]
    station = station or j.station
    start = Incident.objects.count()
    objs = []
    for i, (day, lat, lng) in enumerate(rows):
        t = timezone.make_aware(datetime.combine(day, time(10, 0)))
        objs.append(
            Incident(
                station=station,
                community=grid.parent,
                area=grid,
                case_number=f"H-{start + i:07d}",
                source="phone",
                category=cat,
                class_code=cat.class_code,
                reported_at=t,
                occurred_at=t,
                narrative="测试",
                lat=lat,
                lng=lng,
                valid=valid,
            )
        )
    return Incident.objects.bulk_create(objs)


def test_window_bounds_are_consecutive_and_end_on_end():
    b = window_bounds(END, 28, 3)
    assert b == [
        (END - timedelta(days=83), END - timedelta(days=56)),
        (END - timedelta(days=55), END - timedelta(days=28)),
        (END - timedelta(days=27), END),
    ]


def test_station_points_reads_one_query_with_windows_from_the_database(j, other):
    # Given incidents in each window, an invalid call, one unlocated, one before, one after,
    # and one of the other station
    bounds = window_bounds(END, 7, 2)
    make_incidents(
        j,
        [
            (bounds[0][0], 28.205, 112.905),
            (bounds[0][1], 28.206, 112.906),
            (bounds[1][0], 28.207, 112.907),
            (END, 28.208, 112.908),
            (bounds[0][0] - timedelta(days=1), 28.209, 112.909),
            (END + timedelta(days=1), 28.21, 112.91),
        ],
    )
    make_incidents(j, [(END, 28.211, 112.911)], valid=False)
    make_incidents(j, [(END, None, None)])
    make_incidents(other, [(END, 28.211, 112.951)])
    # When the points are read
    with CaptureQueriesContext(connection) as q:
        lats, lngs, win = station_points(station_id=j.station.pk, windows=bounds)
    # Then one query returns the valid located ones in the windows, with their window
    assert len(q.captured_queries) == 1
    assert sorted(zip(lats.tolist(), win.tolist(), strict=True)) == [
        (28.205, 0),
        (28.206, 0),
        (28.207, 1),
        (28.208, 1),
    ]
    assert lngs.dtype.kind == "f"


def test_station_hotspots_finds_a_cluster_and_reports_the_interface(j):
    # Given a cluster in the last window on one cell and its six neighbours, and scattered
    # incidents elsewhere
    spot = h3.latlng_to_cell(28.2105, 112.9105, 9)
    centres = [h3.cell_to_latlng(c) for c in [spot, *h3.grid_ring(spot, 1)]]
    rows = [(END - timedelta(days=d % 20), *centres[d % 7]) for d in range(42)]
    for k in range(6):
        for i in range(10):
            day = END - timedelta(days=28 * k + i)
            rows.append((day, 28.201 + 0.0018 * i, 112.902 + 0.0017 * ((i * 7 + k) % 10)))
    make_incidents(j, rows)
    # When the station's hotspots are computed at resolution 9 (the default setting)
    report = station_hotspots(station_id=j.station.pk, end=END)
    # Then the report carries the interface the briefing reads
    assert report.resolution == 9
    assert report.windows[-1] == (END - timedelta(days=27), END)
    assert len(report.windows) == 6
    assert report.total == len(rows)
    assert report.last_total == 42 + 10
    assert report.area_cells > len(report.cells) > 0
    cell = next(c for c in report.cells if c.h3 == spot)
    assert cell.count >= 6
    assert cell.hot and cell.z > 3 and cell.q <= 0.05 and 0 <= cell.p <= cell.q
    assert cell.trend == "new"
    assert trend_label(cell.trend) == "新增热点"
    assert len(cell.boundary) == 6 and all(len(pt) == 2 for pt in cell.boundary)
    assert report.hot_cells[0].h3 == cell.h3
    assert sum(c.count for c in report.cells) == report.last_total


def test_station_hotspots_uses_the_configured_resolution_and_the_class_filter(j):
    make_incidents(j, [(END, 28.205, 112.905)] * 3)
    make_incidents(j, [(END, 28.215, 112.915)] * 2, code="100100")
    StationIncidentConfig.objects.create(station=j.station, hotspot_resolution=8)
    report = station_hotspots(station_id=j.station.pk, end=END)
    assert report.resolution == 8
    assert all(h3.get_resolution(c.h3) == 8 for c in report.cells)
    cls = IncidentCategory.objects.get(code="100100").class_code
    only = station_hotspots(station_id=j.station.pk, end=END, resolution=10, class_code=cls)
    assert only.resolution == 10 and only.last_total == 2


def test_station_hotspots_with_no_incidents_lists_nothing_hot(j):
    report = station_hotspots(station_id=j.station.pk, end=END)
    assert report.total == 0
    assert report.cells == []
    assert report.area_cells > 0  # the station's grids filled with cells


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"resolution": 4}, "resolution"),
        ({"resolution": 13}, "resolution"),
        ({"window_days": 0}, "window_days"),
        ({"windows": 25}, "windows"),
        ({"alpha": 1.0}, "alpha"),
        ({"end": date(1, 1, 1)}, "end"),
        ({"end": date(9999, 12, 31)}, "end"),
    ],
)
def test_station_hotspots_rejects_bad_parameters(j, kwargs, field):
    with pytest.raises(ValidationFailed) as e:
        station_hotspots(station_id=j.station.pk, **{"end": END, **kwargs})
    assert field in e.value.fields


def test_access_hotspot_station_404s_alike_for_missing_and_forbidden(j, other):
    officer = j.user("officer")
    assert access_hotspot_station(officer, None) == j.station
    assert access_hotspot_station(officer, j.station.pk) == j.station
    with pytest.raises(Http404):
        access_hotspot_station(officer, other.station.pk)
    with pytest.raises(Http404):
        access_hotspot_station(officer, 999999)
    with pytest.raises(Http404):
        access_hotspot_station(j.user("volunteer"), None)
    # an officer held on a grid sees the station's hotspots (aggregates of places)
    assert hotspot_stations(j.user("officer", j.grids[0])) == [j.station]
    analyst = j.user("analyst", j.district)
    assert {s.pk for s in hotspot_stations(analyst)} == {j.station.pk, other.station.pk}
