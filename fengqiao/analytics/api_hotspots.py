"""API endpoints of this part (filled in by issue 4's work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["incidents"])
