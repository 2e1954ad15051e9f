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


@pytest.fixture
def j(db: None) -> Jurisdiction:
    """The station under test."""
    return jurisdiction("S1", 112.90, 28.20)


@pytest.fixture
def other(j: Jurisdiction) -> Jurisdiction:
    """A second station in the same district: its data must stay out of reach."""
    return jurisdiction("S2", 112.95, 28.20, district=j.district)
