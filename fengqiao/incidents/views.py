"""Incident log pages: the list, intake, the incident page and its moves, corrections, settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fengqiao.accounts.access import user_can
from fengqiao.areas.models import Area
from fengqiao.core.errors import Conflict, DomainError
from fengqiao.core.pagination import Page, keyset_page
from fengqiao.core.pii import mask_phone
from fengqiao.incidents import moves, selectors, services, timeline
from fengqiao.incidents.access import access_incident
from fengqiao.incidents.choices import Status
from fengqiao.incidents.forms import (
    ArriveForm,
    CloseForm,
    ConfigForm,
    ConvertForm,
    DispatchForm,
    EditForm,
    FilterForm,
    IntakeForm,
    local_input,
)
from fengqiao.incidents.models import Incident
from fengqiao.incidents.repeats import config_for

PAGE_SIZE = 30
TIMELINE_SHOWN = 50
# What a list row reads: never the narrative, the caller or the search text.
ROW_COLUMNS = (
    "id",
    "case_number",
    "station_id",
    "community__name",
    "area__name",
    "category__code",
    "category__name",
    "source",
    "status",
    "disposition",
    "valid",
    "reported_at",
    "address",
    "repeat_address",
    "repeat_caller",
)
MOVES = ("dispatch", "arrive", "close", "convert")


def show_errors(form: forms.Form, exc: DomainError) -> None:
    """Put a service's refusal on the form: per field where the form has it, else on top."""
    aliases = getattr(form, "ALIASES", {})
    seen: set[tuple[str, str]] = set()
    for key, errors in exc.fields.items():
        name = aliases.get(key, key)
        for error in errors:
            if (str(name), error) in seen:
                continue
            seen.add((str(name), error))
            try:
                form.add_error(name if name in form.fields else None, error)
            except ValidationError:
                form.add_error(None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


# --- list ---


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    if not user_can(request.user, "incident.view"):
        raise PermissionDenied
    areas = Area.objects.visible_to(request.user, "incident.view").only("id", "name", "parent_id")
    grids = (
        areas.grids().select_related("parent").only("id", "name", "parent__name").order_by("path")
    )
    form = FilterForm(
        request.GET or None,
        communities=list(areas.communities().order_by("path")),
        grids=list(grids),
    )
    page: Any
    if form.is_bound and not form.is_valid():
        # A filter that cannot be read lists nothing rather than everything.
        page = Page(items=[], next_cursor=None, has_next=False)
    else:
        qs = (
            selectors.incident_search(user=request.user, **form.filters())
            .select_related("community", "area", "category")
            .only(*ROW_COLUMNS)
        )
        page = keyset_page(qs, order=("-id",), cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    context = {
        "form": form,
        "page": page,
        "narrowed": bool(form.errors) or any(form.filters().values()),
        "can_intake": user_can(request.user, "incident.intake"),
        "can_configure": user_can(request.user, "incident.configure"),
        "can_import": user_can(request.user, "incident.import"),
    }
    return render(request, "incidents/incident_list.html", context)


# --- intake and correction ---


def intake_stations(user: Any) -> list[Area]:
    """Return the stations where the user may log incidents (at least in one grid)."""
    seen = Area.objects.visible_to(user).values("station_id")
    stations = Area.objects.filter(kind="station", pk__in=seen).only("id", "name", "station_id")
    return [
        s
        for s in stations.order_by("path")
        if services._reaches_station(user, "incident.intake", s)
    ]


def intake_grids(user: Any, station_ids: list[int]) -> list[Area]:
    return list(
        Area.objects.visible_to(user, "incident.intake")
        .grids()
        .filter(station_id__in=station_ids)
        .select_related("parent")
        .only("id", "name", "parent__name", "path")
        .order_by("path")
    )


def _form_context(form: forms.Form, incident: Incident | None, **extra: Any) -> dict[str, Any]:
    return {
        "form": form,
        "incident": incident,
        "map_url": reverse("areas:map_data"),
        **extra,
    }


@login_required
def incident_create(request: HttpRequest) -> HttpResponse:
    stations = intake_stations(request.user)
    if not stations:
        raise PermissionDenied
    grids = intake_grids(request.user, [s.pk for s in stations])
    data = request.POST if request.method == "POST" else None
    if data is not None and data.get("station") not in {str(s.pk) for s in stations}:
        raise Http404
    form = IntakeForm(data, stations=stations, grids=grids)
    refused = False
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_intake(actor=request.user, **form.values())
        except DomainError as exc:
            show_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("您无权在该网格登记警情。"))
            refused = True
        else:
            if getattr(incident, "replayed", False):
                messages.info(
                    request,
                    _("该警情已经登记过（警情编号 %(n)s），没有重复登记。")
                    % {"n": incident.case_number},
                )
            else:
                messages.success(
                    request, _("已登记，警情编号 %(n)s。") % {"n": incident.case_number}
                )
            return redirect("incidents:incident_detail", pk=incident.pk)
    status = 403 if refused else 422 if form.errors else 200
    return render(request, "incidents/incident_form.html", _form_context(form, None), status=status)


def _coordinate(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def _edit_initial(i: Incident) -> dict[str, Any]:
    return {
        "source": i.source,
        "category_class": i.class_code,
        "category_code": i.category.code,
        "reported_at": local_input(i.reported_at),
        "occurred_at": local_input(i.occurred_at),
        "narrative": i.narrative,
        "lat": _coordinate(i.lat),
        "lng": _coordinate(i.lng),
        "address": i.address,
        "grid_id": "" if i.lat is not None else str(i.area_id),
        "external_id": i.external_id,
        "version": i.version,
    }


def _masked(i: Incident) -> dict[str, str]:
    return {
        "caller_name": selectors.mask_name(i.caller_name),
        "caller_phone": mask_phone(i.caller_phone),
    }


@login_required
def incident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    incident = access_incident(request.user, pk)
    if not user_can(
        request.user, "incident.intake", station_id=incident.station_id, area_id=incident.area_id
    ):
        raise PermissionDenied
    grids = intake_grids(request.user, [incident.station_id])
    data = request.POST if request.method == "POST" else None
    form = EditForm(data, grids=grids, initial=_edit_initial(incident), masked=_masked(incident))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_update(
                actor=request.user,
                incident=incident,
                version=form.cleaned_data["version"],
                **form.values(),
            )
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except DomainError as exc:
            show_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        else:
            messages.success(request, _("登记信息已保存。"))
            return redirect("incidents:incident_detail", pk=pk)
    if status == 200 and form.errors:
        status = 422
    return render(
        request,
        "incidents/incident_form.html",
        _form_context(form, incident, masked=_masked(incident)),
        status=status,
    )


# --- the incident page and its moves ---


def _move_forms(request: HttpRequest, incident: Incident) -> dict[str, forms.Form]:
    """Return the forms of the moves the incident's state allows, unbound."""
    nxt = Incident.TRANSITIONS[incident.status]
    initial = {"version": incident.version}
    out: dict[str, forms.Form] = {}
    if Status.DISPATCHED in nxt:
        out["dispatch"] = DispatchForm(
            initial=initial, staff=moves.station_staff(incident.station_id)
        )
    if Status.ON_SCENE in nxt:
        out["arrive"] = ArriveForm(initial=initial)
    if Status.CLOSED in nxt:
        out["close"] = CloseForm(initial=initial)
        out["convert"] = ConvertForm(initial=initial)
    return out


def _detail_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    user = request.user
    where = {"station_id": incident.station_id, "area_id": incident.area_id}
    can_handle = user_can(user, "incident.handle", **where)
    dispute_url = None
    if incident.dispute_id and user_can(user, "dispute.view", station_id=incident.station_id):
        dispute_url = reverse("disputes:dispute_detail", args=[incident.dispute_id])
    entries = selectors.incident_timeline(incident=incident, limit=TIMELINE_SHOWN)
    return {
        "incident": incident,
        "masked": _masked(incident),
        "can_reveal": user_can(user, "pii.reveal", **where),
        "can_handle": can_handle,
        "can_edit": user_can(user, "incident.intake", **where),
        "moves": _move_forms(request, incident) if can_handle else {},
        "times": selectors.response_times(incident),
        "dispute_url": dispute_url,
        "steps": timeline.steps(entries),
        "failed": None,
    }


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = access_incident(request.user, pk)
    return render(request, "incidents/incident_detail.html", _detail_context(request, incident))


def _bound_move(move: str, request: HttpRequest, incident: Incident) -> forms.Form:
    data = request.POST
    if move == "dispatch":
        return DispatchForm(data, staff=moves.station_staff(incident.station_id))
    if move == "arrive":
        return ArriveForm(data)
    if move == "close":
        return CloseForm(data)
    return ConvertForm(data)


def _run_move(move: str, request: HttpRequest, incident: Incident, form: forms.Form) -> Incident:
    data = form.cleaned_data
    common: dict[str, Any] = {
        "actor": request.user,
        "incident": incident,
        "version": data.get("version"),
    }
    if move == "dispatch":
        return moves.incident_dispatch(
            **common,
            officer_id=data.get("officer_id") or None,
            team=data.get("team") or "",
            at=data.get("at") or None,
        )
    if move == "arrive":
        return moves.incident_arrive(**common, at=data.get("at") or None)
    if move == "close":
        return moves.incident_close(
            **common,
            disposition=data.get("disposition") or "",
            linkage=data.get("linkage") or "",
            note=data.get("note") or "",
            at=data.get("at") or None,
        )
    assert isinstance(form, ConvertForm)
    return moves.incident_convert(**common, **form.values())


DONE: dict[str, Any] = {
    "dispatch": gettext_lazy("已派警。"),
    "arrive": gettext_lazy("已登记到场。"),
    "close": gettext_lazy("警情已处结。"),
    "convert": gettext_lazy("已转为矛盾纠纷并处结警情。"),
}


@login_required
@require_POST
def incident_move(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    if move not in MOVES:
        raise Http404
    incident = access_incident(request.user, pk)
    form = _bound_move(move, request, incident)
    status = 422
    if form.is_valid():
        try:
            _run_move(move, request, incident, form)
        except PermissionDenied:
            raise
        except DomainError as exc:
            show_errors(form, exc)
            status = exc.status if exc.status in (409, 422) else 422
        else:
            messages.success(request, str(DONE[move]))
            return redirect("incidents:incident_detail", pk=pk)
    fresh = access_incident(request.user, pk)
    context = _detail_context(request, fresh)
    context["failed"] = {"move": move, "form": form, "conflict": status == 409}
    # Keep what the user typed in the form of the move that failed, when it still applies.
    if move in context["moves"]:
        context["moves"][move] = form
    return render(request, "incidents/incident_detail.html", context, status=status)


# --- settings ---


@login_required
def incident_settings(request: HttpRequest) -> HttpResponse:
    stations = [
        s
        for s in Area.objects.filter(kind="station").only("id", "name").order_by("path")
        if user_can(request.user, "incident.configure", station_id=s.pk)
    ]
    if not stations:
        raise PermissionDenied
    try:
        chosen = int(request.GET.get("station") or request.POST.get("station") or stations[0].pk)
    except ValueError:
        raise Http404 from None
    station = next((s for s in stations if s.pk == chosen), None)
    if station is None:
        raise Http404
    cfg = config_for(station.pk)
    initial = {name: getattr(cfg, name) for name in services.CONFIG_FIELDS}
    form = ConfigForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_config_update(
                actor=request.user, station_id=station.pk, **form.cleaned_data
            )
        except DomainError as exc:
            show_errors(form, exc)
            status = 422
        else:
            messages.success(request, _("警情设置已保存。"))
            return redirect(f"{reverse('incidents:incident_settings')}?station={station.pk}")
    elif request.method == "POST":
        status = 422
    context = {"form": form, "stations": stations, "station": station}
    return render(request, "incidents/incident_settings.html", context, status=status)
