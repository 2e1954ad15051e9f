"""Querysets that start every dispute list from what the user may see.

Scopes come from memberships (`accounts.access.scope_for`): a role held on the station sees the
station's disputes, a role held on a community or grid sees the disputes located beneath it.
A mediator's role reaches their whole station (accounts.access.STATION_WIDE_ROLES); through it
they see the cases assigned to their registry row and the unassigned open cases routed to a pool
they are in (or to a rota line, on a day they are on duty). Any other role the user also holds
keeps its own scope, no wider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from fengqiao.disputes.models import Dispute, Party  # noqa: F401


class DisputeQuerySet(models.QuerySet["Dispute"]):
    def visible_to(self, user: Any, perm: str = "dispute.view") -> DisputeQuerySet:
        """Return the disputes in the stations and areas where the user holds `perm`."""
        from fengqiao.accounts.access import scope_for

        scope = scope_for(user, perm)
        qs = self.filter(scope.q())
        if scope.everything or scope.empty or not _holds_mediator(user, perm):
            return qs
        # The mediator's role reaches the station; what it shows is their cases and queue. Any
        # other role the user holds keeps its own scope, no wider.
        from fengqiao.accounts.access import STATION_WIDE_ROLES

        others = scope_for(user, perm, without=STATION_WIDE_ROLES)
        cond = _mediator_cases(user)
        if not others.empty:
            cond |= others.q()
        return qs.filter(cond)

    def open(self) -> DisputeQuerySet:
        """Return the disputes not yet finished (closed, referred, withdrawn or terminated)."""
        from fengqiao.disputes.models import FINISHED

        return self.exclude(status__in=sorted(FINISHED))


def _holds_mediator(user: Any, perm: str) -> bool:
    """Return whether the user holds `perm` through a mediator's membership."""
    from fengqiao.accounts.roles import Role, role_can

    cache: dict[str, bool] = user.__dict__.setdefault("_fq_holds_mediator", {})
    if perm not in cache:
        roles = {m.role for m in user.memberships.all() if role_can(m.role, perm)}
        cache[perm] = Role.MEDIATOR in roles
    return cache[perm]


def _mediator_cases(user: Any) -> models.Q:
    """Return the filter of a mediator's cases: their own, and their pools' open queue."""
    from django.utils import timezone

    from fengqiao.disputes.models import FINISHED, LawyerDuty, Mediator, RoutingRule

    own = Mediator.objects.filter(user=user).values("pk")
    pools = RoutingRule.pool.through.objects.filter(
        mediator__user=user, mediator__active=True
    ).values("routingrule_id")
    duty_stations = LawyerDuty.objects.filter(
        mediator__user=user, mediator__active=True, day=timezone.localdate()
    ).values("station_id")
    queue = models.Q(routing_rule_id__in=pools) | models.Q(
        routing_rule__use_duty_rota=True, station_id__in=duty_stations
    )
    return models.Q(mediator_id__in=own) | (
        models.Q(mediator__isnull=True) & ~models.Q(status__in=sorted(FINISHED)) & queue
    )


class PartyQuerySet(models.QuerySet["Party"]):
    def visible_to(self, user: Any, perm: str = "dispute.view") -> PartyQuerySet:
        """Return the parties of the disputes the user may see."""
        from fengqiao.accounts.access import scope_for

        scope = scope_for(user, perm)
        qs = self.filter(scope.q())
        if scope.everything or scope.empty or not _holds_mediator(user, perm):
            return qs
        from fengqiao.disputes.models import Dispute

        return qs.filter(dispute_id__in=Dispute.objects.visible_to(user, perm).values("pk"))
