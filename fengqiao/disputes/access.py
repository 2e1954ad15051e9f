"""One access_* per aggregate: the dispute if the user may act on it, else 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from fengqiao.accounts.access import scope_for
from fengqiao.disputes.models import Dispute, Mediator, Party


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


def access_party(user: Any, pk: int, *, action: str = "view") -> Party:
    """Return the party if the user may `action` its dispute; 404 alike for missing, forbidden."""
    party = Party.objects.visible_to(user, f"dispute.{action}").filter(pk=pk).first()
    if party is None:
        raise Http404
    return party


def access_mediator(user: Any, pk: int, *, action: str = "view") -> Mediator:
    """Return the mediator of a station where the user may `action` disputes, else 404."""
    scope = scope_for(user, f"dispute.{action}")
    mediator = Mediator.objects.filter(pk=pk).first()
    if mediator is None or not (scope.everything or scope.allows_station(mediator.station_id)):
        raise Http404
    return mediator
