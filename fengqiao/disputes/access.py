"""One access_* per aggregate: the dispute if the user may act on it, else 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from fengqiao.disputes.models import Dispute


def access_dispute(user: Any, pk: int, *, action: str = "view") -> Dispute:
    """Return the dispute if the user may `action` it; 404 alike for missing and forbidden."""
    dispute = (
        Dispute.objects.visible_to(user, f"dispute.{action}")
        .select_related("type", "stat_type", "station", "community", "area", "mediator")
        .filter(pk=pk)
        .first()
    )
    if dispute is None:
        raise Http404
    return dispute
