"""Dispute pages: casefile (being built; see issue 3)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern

from fengqiao.disputes.models import Dispute

urlpatterns: list[URLPattern] = []


def detail_section(request: HttpRequest, dispute: Dispute) -> dict[str, Any]:
    """Return the context of this part's section on the case page."""
    return {}
