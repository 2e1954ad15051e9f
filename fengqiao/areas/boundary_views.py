"""The boundary import page: a chief uploads GeoJSON, sees every problem or what was imported."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render

from fengqiao.accounts.http import AuthedRequest
from fengqiao.areas.access import user_can
from fengqiao.areas.boundaries import ImportReport, boundaries_import, police_grids_import
from fengqiao.areas.boundary_forms import BoundaryImportForm


@login_required
def boundary_import(request: AuthedRequest) -> HttpResponse:
    if not user_can(request.user, "area.import"):
        raise PermissionDenied
    report: ImportReport | None = None
    form = BoundaryImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"].read()
        dry_run = form.cleaned_data["check_only"]
        if form.cleaned_data["what"] == "police_grids":
            report = police_grids_import(
                actor=request.user, data=data, on_date=form.cleaned_data["on_date"], dry_run=dry_run
            )
        else:
            report = boundaries_import(actor=request.user, data=data, dry_run=dry_run)
    failed = request.method == "POST" and (report is None or not report.ok)
    return render(
        request,
        "areas/boundary_import.html",
        {"form": form, "report": report},
        status=422 if failed else 200,
    )
