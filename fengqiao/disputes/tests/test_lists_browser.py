"""The lists and the case page in a real browser: filter, open a case, move it, on a phone."""

from __future__ import annotations

import re

import pytest

from conftest import browser_login
from fengqiao.disputes.models import Dispute
from fengqiao.disputes.tests.kit import intake

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_filter_open_a_case_and_move_it(page, j):
    # given two cases, one about a leak, and an officer on a 360-pixel phone
    officer = j.user("officer")
    leak = intake(j, officer, narrative="楼上卫生间漏水，楼下天花板发霉")
    noise = intake(j, officer, narrative="邻居夜间噪音扰民")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, officer.username)
    page.wait_for_url("**/")
    # when the officer opens the list from the navigation and searches in traditional script
    page.goto("/disputes/")
    page.wait_for_selector("#case-table")
    assert page.locator(f'tr[data-id="{noise.pk}"]').count() == 1
    page.fill("#id_q", "衛生間")
    page.locator("#case-filters button[type=submit]").first.click()
    page.wait_for_url(re.compile(r".*q=.*"))
    # then only the leak is listed, and the page does not scroll sideways
    assert page.locator("tr[data-id]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # when they open the case, it shows its facts and a map
    page.click(f'tr[data-id="{leak.pk}"] a')
    page.wait_for_selector("#case-header")
    assert "楼上卫生间漏水" in page.inner_text("#case-facts")
    page.wait_for_selector("#case-map.leaflet-container")
    # the grid's outline and the point are drawn (two vector shapes), with no script error
    page.wait_for_function("document.querySelectorAll('#case-map path').length === 2")
    assert errors == []
    # and they complete the triage
    page.click('#case-moves button[data-move="triaged"]')
    page.wait_for_selector(".alert-success")
    assert page.inner_text("#case-status") == "已研判"
    assert Dispute.objects.get(pk=leak.pk).status == "triaged"
    # and a move that needs a reason asks for it, then goes through with one
    page.click('summary[data-move-open="withdrawn"]')
    page.fill("#reason-withdrawn", "申请人撤回申请")
    page.click('#case-moves button[data-move="withdrawn"]')
    page.wait_for_selector(".alert-success")
    assert page.inner_text("#case-status") == "当事人撤回"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
