"""Locating a point to its grid: inside, on an edge, outside the station."""

from __future__ import annotations

import pytest

from fengqiao.areas.geo import OutsideStation, grid_index, locate_point

pytestmark = pytest.mark.django_db


def test_point_lands_in_its_grid(j):
    grid = locate_point(station_id=j.station.pk, lat=28.205, lng=112.905)
    assert grid == j.grids[0]
    assert grid.parent == j.communities[0]
    assert locate_point(station_id=j.station.pk, lat=28.215, lng=112.915) == j.grids[3]


def test_point_outside_the_station_is_an_error_not_a_null(j, other):
    with pytest.raises(OutsideStation) as exc:
        locate_point(station_id=j.station.pk, lat=28.205, lng=112.955)  # in the other station
    assert "不在本所辖区" in exc.value.message


def test_bad_coordinates_are_refused(j):
    with pytest.raises(Exception, match="经纬度超出范围"):
        locate_point(station_id=j.station.pk, lat=128.0, lng=112.9)


def test_many_points_at_once_match_one_by_one(j):
    index = grid_index(j.station.pk)
    lngs = [112.905, 112.915, 112.905, 112.915, 113.5]
    lats = [28.205, 28.205, 28.215, 28.215, 28.2]
    got = index.locate_many(lngs, lats).tolist()
    expected = [g.pk for g in (j.grids[0], j.grids[2], j.grids[1], j.grids[3])] + [-1]
    assert got == expected


def test_a_point_on_a_shared_edge_gets_exactly_one_grid(j):
    got = grid_index(j.station.pk).locate_many([112.91], [28.205]).tolist()
    assert got[0] in {j.grids[0].pk, j.grids[2].pk}


def test_index_is_rebuilt_when_a_boundary_changes(j):
    before = grid_index(j.station.pk)
    g = j.grids[0]
    g.boundary = {
        "type": "Polygon",
        "coordinates": [[[112.90, 28.20], [112.905, 28.20], [112.905, 28.205], [112.90, 28.20]]],
    }
    g.save()
    after = grid_index(j.station.pk)
    assert after is not before
