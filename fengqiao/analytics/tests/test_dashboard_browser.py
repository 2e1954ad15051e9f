"""The dashboard in Chromium: the charts drawn, the date filter, a phone's width."""

from __future__ import annotations

import pytest

from conftest import browser_login
from fengqiao.analytics.tests.test_dashboard_pages import seed

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_dashboard_draws_its_charts_and_filters_by_date(page, j):
    seed(j)
    browser_login(page, j.user("chief").username)
    page.wait_for_url("**/")
    page.goto("/analytics/dashboard/?first=2026-01-01&last=2026-06-15")
    for chart in ("classes", "trend", "heatmap", "grids"):
        page.wait_for_selector(f"#chart-{chart}[data-drawn] canvas")
    assert page.locator("[data-figure='count'] .figure-value").inner_text() == "8"
    assert "+25.0%" in page.locator("[data-figure='100101']").inner_text()
    # Narrow the range to March: only the five burglaries are left
    page.fill("#id_first", "2026-03-01")
    page.fill("#id_last", "2026-03-31")
    page.click("#dashboard-filter button[type=submit]")
    page.wait_for_url("**first=2026-03-01**")
    page.wait_for_selector("#chart-trend[data-drawn]")
    assert page.locator("[data-figure='count'] .figure-value").inner_text() == "5"
    assert "2026-03-01 至 2026-03-31" in page.locator("#dashboard-period").inner_text()
    months = page.evaluate(
        "JSON.parse(document.getElementById('dashboard-data').textContent).trend.months"
    )
    assert months == ["2026-03"]
    # A bad date is reported and the default period shown
    page.goto("/analytics/dashboard/?first=2026-02-30")
    assert "开始日期格式不正确" in page.locator("body").inner_text()


def test_dashboard_fits_a_phone(page, j):
    seed(j)
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, j.user("officer").username)
    page.wait_for_url("**/")
    page.goto("/analytics/dashboard/?first=2026-01-01&last=2026-06-15")
    page.wait_for_selector("#chart-heatmap[data-drawn] canvas")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    box = page.locator("#chart-classes").bounding_box()
    assert box is not None and box["width"] <= 360
    assert page.locator("#table-classes tbody tr").count() >= 3
