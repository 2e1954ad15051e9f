"""Names drawn on the map are text: markup in a grid's name never runs."""

from __future__ import annotations

import pytest

from conftest import browser_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PAYLOAD = "<img src=x onerror=\"document.title='XSS'\">网格"


def test_a_grid_name_with_markup_shows_as_text_and_runs_nothing(page, j):
    grid = j.grids[0]
    grid.name = PAYLOAD
    grid.save()
    browser_login(page, j.user("officer").username)
    page.wait_for_url("**/")
    page.goto("/areas/map/")
    page.wait_for_selector("#map[data-loaded]")
    page.evaluate(
        """() => document.getElementById("map").leafletMap.eachLayer(function (layer) {
            if (layer.getTooltip && layer.getTooltip()) { layer.openTooltip(); }
        })"""
    )
    tooltip = page.locator(".leaflet-tooltip", has_text="网格").first
    tooltip.wait_for(state="visible")
    assert PAYLOAD in tooltip.inner_text()
    assert page.locator(".leaflet-tooltip img").count() == 0
    assert page.title() != "XSS"


def test_every_page_forbids_inline_and_foreign_scripts(client, j):
    client.force_login(j.user("officer"))
    csp = client.get("/areas/map/")["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp
