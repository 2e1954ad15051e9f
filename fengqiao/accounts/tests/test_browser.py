"""The pages in a real browser: login, lockout message, language switch, phone width."""

from __future__ import annotations

import pytest

from conftest import browser_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_login_lands_on_the_station_home_in_chinese(page, j):
    chief = j.user("chief")
    browser_login(page, chief.username)
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "S1派出所" in page.locator("h1").inner_text()
    assert page.locator("nav").get_by_text("地图").is_visible()


def test_wrong_password_shows_a_chinese_message(page, j):
    j.user("officer")
    browser_login(page, "nobody", "wrong-password")
    assert "用户名或密码不正确" in page.locator(".alert-danger").inner_text()


def test_english_switch_translates_the_interface(page, j):
    browser_login(page, j.user("chief").username)
    page.wait_for_url("**/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("nav").get_by_text("Map").is_visible()


def test_a_360_pixel_phone_gets_a_collapsed_menu_and_no_sideways_scroll(page, j):
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, j.user("officer").username)
    page.wait_for_url("**/")
    assert page.locator(".navbar-toggler").is_visible()
    page.click(".navbar-toggler")
    page.locator("#nav").get_by_role("link", name="场所").wait_for(state="visible")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
