"""Helpers for the routing tests: a triaged case, registry rows, a routing-list line."""

from __future__ import annotations

from typing import Any

from fengqiao.disputes import services
from fengqiao.disputes.models import Dispute, DisputeType, Mediator, RoutingRule
from fengqiao.disputes.registry import address_key
from fengqiao.disputes.tests.kit import intake
from fengqiao.disputes.validation import name_address_key


def triaged(j: Any, **extra: Any) -> Dispute:
    """Register a case in grid 0 and complete its triage."""
    d = intake(j, j.user("officer"), **extra)
    return services.dispute_transition(actor=None, dispute=d, to="triaged", version=d.version)


def mediator(j: Any, name: str = "王调解", user: Any = None, **extra: Any) -> Mediator:
    """Create an active registry row with its blind indexes, as the registry service would."""
    from fengqiao.core.pii import blind_index

    values: dict[str, Any] = {"station": j.station, "kind": "community", "name": name, **extra}
    m = Mediator(user=user, **values)
    m.phone_bidx = blind_index("party_phone", m.phone) if m.phone else ""
    m.id_number_bidx = blind_index("party_id", m.id_number) if m.id_number else ""
    m.name_address_bidx = name_address_key(m.name, m.address)
    m.address_bidx = address_key(m.address)
    m.save()
    return m


def rule(j: Any, pool: list[Mediator], **extra: Any) -> RoutingRule:
    """Add a line to the routing list; `type_code` names its type."""
    code = extra.pop("type_code", None)
    if code:
        extra["type"] = DisputeType.objects.get(code=code)
    r = RoutingRule.objects.create(
        station=j.station, channel=extra.pop("channel", "community"), **extra
    )
    r.pool.set(pool)
    return r


def fresh(d: Dispute) -> Dispute:
    return Dispute.objects.get(pk=d.pk)
