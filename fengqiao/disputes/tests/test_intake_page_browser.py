"""The intake page in a real browser: map pick, party rows, a double-clicked submit."""

from __future__ import annotations

import re

import pytest

from conftest import browser_login
from fengqiao.disputes.models import Dispute
from fengqiao.disputes.tests.kit import ensure_codes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_intake_with_a_map_click_and_two_parties_submitted_twice_makes_one_case(page, j):
    ensure_codes()
    officer = j.user("officer")
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, officer.username)
    page.wait_for_url("**/")
    page.goto("/disputes/new/")
    page.wait_for_selector("#pick-map[data-loaded='4']")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.fill("#id_narrative", "两家因楼上漏水发生争执")
    page.fill("#id_occurred_at", "2026-01-05T09:30")
    page.select_option("#id_source", "application")
    # the class narrows the subtypes; the subtype shows its statistical type
    page.select_option("#id_type_class", "02")
    page.select_option("#id_type_code", "0201")
    assert page.inner_text("#stat-type") not in ("", "—")
    page.select_option("#id_scale", "individual")

    # a click inside grid 3 sets the point and shows the grid found
    grid = j.grids[3]
    point = page.evaluate(
        "([lat, lng]) => { const m = document.getElementById('pick-map').leafletMap;"
        " const p = m.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }",
        [grid.centroid_lat, grid.centroid_lng],
    )
    page.locator("#pick-map").click(position={"x": point[0], "y": point[1]})
    assert page.input_value("#id_lat") != ""
    assert grid.name in page.inner_text("#found-grid")

    # two parties: the first row, then the second removed and a new one added
    page.fill("[name='parties-0-name']", "王五")
    page.fill("[name='parties-0-phone']", "13812345678")
    page.locator("[data-party-row]").nth(1).locator("[data-party-remove]").click()
    page.click("#party-add")
    page.fill("[name='parties-2-name']", "赵六")
    page.select_option("[name='parties-2-role']", "respondent")

    page.locator("#intake-form button[type=submit]").dblclick()
    page.wait_for_url(re.compile(r"/disputes/\d+/$"))
    assert Dispute.objects.count() == 1
    d = Dispute.objects.get()
    assert d.area == grid
    assert sorted(d.parties.values_list("name", flat=True)) == ["王五", "赵六"]
    assert d.case_number in page.inner_text("main")
