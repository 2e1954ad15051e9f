"""Querysets that start every dispute list from what the user may see.

Scopes come from memberships (`accounts.access.scope_for`): a role held on the station sees the
station's disputes, a role held on a community or grid sees the disputes located beneath it.
A mediator holds `dispute.view` like any other station role and so sees the station's disputes
through that scope; narrowing a mediator to the cases assigned to them and to their pool's
queue arrives with the routing list and its pools, which are not modelled yet.
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

        return self.filter(scope_for(user, perm).q())

    def open(self) -> DisputeQuerySet:
        """Return the disputes not yet finished (closed, referred, withdrawn or terminated)."""
        from fengqiao.disputes.models import FINISHED

        return self.exclude(status__in=sorted(FINISHED))


class PartyQuerySet(models.QuerySet["Party"]):
    def visible_to(self, user: Any, perm: str = "dispute.view") -> PartyQuerySet:
        """Return the parties of the disputes the user may see."""
        from fengqiao.accounts.access import scope_for

        return self.filter(scope_for(user, perm).q())
