"""Dispute pages: the lists and the case page (being built; see issue 3)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
