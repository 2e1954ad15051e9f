"""Place pages in a real browser at 360 px: no sideways scroll, and the audited reveal."""

from __future__ import annotations

import pytest

from conftest import browser_login
from fengqiao.core.models import AuditEntry
from fengqiao.factories import place

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_place_pages_fit_a_360_pixel_phone(page, j):
    # given an officer on a small phone, and a place with a long address
    p = place(
        j,
        name="枫桥宾馆",
        address="雷锋街道金园社区枫桥路一千二百三十四号院内",
        contact_phone="13812345678",
    )
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, j.user("officer").username)
    page.wait_for_url("**/")
    # when they open the list, the detail, the edit form and the import page
    # then none of them scrolls sideways
    for url in (
        "/areas/places/",
        f"/areas/places/{p.pk}/",
        f"/areas/places/{p.pk}/edit/",
        "/areas/places/new/",
        "/areas/places/import/",
    ):
        page.goto(url)
        page.wait_for_selector("main h1")
        _no_sideways_scroll(page)


def test_the_phone_is_revealed_on_click_and_audited(page, j):
    p = place(j, name="枫桥宾馆", contact_phone="13812345678")
    browser_login(page, j.user("officer").username)
    page.wait_for_url("**/")
    page.goto(f"/areas/places/{p.pk}/")
    assert "138****5678" in page.inner_text("main")
    assert "13812345678" not in page.content()
    page.get_by_role("button", name="查看").click()
    page.wait_for_selector("[data-revealed]")
    assert page.inner_text("[data-revealed]") == "13812345678"
    assert AuditEntry.objects.filter(action="areas.place.pii_revealed").count() == 1


def test_filter_and_search_from_the_list(page, j):
    place(j, name="枫桥宾馆")
    place(j, name="金园小卖部", kind="small_shop")
    browser_login(page, j.user("volunteer").username)
    page.wait_for_url("**/")
    page.goto("/areas/places/")
    page.fill("input[name=q]", "楓橋")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**q=*")
    rows = page.locator("tbody tr").all_inner_texts()
    assert len(rows) == 1 and "枫桥宾馆" in rows[0]
