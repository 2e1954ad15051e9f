"""The map draws grids, police grids and places with no tile server configured."""

from __future__ import annotations

import pytest

from conftest import browser_login
from fengqiao.factories import place

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_map_shows_this_stations_grids_only(page, j, other):
    place(j, name="枫桥宾馆")
    place(other, name="别所旅馆")
    browser_login(page, j.user("officer").username)
    page.wait_for_url("**/")
    page.goto("/areas/map/")
    page.wait_for_selector("#map[data-loaded]")
    assert page.locator("#map").get_attribute("data-loaded") == "4"
    assert page.locator("#map").get_attribute("data-places") == "1"
    assert page.locator("#map").get_attribute("data-police-grids") == "1"
    assert page.locator("#map canvas").count() >= 1  # drawn by Leaflet, not just fetched
    assert page.locator(".leaflet-tile").count() == 0  # no tile server by default
