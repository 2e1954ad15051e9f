"""Dispute pages: intake (from the office, a resident's request, a screening visit) and edit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from fengqiao.accounts.access import user_can
from fengqiao.areas.models import Area
from fengqiao.core.errors import Conflict, DomainError
from fengqiao.core.pii import mask_id_number, mask_phone
from fengqiao.disputes import services
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.choices import Colour, Grade
from fengqiao.disputes.editing import dispute_update
from fengqiao.disputes.intake_forms import (
    EditForm,
    IntakeForm,
    local_input,
    parties_input,
    party_formset,
    show_errors,
)
from fengqiao.disputes.models import Dispute
from fengqiao.disputes.screening import (
    VISIT_LABEL,
    access_visit,
    screening_visit_open_dispute,
    visit_intake_initial,
)


def intake_stations(user: Any) -> list[Area]:
    """Return the stations where the user may register disputes (at least in one grid)."""
    # A grid-level role sees its grids, not the station itself: go through the areas seen.
    seen = Area.objects.visible_to(user).values("station_id")
    stations = Area.objects.filter(kind="station", pk__in=seen).only("id", "name", "station_id")
    reach = services._reaches_station
    return [s for s in stations.order_by("path") if reach(user, "dispute.intake", s)]


def intake_grids(user: Any, station_ids: list[int]) -> list[Area]:
    """Return the grids of those stations where the user may register, with their community."""
    return list(
        Area.objects.visible_to(user, "dispute.intake")
        .grids()
        .filter(station_id__in=station_ids)
        .select_related("parent")
        .only("id", "name", "parent__name", "path")
        .order_by("path")
    )


def _coordinate(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def _done_message(d: Dispute) -> str:
    grades, colours = dict(Grade.choices), dict(Colour.choices)
    return _(
        "已登记，案件编号 %(number)s；分级：%(grade)s；预警颜色：%(colour)s。理由：%(reasons)s"
    ) % {
        "number": d.case_number,
        "grade": grades.get(d.grade, d.grade),
        "colour": colours.get(d.colour, d.colour),
        "reasons": "；".join(d.reason_texts()) or "—",
    }


def _visit_initial(request: HttpRequest, visit_id: Any) -> tuple[Any, dict[str, Any]]:
    try:
        pk = int(str(visit_id))
    except ValueError:
        raise Http404 from None
    visit = access_visit(request.user, pk)
    initial = visit_intake_initial(visit)
    initial["occurred_at"] = local_input(initial["occurred_at"])
    for key in ("lat", "lng"):
        if key in initial:
            initial[key] = _coordinate(initial[key])
    return visit, {**initial, "station": visit.station_id, "visit": visit.pk}


@login_required
def dispute_create(request: HttpRequest) -> HttpResponse:
    stations = intake_stations(request.user)
    if not stations:
        raise PermissionDenied
    grids = intake_grids(request.user, [s.pk for s in stations])
    visit = None
    initial: dict[str, Any] = {}
    visit_id = request.POST.get("visit") or request.GET.get("visit")
    if visit_id:
        visit, initial = _visit_initial(request, visit_id)
    data = request.POST if request.method == "POST" else None
    if data is not None and data.get("station") not in {str(s.pk) for s in stations}:
        # Another station's intake is "not found", as in the API and for its cases.
        raise Http404
    form = IntakeForm(data, stations=stations, grids=grids, initial=initial)
    formset = party_formset(data)
    refused = False
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        parties, rows = parties_input(formset, edit=False)
        values = form.values()
        values["parties"] = parties
        try:
            if visit is not None:
                values.pop("station_id")
                values.pop("intake_key")
                dispute = screening_visit_open_dispute(actor=request.user, visit=visit, **values)
            else:
                dispute = services.dispute_intake(actor=request.user, **values)
        except DomainError as exc:
            show_errors(form, formset, rows, exc)
        except PermissionDenied as exc:
            # A grid outside the user's own: say so on the form and keep what they typed.
            form.add_error(None, str(exc) or _("您无权在该网格登记矛盾纠纷。"))
            refused = True
        else:
            if getattr(dispute, "replayed", False):
                messages.info(
                    request,
                    _("该纠纷已经登记过（案件编号 %(number)s），没有重复登记。")
                    % {"number": dispute.case_number},
                )
            else:
                messages.success(request, _done_message(dispute))
            return redirect("disputes:dispute_detail", pk=dispute.pk)
    context = {
        "form": form,
        "formset": formset,
        "visit": visit,
        "dispute": None,
        "map_url": reverse("areas:map_data"),
    }
    status = 403 if refused else 422 if form.errors or _has_errors(formset) else 200
    return render(request, "disputes/dispute_form.html", context, status=status)


def _has_errors(formset: Any) -> bool:
    return formset.is_bound and (
        bool(formset.non_form_errors()) or any(f.errors for f in formset.forms)
    )


def _edit_initial(d: Dispute) -> dict[str, Any]:
    return {
        "narrative": d.narrative,
        "occurred_at": local_input(d.occurred_at),
        "type_class": d.type.parent.code if d.type.parent else "",
        "type_code": d.type.code,
        "scale": d.scale,
        "people_count": d.people_count,
        "amount": d.amount,
        "violence": d.violence,
        "death": d.death,
        "special_groups": d.special_groups,
        "difficult": d.difficult,
        "channels_involved": d.channels_involved,
        "lat": _coordinate(d.lat),
        "lng": _coordinate(d.lng),
        "address": d.address,
        "grid_id": "" if d.lat is not None else str(d.area_id),
        "version": d.version,
    }


def _party_initial(d: Dispute) -> list[dict[str, Any]]:
    return [
        {
            "id": p.pk,
            "kind": p.kind,
            "role": p.role,
            "name": p.name,
            "address": p.address,
            "consent": p.consent,
            "consent_note": p.consent_note,
            "masked": {"phone": mask_phone(p.phone), "id_number": mask_id_number(p.id_number)},
        }
        for p in d.parties.order_by("id")
    ]


@login_required
def dispute_edit(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    where = {"station_id": dispute.station_id, "area_id": dispute.area_id}
    # Seeing the case is not correcting it: a mediator gets 403 here, a stranger 404 above.
    if not user_can(request.user, "dispute.intake", **where):
        raise PermissionDenied
    if dispute.finished:
        messages.error(request, _("案件已办结，不能再修改登记信息。"))
        return redirect("disputes:dispute_detail", pk=pk)
    grids = intake_grids(request.user, [dispute.station_id])
    data = request.POST if request.method == "POST" else None
    party_initial = _party_initial(dispute)
    form = EditForm(data, grids=grids, initial=_edit_initial(dispute))
    formset = party_formset(data, initial=party_initial)
    latest = None
    refused = False
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        parties, rows = parties_input(formset, edit=True)
        values = form.values()
        values["parties"] = parties
        try:
            dispute_update(
                actor=request.user,
                dispute=dispute,
                version=form.cleaned_data["version"],
                **values,
            )
        except Conflict as exc:
            # Keep what the user typed; move the form to the newest version so that saving
            # again is a deliberate overwrite after looking at what the other person saved.
            latest = access_dispute(request.user, pk)
            changed = request.POST.copy()
            changed["version"] = str(latest.version)
            form = EditForm(changed, grids=grids, initial=_edit_initial(latest))
            formset = party_formset(changed, initial=party_initial)
            form.is_valid()
            formset.is_valid()
            form.add_error(None, exc.message)
            form.add_error(None, _("您填写的内容仍在下方。请对照“最新保存的内容”核对后再次保存。"))
        except DomainError as exc:
            show_errors(form, formset, rows, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("您无权修改该纠纷的登记信息。"))
            refused = True
        else:
            messages.success(request, _("登记信息已保存。"))
            return redirect("disputes:dispute_detail", pk=pk)
    context = {
        "form": form,
        "formset": formset,
        "visit": None,
        "dispute": dispute,
        "latest": latest,
        "map_url": reverse("areas:map_data"),
    }
    failed = form.errors or _has_errors(formset)
    status = 409 if latest is not None else 403 if refused else 422 if failed else 200
    return render(request, "disputes/dispute_form.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("new/", dispute_create, name="dispute_create"),
    path("<int:pk>/edit/", dispute_edit, name="dispute_edit"),
]


def detail_section(request: HttpRequest, dispute: Dispute) -> dict[str, Any]:
    """Return the context of this part's section on the case page: edit link and origin."""
    where = {"station_id": dispute.station_id, "area_id": dispute.area_id}
    origin: dict[str, Any] | None = None
    if dispute.origin_label == VISIT_LABEL and dispute.origin_id:
        origin = {
            "kind": "visit",
            "label": _("排查走访"),
            "url": reverse("disputes:visit_list") + f"#visit-{dispute.origin_id}",
        }
    elif dispute.origin_label:
        origin = {"kind": "module", "label": dispute.origin_label, "id": dispute.origin_id}
    return {
        "can_edit": not dispute.finished and user_can(request.user, "dispute.intake", **where),
        "edit_url": reverse("disputes:dispute_edit", args=[dispute.pk]),
        "origin": origin,
        "created_by": dispute.created_by,
    }
