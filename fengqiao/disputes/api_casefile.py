"""The disputes API: casefile (being built; see issue 3)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["disputes"])
