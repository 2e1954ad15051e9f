"""Routing in a real browser, phone-sized: the chief writes a routing-list line, then assigns."""

from __future__ import annotations

import pytest

from conftest import browser_login
from fengqiao.disputes.models import Dispute, RoutingRule
from fengqiao.disputes.tests.routing_helpers import mediator, triaged

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_chief_writes_a_routing_line_and_assigns_from_the_case_page(page, j):
    chief = j.user("chief")
    lawyer = mediator(j, "周律师", kind="lawyer")
    d = triaged(j)
    browser_login(page, chief.username)
    page.wait_for_url("**/")
    page.set_viewport_size({"width": 360, "height": 800})

    page.goto("/disputes/routing-list/")
    page.click("#rule-new")
    page.select_option("#id_type_code", "02")
    page.select_option("#id_channel", "lawyer")
    page.locator("label", has_text="周律师").click()
    page.locator("button[type=submit]", has_text="保存").click()
    page.wait_for_selector("[data-rule]")
    assert "邻里纠纷" in page.locator("[data-rule]").inner_text()
    assert list(RoutingRule.objects.get().pool.all()) == [lawyer]

    page.goto(f"/disputes/{d.pk}/")
    section = page.locator("#section-routing")
    assert "周律师" in section.locator("#routing-proposal").inner_text()
    section.locator("#assign-auto").click()
    page.wait_for_selector("#routing-mediator:has-text('周律师')")
    assert "律师调解" in page.locator("#routing-channel").inner_text()
    d = Dispute.objects.get(pk=d.pk)
    assert (d.status, d.mediator_id, d.channel) == ("assigned", lawyer.pk, "lawyer")
    # Nothing is wider than the phone's screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
