"""Pages of the morning briefing (晨会研判) and the orders (警令) issued from it."""

from __future__ import annotations

import tempfile
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from fengqiao.accounts.access import scope_for, user_can
from fengqiao.analytics.access import (
    ORDER_VIEWS,
    access_briefing,
    access_order,
    briefing_page,
    order_assignees,
    order_page,
    stations_where,
)
from fengqiao.analytics.briefing_xlsx import briefing_filename, write_briefing_xlsx
from fengqiao.analytics.hotspot_selectors import trend_label
from fengqiao.analytics.models import Briefing, Order, OrderStatus
from fengqiao.analytics.orders import order_acknowledge, order_cancel, order_complete, order_issue
from fengqiao.analytics.services import briefing_generate
from fengqiao.core.errors import DomainError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _incident_url(pk: int) -> str | None:
    """Return the incident's page, when the incident log has one."""
    try:
        return reverse("incidents:incident_detail", args=[pk])
    except NoReverseMatch:
        return None


def _dispute_url(pk: int) -> str | None:
    try:
        return reverse("disputes:dispute_detail", args=[pk])
    except NoReverseMatch:
        return None


def _parse_dt(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value)


class OrderForm(forms.Form):
    """An order's input; the service decides whether it may be issued."""

    title = forms.CharField(label=gettext_lazy("标题"), max_length=100)
    instructions = forms.CharField(
        label=gettext_lazy("指令内容"), widget=forms.Textarea(attrs={"rows": 3})
    )
    assignee = forms.TypedChoiceField(
        label=gettext_lazy("承办民警"), required=False, coerce=int, empty_value=None
    )
    team = forms.CharField(
        label=gettext_lazy("或承办队伍"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("民警与队伍二选一"),
    )
    due_at = forms.DateTimeField(
        label=gettext_lazy("完成时限"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: Any, station_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.TypedChoiceField)
        assignee.choices = [("", "—")] + [(u.pk, str(u)) for u in order_assignees(station_id)]
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)


def _apply_errors(form: forms.Form, exc: DomainError) -> None:
    names = {"assignee_id": "assignee"}
    for key, msgs in exc.fields.items():
        name = names.get(key, key)
        for m in msgs:
            form.add_error(name if name in form.fields else None, m)
    if not exc.fields:
        form.add_error(None, exc.message)


# --- the briefing ---


@login_required
@require_GET
def briefing_list(request: HttpRequest) -> HttpResponse:
    if not user_can(request.user, "briefing.view"):
        raise PermissionDenied
    page = briefing_page(request.user, cursor=request.GET.get("cursor"))
    return render(
        request,
        "analytics/briefing_list.html",
        {
            "page": page,
            "stations_generate": stations_where(request.user, "briefing.generate"),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def briefing_generate_now(request: HttpRequest) -> HttpResponse:
    stations = stations_where(request.user, "briefing.generate")
    if not stations:
        raise PermissionDenied
    try:
        station_id = int(request.POST.get("station") or stations[0].pk)
    except ValueError:
        station_id = 0
    if station_id not in {s.pk for s in stations}:
        raise Http404
    try:
        briefing = briefing_generate(actor=request.user, station_id=station_id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("analytics:briefing_list")
    messages.success(request, _("已生成今天的晨会研判。"))
    return redirect("analytics:briefing_detail", pk=briefing.pk)


def _view_content(briefing: Briefing) -> dict[str, Any]:
    """Return the stored content with the links and labels the pages add to it."""
    c = briefing.content
    c["overnight"]["start_dt"] = _parse_dt(c["overnight"]["start"])
    c["overnight"]["end_dt"] = _parse_dt(c["overnight"]["end"])
    for row in c["overnight"]["rows"]:
        row["url"] = _incident_url(row["id"])
        row["reported"] = _parse_dt(row["reported_at"])
    for group in (*c["repeats"]["addresses"], *c["repeats"]["callers"]):
        for item in group["incidents"]:
            item["url"] = _incident_url(item["id"])
        group["last_dt"] = _parse_dt(group["last"])
    for row in c["disputes"]["rows"]:
        row["url"] = _dispute_url(row["id"])
    for cell in c["hotspots"]["cells"]:
        cell["trend_label"] = trend_label(cell["trend"]) or _("本期热点")
    return c


def _detail_context(request: HttpRequest, briefing: Briefing, form: OrderForm | None) -> dict:
    can_issue = user_can(request.user, "order.issue", station_id=briefing.station_id)
    if form is None and can_issue:
        form = OrderForm(station_id=briefing.station_id)
    orders = list(
        Order.objects.visible_to(request.user)
        .filter(briefing_id=briefing.pk)
        .select_related("assignee")
        .order_by("id")
    )
    content = _view_content(briefing)
    return {
        "briefing": briefing,
        "c": content,
        "map_cells": [
            {
                "h3": cell["h3"],
                "boundary": cell["boundary"],
                "count": cell["count"],
                "z": cell["z"],
                "hot": cell["hot"],
                "trend": cell["trend"],
                "label": cell["trend_label"],
            }
            for cell in content["hotspots"]["cells"]
        ],
        "station_boundary": briefing.station.boundary,
        "orders": orders,
        "now": timezone.now(),
        "form": form if can_issue else None,
        "can_generate": user_can(request.user, "briefing.generate", station_id=briefing.station_id),
    }


@login_required
@require_GET
def briefing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    briefing = access_briefing(request.user, pk)
    return render(
        request, "analytics/briefing_detail.html", _detail_context(request, briefing, None)
    )


@login_required
@require_GET
def briefing_print(request: HttpRequest, pk: int) -> HttpResponse:
    briefing = access_briefing(request.user, pk)
    return render(
        request,
        "analytics/briefing_print.html",
        {
            "briefing": briefing,
            "c": _view_content(briefing),
            "orders": list(
                Order.objects.visible_to(request.user)
                .filter(briefing_id=briefing.pk)
                .select_related("assignee")
                .order_by("id")
            ),
        },
    )


@login_required
@require_GET
def briefing_xlsx(request: HttpRequest, pk: int) -> FileResponse:
    briefing = access_briefing(request.user, pk)
    fh = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        write_briefing_xlsx(briefing, fh)
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    return FileResponse(
        fh, as_attachment=True, filename=briefing_filename(briefing), content_type=XLSX
    )


@login_required
@require_POST
def briefing_order_issue(request: HttpRequest, pk: int) -> HttpResponse:
    briefing = access_briefing(request.user, pk)
    if not user_can(request.user, "order.issue", station_id=briefing.station_id):
        raise PermissionDenied
    form = OrderForm(request.POST, station_id=briefing.station_id)
    if form.is_valid():
        d = form.cleaned_data
        try:
            order = order_issue(
                actor=request.user,
                station_id=briefing.station_id,
                briefing_id=briefing.pk,
                title=d["title"],
                instructions=d["instructions"],
                assignee_id=d["assignee"],
                team=d["team"],
                due_at=d["due_at"],
            )
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("警令 %(number)s 已下达。") % {"number": order.number})
            return redirect(f"{reverse('analytics:briefing_detail', args=[pk])}#orders")
    messages.error(request, _("警令未下达，请检查标出的项目。"))
    context = _detail_context(request, briefing, form)
    return render(request, "analytics/briefing_detail.html", context, status=422)


# --- orders ---


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    if scope_for(request.user, "order.handle").empty:
        raise PermissionDenied
    chief = user_can(request.user, "order.issue")
    view = request.GET.get("view") or ("open" if chief else "mine")
    if view not in ORDER_VIEWS:
        view = "mine"
    page = order_page(request.user, view=view, cursor=request.GET.get("cursor"))
    tabs = [
        ("mine", _("我的警令")),
        ("open", _("未完成")),
        ("overdue", _("已超时")),
        ("all", _("全部")),
    ]
    return render(
        request,
        "analytics/order_list.html",
        {"page": page, "view": view, "tabs": tabs, "now": timezone.now(), "chief": chief},
    )


def _order_context(request: HttpRequest, order: Order) -> dict[str, Any]:
    mine = (
        order.assignee_id == request.user.pk
        if order.assignee_id
        else user_can(request.user, "order.handle", station_id=order.station_id)
    )
    return {
        "order": order,
        "now": timezone.now(),
        "can_handle": mine and order.status in (OrderStatus.ISSUED, OrderStatus.ACKNOWLEDGED),
        "can_cancel": order.open
        and user_can(request.user, "order.issue", station_id=order.station_id),
    }


@login_required
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = access_order(request.user, pk)
    return render(request, "analytics/order_detail.html", _order_context(request, order))


def _order_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    order = access_order(request.user, pk)
    try:
        version = int(request.POST["version"]) if request.POST.get("version") else None
    except ValueError:
        version = None
    try:
        if action == "acknowledge":
            order = order_acknowledge(actor=request.user, order=order, version=version)
            messages.success(request, _("已签收。"))
        elif action == "complete":
            order = order_complete(
                actor=request.user,
                order=order,
                result=request.POST.get("result", ""),
                version=version,
            )
            messages.success(request, _("已报告完成。"))
        else:
            order = order_cancel(
                actor=request.user,
                order=order,
                reason=request.POST.get("reason", ""),
                version=version,
            )
            messages.success(request, _("警令已撤销。"))
    except DomainError as exc:
        messages.error(request, exc.message)
        context = _order_context(request, access_order(request.user, pk))
        context["posted"] = request.POST
        return render(request, "analytics/order_detail.html", context, status=exc.status)
    return redirect("analytics:order_detail", pk=order.pk)


@login_required
@require_POST
def order_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _order_action(request, pk, "acknowledge")


@login_required
@require_POST
def order_complete_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _order_action(request, pk, "complete")


@login_required
@require_POST
def order_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _order_action(request, pk, "cancel")
