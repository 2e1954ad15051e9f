"""The disputes API: routing (being built; see issue 3)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["disputes"])
