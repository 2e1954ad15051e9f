"""The hotspots map in Chromium: cells drawn by class, a popup with counts and z, the legend."""

from __future__ import annotations

import pytest

from conftest import browser_login
from fengqiao.analytics.tests.test_hotspot_pages import cluster
from fengqiao.analytics.tests.test_hotspot_selectors import END

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_hotspot_map_draws_classes_and_opens_a_popup(page, j):
    spot = cluster(j)
    browser_login(page, j.user("officer").username)
    page.wait_for_url("**/")
    page.click("nav >> text=热点")
    page.wait_for_url("**/analytics/hotspots/")
    page.fill("#id_end", END.isoformat())
    page.click("#hotspot-filter button[type=submit]")
    page.wait_for_selector("#map[data-ready]")
    assert page.locator("#map canvas").count() >= 1  # drawn by Leaflet on a canvas
    # the hot cell is on the map with its class colour, and its popup shows counts and z
    info = page.evaluate(
        """(h) => { const el = document.getElementById("map"); let out = null;
        el.hotspotLayer.eachLayer(function (layer) {
          if (layer.feature.id === h) { layer.openPopup(); out = layer.options.fillColor; }
        }); return out; }""",
        spot,
    )
    assert info == "#fb6a4a"  # new
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert spot in popup.inner_text()
    assert "Gi* z 值" in popup.inner_text()
    assert "新增热点" in popup.inner_text()
    assert "新增热点（7）" in page.locator("#map-legend").inner_text()
    assert page.locator(f"#hotspot-table tr[data-h3='{spot}']").count() == 1


def test_hotspot_page_fits_a_phone(page, j):
    cluster(j)
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, j.user("chief").username)
    page.wait_for_url("**/")
    page.goto(f"/analytics/hotspots/?end={END.isoformat()}")
    page.wait_for_selector("#map[data-ready]")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    assert page.locator("#hotspot-table").count() == 1
