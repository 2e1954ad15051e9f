"""Template context: the navigation shows only pages that exist and the user may open."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "tile_url": settings.FENGQIAO_TILE_URL}
    from fengqiao.areas.access import user_can

    items = [(_("首页"), reverse("home"))]
    if user_can(user, "area.view"):
        items.append((_("地图"), reverse("areas:map")))
        items.append((_("辖区"), reverse("areas:area_list")))
    if user_can(user, "place.view"):
        items.append((_("场所"), reverse("areas:place_list")))
    if user_can(user, "dispute.view"):
        items.append((_("矛盾纠纷"), reverse("disputes:dispute_list")))
    if user_can(user, "incident.view"):
        items.append((_("警情"), reverse("incidents:incident_list")))
    if user_can(user, "dispute.intake"):
        items.append((_("排查走访"), reverse("disputes:visit_list")))
    if user_can(user, "dispute.handle"):
        items.append((_("回访"), reverse("disputes:followup_list")))
    if user_can(user, "dispute.report"):
        items.append((_("纠纷月报"), reverse("disputes:report")))
    if user_can(user, "mediator.manage"):
        items.append((_("调解员"), reverse("disputes:mediator_list")))
    if user_can(user, "dispute.route"):
        items.append((_("延期审批"), reverse("disputes:extension_list")))
    if user_can(user, "briefing.view"):
        items.append((_("晨会研判"), reverse("analytics:briefing_list")))
    if user_can(user, "order.handle"):
        items.append((_("警令"), reverse("analytics:order_list")))
    if user_can(user, "dashboard.view"):
        items.append((_("数据看板"), reverse("analytics:dashboard")))
    if user_can(user, "hotspot.view"):
        items.append((_("热点"), reverse("analytics:hotspots")))
    if user_can(user, "account.manage"):
        items.append((_("账号"), reverse("accounts:user_list")))
    if user_can(user, "audit.view"):
        items.append((_("审计"), reverse("audit_list")))
    items.append((_("通知"), reverse("accounts:notifications")))
    path = request.path
    # The longest matching prefix is the current section: /areas/places/ is 场所, not 辖区.
    matches = [url for _label, url in items if path == url or (url != "/" and path.startswith(url))]
    current = max(matches, key=len, default=None)
    return {
        "nav_items": [(label, url, url == current) for label, url in items],
        "tile_url": settings.FENGQIAO_TILE_URL,
    }
