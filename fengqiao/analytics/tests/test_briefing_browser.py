"""The 07:00 meeting in Chromium: the chief reads the briefing and issues an order; the officer
acknowledges and completes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import browser_login
from fengqiao.analytics.models import Briefing, Order
from fengqiao.analytics.services import briefings_generate_due
from fengqiao.analytics.tests.test_briefing_content import at, incident
from fengqiao.analytics.tests.test_briefing_schedule import local

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_chief_reads_the_briefing_and_the_officer_carries_out_the_order(page, j):
    # Given a night with a burglary and a repeat caller, and the periodic work at 07:00
    today = timezone.localdate()
    incident(j, at(today - timedelta(days=1), 23, 10), code="100101", address="枫桥路8号")
    for k in (0, 2, 4):
        incident(
            j,
            at(today - timedelta(days=k + 1), 20),
            caller_name="张三丰",
            caller_phone="13812345678",
        )
    chief, officer = j.user("chief"), j.user("officer")
    [made] = briefings_generate_due(local(today, 7, 0))
    assert made.kind == "scheduled"

    # When the chief opens today's briefing from the list
    browser_login(page, chief.username)
    page.wait_for_url("**/")
    page.goto("/analytics/briefings/")
    row = page.locator(f"#briefing-table tr[data-briefing='{made.pk}']")
    assert "今天" in row.inner_text() and "系统" in row.inner_text()
    row.locator("a").first.click()
    page.wait_for_url(f"**/analytics/briefings/{made.pk}/")
    # Then the night, the repeat caller (masked) and the map are there
    assert page.locator("#overnight-count").inner_text() == str(made.content["overnight"]["count"])
    assert "枫桥路8号" in page.locator("#section-overnight").inner_text()
    callers = page.locator("#repeat-callers").inner_text()
    assert "张**" in callers and "张三丰" not in callers
    assert "13812345678" not in page.content()
    page.wait_for_selector("#briefing-map[data-drawn]")

    # When the chief issues an order to the officer, due in three hours
    due = (timezone.localtime() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#id_title", "走访重复报警人")
    page.fill("#id_instructions", "今天上午上门了解张某反复报警的原因。")
    page.select_option("#id_assignee", str(officer.pk))
    page.fill("#id_due_at", due)
    page.click("#order-form button[type=submit]")
    page.wait_for_url(f"**/analytics/briefings/{made.pk}/#orders")
    order = Order.objects.get()
    listed = page.locator(f"#briefing-orders tr[data-order='{order.pk}']")
    assert "走访重复报警人" in listed.inner_text() and "已下达" in listed.inner_text()

    # And the officer, logged in on their own phone, acknowledges and completes it
    page.context.clear_cookies()
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, officer.username)
    page.wait_for_url("**/")
    page.goto("/analytics/briefings/orders/")
    page.click(f"#order-table tr[data-order='{order.pk}'] a")
    page.wait_for_url(f"**/analytics/briefings/orders/{order.pk}/")
    page.click("#order-acknowledge")
    page.wait_for_selector("#order-status[data-status='acknowledged']")
    page.fill("#id_result", "已上门，系邻里噪音纠纷，已当场调解。")
    page.click("#order-complete")
    page.wait_for_selector("#order-status[data-status='done']")
    assert "已当场调解" in page.locator("#order-result").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Then the chief sees it done on the briefing
    order.refresh_from_db()
    assert (order.status, order.done_by_id) == ("done", officer.pk)
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 800})
    browser_login(page, chief.username)
    page.wait_for_url("**/")
    page.goto(f"/analytics/briefings/{made.pk}/")
    assert "已完成" in page.locator(f"#briefing-orders tr[data-order='{order.pk}']").inner_text()
    assert Briefing.objects.count() == 1
