"""Roles and what each may do; a role held on an area reaches everything beneath it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CHIEF = "chief", _("所长/指挥室")
    OFFICER = "officer", _("民警")
    AUXILIARY = "auxiliary", _("辅警")
    MEDIATOR = "mediator", _("调解员")
    VOLUNTEER = "volunteer", _("志愿者")
    ASSISTANT = "assistant", _("警务助理")
    ANALYST = "analyst", _("分局分析员")
    ADMIN = "admin", _("系统管理员")


# Each permission names the roles that hold it. Admin holds all of them.
PERMISSIONS: dict[str, frozenset[str]] = {
    "place.view": frozenset(
        {"chief", "officer", "auxiliary", "mediator", "assistant", "analyst", "volunteer"}
    ),
    "place.edit": frozenset({"chief", "officer", "auxiliary"}),
    "place.import": frozenset({"chief", "officer"}),
    "area.view": frozenset(
        {"chief", "officer", "auxiliary", "mediator", "assistant", "analyst", "volunteer"}
    ),
    "area.import": frozenset({"chief"}),
    "pii.reveal": frozenset({"chief", "officer"}),
    "account.manage": frozenset({"chief"}),
    "audit.view": frozenset({"chief"}),
    "dispute.view": frozenset({"chief", "officer", "auxiliary", "mediator", "analyst"}),
    "dispute.intake": frozenset({"chief", "officer", "auxiliary"}),
    "dispute.handle": frozenset({"chief", "officer", "auxiliary", "mediator"}),
    "dispute.override": frozenset({"chief"}),
    # The monthly report: a chief for the station, a district analyst for the district.
    "dispute.report": frozenset({"chief", "analyst"}),
    # Routing (issue 3): assign a case to a pool member; reassign, edit the routing list and
    # decide extensions (chief); keep the mediator registry and the lawyers' duty rota.
    "dispute.assign": frozenset({"chief", "officer"}),
    "dispute.route": frozenset({"chief"}),
    "mediator.manage": frozenset({"chief"}),
    # Incidents (issue 4): the log, dispatch and closing, history imports, the station's
    # incident settings (repeat thresholds, the briefing's hour, hotspot resolution).
    "incident.view": frozenset({"chief", "officer", "auxiliary", "analyst"}),
    "incident.intake": frozenset({"chief", "officer", "auxiliary"}),
    "incident.handle": frozenset({"chief", "officer", "auxiliary"}),
    "incident.import": frozenset({"chief", "officer"}),
    "incident.configure": frozenset({"chief"}),
    # The command room: the morning briefing (read by officers, made on demand by the chief),
    # orders issued from it (chief) and acknowledged and done by those they go to.
    "briefing.view": frozenset({"chief", "officer", "auxiliary", "analyst"}),
    "briefing.generate": frozenset({"chief"}),
    "order.issue": frozenset({"chief"}),
    "order.handle": frozenset({"chief", "officer", "auxiliary"}),
    # Dashboards and hotspots: the station's chief and officers, the district's analyst.
    "dashboard.view": frozenset({"chief", "officer", "analyst"}),
    "hotspot.view": frozenset({"chief", "officer", "auxiliary", "analyst"}),
}


def role_can(role: str, perm: str) -> bool:
    """Return whether a role holds a permission."""
    return role == Role.ADMIN or role in PERMISSIONS.get(perm, frozenset())
