"""Dispute pages: the screening visit log (矛盾纠纷排查) and recording a visit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from fengqiao.accounts.access import user_can
from fengqiao.areas.models import Area
from fengqiao.core.errors import DomainError
from fengqiao.core.pagination import Page
from fengqiao.disputes.choices import VisitResult
from fengqiao.disputes.intake_forms import VisitFilterForm, VisitForm, show_errors
from fengqiao.disputes.models import Dispute
from fengqiao.disputes.screening import screening_visit_create, visit_page
from fengqiao.disputes.views_intake import intake_grids, intake_stations


def _filter_form(request: HttpRequest) -> VisitFilterForm:
    seen = Area.objects.visible_to(request.user, "dispute.view").order_by("path")
    form = VisitFilterForm(
        request.GET or None,
        communities=seen.communities().only("id", "name"),
        grids=seen.grids().select_related("parent").only("id", "name", "parent__name"),
    )
    form.is_valid()
    return form


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    if not user_can(request.user, "dispute.view"):
        raise PermissionDenied
    form = _filter_form(request)
    if form.is_bound and form.errors:
        page: Any = Page(items=[], next_cursor=None, has_next=False)
    else:
        page = visit_page(user=request.user, cursor=request.GET.get("cursor"), **form.filters())
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "page": page,
        "form": form,
        "query": query.urlencode(),
        "can_create": user_can(request.user, "dispute.intake"),
        "dispute_found": VisitResult.DISPUTE,
    }
    return render(request, "disputes/screening_list.html", context)


@login_required
def visit_create(request: HttpRequest) -> HttpResponse:
    stations = intake_stations(request.user)
    if not stations:
        raise PermissionDenied
    grids = intake_grids(request.user, [s.pk for s in stations])
    form = VisitForm(request.POST or None, stations=stations, grids=grids)
    if request.method == "POST" and form.is_valid():
        try:
            visit = screening_visit_create(actor=request.user, **form.values())
        except DomainError as exc:
            show_errors(form, None, [], exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("您无权在该网格登记排查走访。"))
        else:
            messages.success(request, _("走访记录已保存。"))
            if visit.result == VisitResult.DISPUTE:
                messages.info(request, _("本次走访发现了矛盾纠纷，请登记纠纷。"))
                return redirect(f"{reverse('disputes:dispute_create')}?visit={visit.pk}")
            return redirect("disputes:visit_list")
    status = 422 if form.errors else 200
    context = {"form": form, "map_url": reverse("areas:map_data")}
    return render(request, "disputes/screening_form.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("screening/", visit_list, name="visit_list"),
    path("screening/new/", visit_create, name="visit_create"),
]


def detail_section(request: HttpRequest, dispute: Dispute) -> dict[str, Any]:
    """Return the context of this part's section on the case page: the visit that opened it."""
    visits = list(
        dispute.screening_visits.select_related("visitor", "area", "community").order_by("id")
    )
    return {"visits": visits, "list_url": reverse("disputes:visit_list")}
