"""Dispute pages: routing — the case page's routing section and its actions (route, assign,
claim, release, reassign, ask for more days), and the chief's extension queue. The mediator
registry, the duty rota and the routing list are in `views_registry`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fengqiao.accounts.access import user_can
from fengqiao.core.errors import Conflict, DomainError
from fengqiao.core.pagination import keyset_page
from fengqiao.disputes import deadlines, registry, routing
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.choices import Channel, ExtensionState, Status
from fengqiao.disputes.models import Dispute, Extension

# --- the case page's section ---


def _case_url(dispute: Dispute) -> str:
    """Return the case page, or this part's own page until the case page exists."""
    try:
        return reverse("disputes:dispute_detail", args=[dispute.pk])
    except NoReverseMatch:
        return reverse("disputes:routing_case", args=[dispute.pk])


def detail_section(request: HttpRequest, dispute: Dispute) -> dict[str, Any]:
    """Return the context of this part's section on the case page."""
    user = request.user
    where = {"station_id": dispute.station_id, "area_id": dispute.area_id}
    can_assign = user_can(user, "dispute.assign", **where)
    can_route_chief = user_can(user, "dispute.route", **where)
    can_handle = user_can(user, "dispute.handle", **where)
    mine = routing.mediators_of_user(user, dispute.station_id)
    holder = dispute.mediator if dispute.mediator_id else None
    unassigned = dispute.mediator_id is None or dispute.status == Status.REOPENED
    prop = None
    if not dispute.finished and unassigned:
        rule = dispute.routing_rule if dispute.routing_rule_id else None
        prop = routing.proposal(dispute, rule=rule)
    pending = deadlines.pending_extension(dispute)
    today = timezone.localdate()
    days_left = (dispute.deadline - today).days if dispute.deadline else None
    in_pool = bool(prop and mine and mine[0].pk in prop.pool_ids)
    return {
        "channel_label": dict(Channel.choices).get(dispute.channel, ""),
        "mediator": holder,
        "deadline": dispute.deadline,
        "days_left": days_left,
        "overdue": days_left is not None and days_left < 0,
        "days_over": -days_left if days_left is not None and days_left < 0 else 0,
        "supervision": dispute.supervision,
        "supervision_label": dispute.get_supervision_display(),
        "extended_days": dispute.extended_days,
        "proposal": prop,
        "routed": dispute.routing_rule_id is not None,
        "can_route": can_assign
        and unassigned
        and dispute.status in routing.ROUTABLE
        and dispute.routing_rule_id is None,
        "can_assign": can_assign and unassigned and dispute.status in routing.ASSIGNABLE,
        "can_assign_any": can_route_chief,
        "can_claim": in_pool
        and unassigned
        and dispute.routing_rule_id is not None
        and dispute.status in routing.ASSIGNABLE,
        "can_release": dispute.status == Status.ASSIGNED
        and holder is not None
        and (bool(mine and mine[0].pk == holder.pk) or can_route_chief),
        "can_reassign": can_route_chief
        and holder is not None
        and not dispute.finished
        and dispute.status != Status.REOPENED,
        "can_request_extension": can_handle
        and dispute.status in deadlines.RUNNING
        and dispute.deadline is not None
        and pending is None,
        "can_decide": can_route_chief,
        "pending": pending,
        "extensions": list(dispute.extensions.select_related("requested_by", "decided_by")[:10]),
        "mediators": (
            list(registry.mediators_of(station_id=dispute.station_id, active_only=True))
            if can_route_chief
            else []
        ),
        "extension_max": deadlines.EXTENSION_MAX,
    }


def _section_page(
    request: HttpRequest,
    dispute: Dispute,
    *,
    errors: dict[str, list[str]] | None = None,
    message: str = "",
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "dispute": dispute,
        "s": {
            **detail_section(request, dispute),
            "errors": errors or {},
            "error": message,
            "values": values or {},
        },
        "case_url": _case_url(dispute),
    }
    return render(request, "disputes/routing_case.html", context, status=status)


@login_required
def routing_case(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the routing section of one case on its own page."""
    dispute = access_dispute(request.user, pk)
    return _section_page(request, dispute)


def _version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return 0


def _act(request: HttpRequest, pk: int, action: str, done: str, call: Any) -> HttpResponse:
    """Run one case action: redirect to the case page with a message, or re-render with errors."""
    dispute = access_dispute(request.user, pk)
    try:
        call(dispute)
    except PermissionDenied as exc:
        return _section_page(request, dispute, message=str(exc) or _("无权执行此操作"), status=403)
    except DomainError as exc:
        fresh = access_dispute(request.user, pk)
        message = exc.message
        if isinstance(exc, Conflict):
            message += _("（页面已刷新为最新内容，您填写的内容仍在下方。）")
        return _section_page(
            request,
            fresh,
            errors=exc.fields,
            message=message,
            values=request.POST.dict(),
            status=exc.status,
        )
    messages.success(request, done)
    try:
        return redirect(_case_url(access_dispute(request.user, pk)))
    except Http404:
        # Released back to a pool the user no longer sees: their queue is where they go next.
        return redirect("home")


@login_required
@require_POST
def case_route(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "route",
        _("已按分流清单分流，等待调解员认领或指派。"),
        lambda d: routing.dispute_route(actor=request.user, dispute=d, version=_version(request)),
    )


@login_required
@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    raw = (request.POST.get("mediator_id") or "").strip()
    return _act(
        request,
        pk,
        "assign",
        _("已指派调解员。"),
        lambda d: routing.dispute_assign(
            actor=request.user,
            dispute=d,
            version=_version(request),
            mediator_id=int(raw) if raw.isdigit() else None,
        ),
    )


@login_required
@require_POST
def case_claim(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "claim",
        _("您已认领本案。"),
        lambda d: routing.dispute_claim(actor=request.user, dispute=d, version=_version(request)),
    )


@login_required
@require_POST
def case_release(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "release",
        _("已将本案退回调解员库。"),
        lambda d: routing.dispute_release(
            actor=request.user,
            dispute=d,
            version=_version(request),
            reason=request.POST.get("reason", ""),
        ),
    )


@login_required
@require_POST
def case_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "reassign",
        _("已改派调解员。"),
        lambda d: routing.dispute_reassign(
            actor=request.user,
            dispute=d,
            version=_version(request),
            mediator_id=request.POST.get("mediator_id", ""),
            reason=request.POST.get("reason", ""),
        ),
    )


@login_required
@require_POST
def case_extension(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "extension",
        _("延期申请已提交，等待所长审批。"),
        lambda d: deadlines.extension_request(
            actor=request.user,
            dispute=d,
            days=request.POST.get("days", ""),
            reason=request.POST.get("reason", ""),
        ),
    )


def _access_extension(user: Any, pk: int) -> Extension:
    ext = Extension.objects.select_related("dispute").filter(pk=pk).first()
    if ext is None:
        raise Http404
    access_dispute(user, ext.dispute_id)
    return ext


@login_required
@require_POST
def extension_decide(request: HttpRequest, pk: int) -> HttpResponse:
    ext = _access_extension(request.user, pk)
    approve = request.POST.get("decision") == "approve"
    back = request.POST.get("next") == "queue"
    try:
        deadlines.extension_decide(
            actor=request.user, extension=ext, approve=approve, note=request.POST.get("note", "")
        )
    except PermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except DomainError as exc:
        if back:
            messages.error(request, exc.message)
            return redirect("disputes:extension_list")
        return _section_page(
            request,
            access_dispute(request.user, ext.dispute_id),
            errors={f"decision_{k}": v for k, v in exc.fields.items()},
            message=exc.message,
            values=request.POST.dict(),
            status=exc.status,
        )
    messages.success(request, _("已批准延期申请。") if approve else _("已驳回延期申请。"))
    if back:
        return redirect("disputes:extension_list")
    return redirect(_case_url(ext.dispute))


@login_required
def extension_list(request: HttpRequest) -> HttpResponse:
    """The chief's queue of extension requests, pending first."""
    stations = registry.stations_for(request.user, "dispute.route")
    if not stations:
        raise PermissionDenied
    state = request.GET.get("state") or ExtensionState.PENDING
    if state not in ExtensionState.values:
        state = ExtensionState.PENDING
    qs = Extension.objects.filter(
        station_id__in=[s.pk for s in stations], state=state
    ).select_related("dispute", "requested_by", "decided_by")
    page = keyset_page(qs, order=("-id",), cursor=request.GET.get("cursor"), size=50)
    return render(
        request,
        "disputes/extension_list.html",
        {"page": page, "state": state, "states": ExtensionState.choices},
    )


urlpatterns: list[URLPattern] = [
    path("<int:pk>/routing/", routing_case, name="routing_case"),
    path("<int:pk>/routing/route/", case_route, name="case_route"),
    path("<int:pk>/routing/assign/", case_assign, name="case_assign"),
    path("<int:pk>/routing/claim/", case_claim, name="case_claim"),
    path("<int:pk>/routing/release/", case_release, name="case_release"),
    path("<int:pk>/routing/reassign/", case_reassign, name="case_reassign"),
    path("<int:pk>/routing/extension/", case_extension, name="case_extension"),
    path("extensions/", extension_list, name="extension_list"),
    path("extensions/<int:pk>/decide/", extension_decide, name="extension_decide"),
]
