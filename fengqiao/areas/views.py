"""Jurisdiction pages: the area tree, the map, places."""

from __future__ import annotations

import tempfile
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.http import AuthedRequest
from fengqiao.areas import selectors, services
from fengqiao.areas.access import access_place, scope_for, user_can
from fengqiao.areas.exports import place_export as place_export_xlsx
from fengqiao.areas.forms import (
    PlaceFilterForm,
    PlaceForm,
    PlaceImportForm,
    place_filters,
    place_initial,
)
from fengqiao.areas.imports import read_places
from fengqiao.areas.models import Area, Place, PlaceKind
from fengqiao.core.errors import Conflict, DomainError
from fengqiao.core.pagination import Page
from fengqiao.core.pii import mask_phone


def _require(request: HttpRequest, perm: str) -> None:
    if not user_can(request.user, perm):
        raise PermissionDenied


@login_required
def area_list(request: HttpRequest) -> HttpResponse:
    _require(request, "area.view")
    return render(
        request,
        "areas/area_list.html",
        {
            "tree": selectors.area_tree(user=request.user),
            "can_import": user_can(request.user, "area.import"),
        },
    )


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    _require(request, "area.view")
    return render(request, "areas/map.html", {"places_url": reverse("areas:place_list")})


@login_required
def map_data(request: HttpRequest) -> JsonResponse:
    _require(request, "area.view")
    return JsonResponse(selectors.map_layers(user=request.user))


def _filter_form(request: AuthedRequest) -> PlaceFilterForm:
    """Return the list's filter form, bound to the query string and checked."""
    # The community picked narrows the grids offered (and accepted) to its own.
    community_id = place_filters(request.GET)["community_id"]
    choices = selectors.place_filter_choices(user=request.user, community_id=community_id)
    form = PlaceFilterForm(request.GET or None, choices=choices)
    form.is_valid()
    return form


def _imports_stations(user: Any) -> bool:
    """Return whether the user may import places: a station-level task, never a community's."""
    scope = scope_for(user, "place.import")
    return scope.everything or bool(scope.station_ids)


@login_required
def place_list(request: AuthedRequest) -> HttpResponse:
    _require(request, "place.view")
    form = _filter_form(request)
    if form.is_bound and form.errors:
        # A filter that cannot be read lists nothing: listing everything would look like
        # an answer to the question the user asked.
        page: Any = Page(items=[], next_cursor=None, has_next=False)
        filtered = True
    else:
        filters = form.filters()
        page = selectors.place_page(user=request.user, cursor=request.GET.get("cursor"), **filters)
        filtered = any(filters.values())
    context = {
        "page": page,
        "form": form,
        "filtered": filtered,
        "can_create": user_can(request.user, "place.edit"),
        "can_import": _imports_stations(request.user),
    }
    return render(request, "areas/place_list.html", context)


@login_required
def place_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    place = access_place(request.user, pk)
    where = {"station_id": place.station_id, "area_id": place.area_id}
    context = {
        "place": place,
        "masked_phone": mask_phone(place.contact_phone),
        "can_reveal": user_can(request.user, "pii.reveal", **where),
        "can_edit": user_can(request.user, "place.edit", **where),
        "timeline": selectors.place_timeline(place=place),
    }
    return render(request, "areas/place_detail.html", context)


def _form_errors(form: Any, exc: DomainError) -> None:
    """Show a service's refusal on the form: per field where the form has one, else on top."""
    aliases = {"station_id": "station", "location": None}
    shown: set[str] = set()
    for key, errors in exc.fields.items():
        name = aliases.get(key, key)
        for error in errors:
            # One message for latitude and longitude is shown once, under latitude.
            if error in shown:
                continue
            shown.add(error)
            form.add_error(name if name in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


def _place_form(request: AuthedRequest, place: Place | None, data: Any = None) -> PlaceForm:
    stations = selectors.place_stations(user=request.user) if place is None else [place.station]
    return PlaceForm(
        data,
        stations=stations,
        kinds=list(PlaceKind.objects.order_by("sort", "code")),
        officers=selectors.place_officers(station_ids=[s.pk for s in stations]),
        place=place,
        initial=place_initial(place) if place is not None else None,
    )


@login_required
def place_create(request: AuthedRequest) -> HttpResponse:
    _require(request, "place.edit")
    form = _place_form(request, None, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            place = services.place_create(
                actor=request.user, station_id=form.cleaned_data["station"], **form.changes()
            )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("场所“%(name)s”已登记。") % {"name": place.name})
            return redirect("areas:place_detail", pk=place.pk)
    return render(request, "areas/place_form.html", {"form": form, "place": None})


@login_required
def place_update(request: AuthedRequest, pk: int) -> HttpResponse:
    place = access_place(request.user, pk)
    # Seeing the place is not editing it: a volunteer gets 403 here, a stranger 404 above.
    if not user_can(request.user, "place.edit", station_id=place.station_id, area_id=place.area_id):
        raise PermissionDenied
    form = _place_form(request, place, request.POST or None)
    latest = None
    if request.method == "POST" and form.is_valid():
        try:
            services.place_update(
                actor=request.user,
                place=place,
                version=form.cleaned_data["version"],
                **form.changes(),
            )
        except Conflict as exc:
            # Keep what the user typed; move the form to the newest version so that saving
            # again is a deliberate overwrite after looking at what the other person saved.
            latest = access_place(request.user, pk)
            data = request.POST.copy()
            data["version"] = str(latest.version)
            form = _place_form(request, latest, data)
            form.is_valid()
            form.add_error(None, exc.message)
            form.add_error(None, _("您填写的内容仍在下方。请对照“最新保存的内容”核对后再次保存。"))
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("场所信息已保存。"))
            return redirect("areas:place_detail", pk=place.pk)
    context = {"form": form, "place": place, "latest": latest}
    return render(request, "areas/place_form.html", context)


# How many rows of an import's error report a page shows; the count is always shown.
REPORT_ROWS = 500


def _example_point(station: Area) -> tuple[str, str] | None:
    """Return (lat, lng) as text of a point inside the station's first grid, for the example."""
    grid = (
        Area.objects.filter(station=station, kind="grid", centroid_lat__isnull=False)
        .order_by("path")
        .values_list("centroid_lat", "centroid_lng")
        .first()
    )
    if grid is None or grid[0] is None or grid[1] is None:
        return None

    def short(value: float) -> str:
        return f"{value:.6f}".rstrip("0").rstrip(".")

    return short(grid[0]), short(grid[1])


@login_required
def place_import(request: AuthedRequest) -> HttpResponse:
    max_mb = settings.FENGQIAO_MAX_UPLOAD_BYTES / (1024 * 1024)
    scope = scope_for(request.user, "place.import")
    stations = [
        s
        for s in selectors.place_stations(user=request.user, perm="place.import")
        if scope.allows_station(s.pk)
    ]
    if not stations:
        # Say why, on the page itself: a community officer expects to import their places.
        return render(
            request, "areas/place_import.html", {"refused": True, "max_mb": max_mb}, status=403
        )
    form = PlaceImportForm(request.POST or None, request.FILES or None, stations=stations)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            parsed = read_places(upload, name=upload.name or "", size=upload.size or 0)
            result = services.place_import(
                actor=request.user,
                station_id=form.cleaned_data["station"],
                parsed=parsed,
                source=upload.name or "",
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            if result.ok:
                messages.success(request, _("已导入 %(n)d 个场所。") % {"n": result.created})
                return redirect("areas:place_list")
            report = result.errors
    context = {
        "form": form,
        "report": report[:REPORT_ROWS] if report else None,
        "report_total": len(report) if report else 0,
        "report_rows": len({e.row for e in report}) if report else 0,
        "max_mb": max_mb,
        "example": _example_point(stations[0]),
    }
    return render(request, "areas/place_import.html", context)


@login_required
def place_export(request: AuthedRequest) -> FileResponse | HttpResponseRedirect:
    _require(request, "place.view")
    form = _filter_form(request)
    if form.is_bound and form.errors:
        # The list page shows what is wrong with the filters; export nothing meanwhile.
        return redirect(f"{reverse('areas:place_list')}?{request.GET.urlencode()}")
    # A temporary file, not memory: a district's export can be large. FileResponse closes
    # it when the download ends, and a TemporaryFile is deleted on close.
    fh = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        place_export_xlsx(actor=request.user, fh=fh, **form.filters())
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        fh,
        as_attachment=True,
        filename=f"场所-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
