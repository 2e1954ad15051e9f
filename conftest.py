"""Fixtures shared by every app's tests: two stations side by side, users of every role."""

from __future__ import annotations

import os

import pytest

from fengqiao.factories import Jurisdiction, jurisdiction

# Playwright's sync API runs an event loop in the test thread; Django's ORM then refuses to
# run unless told that this is deliberate. It is: the loop only drives the browser.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Tasks run inline in tests unless a test starts the real worker itself.
os.environ.setdefault("FENGQIAO_HUEY_IMMEDIATE", "1")


@pytest.fixture(autouse=True)
def interface_language():
    """Start every test in the default language and leave it so.

    The locale middleware activates a request's language in the thread and leaves it there;
    after a test that browsed in English, a later test's service messages would be English.
    """
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def place_kinds(db: None) -> None:
    """The place-kind code list, reloaded if a transactional test flushed it."""
    from fengqiao.areas.kinds import load_place_kinds
    from fengqiao.areas.models import PlaceKind

    if not PlaceKind.objects.exists():
        load_place_kinds(PlaceKind)


@pytest.fixture
def j(db: None) -> Jurisdiction:
    """The station under test, with the migrations' code lists reloaded if a live-server test
    flushed them."""
    from fengqiao.disputes.codes import load_dispute_types, load_stat_types
    from fengqiao.disputes.models import DisputeType, StatType

    if not DisputeType.objects.exists():
        load_stat_types(StatType)
        load_dispute_types(DisputeType, StatType)
    from fengqiao.incidents.codes import load_categories
    from fengqiao.incidents.models import IncidentCategory

    if not IncidentCategory.objects.exists():
        load_categories(IncidentCategory)
    return jurisdiction("S1", 112.90, 28.20)


@pytest.fixture
def other(j: Jurisdiction) -> Jurisdiction:
    """A second station in the same district: its data must stay out of reach."""
    return jurisdiction("S2", 112.95, 28.20, district=j.district)


@pytest.fixture
def as_role(j: Jurisdiction, other: Jurisdiction):
    """Return a function giving an API client for one row of the permission matrix."""
    from fengqiao.factories import api_client

    def make(role: str):
        if role == "anonymous":
            return api_client(None)
        if role == "other_officer":
            return api_client(other.user("officer"))
        return api_client(j.user(role))

    return make


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; skipped with a reason where it is missing."""
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        if os.environ.get("FENGQIAO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and CI requires the browser tests")
        pytest.skip(
            f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page (phone-sized on request) against the live test server."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    p = context.new_page()
    p.set_default_timeout(15000)
    yield p
    context.close()


def browser_login(page, username: str, password: str = "correct-horse-9") -> None:  # noqa: S107
    """Log in through the real form."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
