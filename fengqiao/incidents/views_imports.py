"""Pages of the history import: upload, column mapping, progress (htmx), cancel, errors."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fengqiao.accounts.http import AuthedRequest
from fengqiao.core.errors import DomainError
from fengqiao.incidents import imports
from fengqiao.incidents.forms_imports import ImportUploadForm, MappingForm
from fengqiao.incidents.models import ImportJob, ImportStatus

# How many past jobs the list shows; older ones stay in the audit log.
LIST_ROWS = 30
# How often the progress bar asks for news, in milliseconds.
POLL_MS = 1500


def _progress_context(job: ImportJob) -> dict[str, object]:
    running = job.status in (ImportStatus.PENDING, ImportStatus.RUNNING)
    if job.status == ImportStatus.DONE:
        percent = 100
    elif job.total_rows:
        # The row count of a CSV is estimated from its lines: never show 100% before the end.
        percent = min(99, job.processed_rows * 100 // job.total_rows)
    else:
        percent = 0
    return {"job": job, "running": running, "percent": percent, "poll_ms": POLL_MS}


@login_required
def import_list(request: AuthedRequest) -> HttpResponse:
    stations = imports.import_stations(request.user)
    max_mb = settings.FENGQIAO_MAX_UPLOAD_BYTES / (1024 * 1024)
    if not stations:
        return render(request, "incidents/imports/list.html", {"refused": True}, status=403)
    form = ImportUploadForm(request.POST or None, request.FILES or None, stations=stations)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.import_create(
                actor=request.user,
                station_id=form.cleaned_data["station"],
                fh=upload,
                name=upload.name or "",
                size=upload.size or 0,
                encoding=form.cleaned_data["encoding"],
                keep_callers=form.cleaned_data["keep_callers"],
            )
        except PermissionDenied as exc:
            form.add_error("station", str(exc))
        except DomainError as exc:
            form.add_error("encoding" if "encoding" in exc.fields else "file", exc.message)
        else:
            return redirect("incidents:import_detail", pk=job.pk)
    jobs = list(imports.jobs_visible_to(request.user)[:LIST_ROWS])
    context = {"form": form, "jobs": jobs, "max_mb": max_mb, "refused": False}
    return render(request, "incidents/imports/list.html", context)


@login_required
def import_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    job = imports.access_import_job(request.user, pk)
    mapping_open = job.status == ImportStatus.PENDING and not job.mapping.get("confirmed")
    form = None
    if mapping_open:
        form = MappingForm(
            request.POST or None,
            header=job.mapping.get("header", []),
            proposed=job.mapping.get("columns", {}),
        )
        if request.method == "POST" and form.is_valid():
            try:
                imports.import_confirm(
                    actor=request.user,
                    job=job,
                    mapping=form.mapping(),
                    keep_callers=request.POST.get("keep_callers") == "on",
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("incidents:import_detail", pk=job.pk)
    elif request.method == "POST":
        messages.warning(request, _("这个导入已经开始或已结束。"))
        return redirect("incidents:import_detail", pk=job.pk)
    context = {
        **_progress_context(job),
        "form": form,
        "preview": imports.preview(job) if mapping_open else [],
        "header": job.mapping.get("header", []),
        "keep_callers": job.mapping.get("keep_callers", False),
    }
    return render(request, "incidents/imports/detail.html", context)


@require_GET
@login_required
def import_progress(request: AuthedRequest, pk: int) -> HttpResponse:
    job = imports.access_import_job(request.user, pk)
    return render(request, "incidents/imports/_progress.html", _progress_context(job))


@require_POST
@login_required
def import_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    job = imports.access_import_job(request.user, pk)
    try:
        job = imports.import_cancel(actor=request.user, job=job)
    except DomainError as exc:
        messages.warning(request, exc.message)
    else:
        messages.info(request, _("已请求取消：正在回滚，不会留下任何数据。"))
    if request.headers.get("HX-Request"):
        job.refresh_from_db()
        return render(request, "incidents/imports/_progress.html", _progress_context(job))
    return redirect("incidents:import_detail", pk=job.pk)


@require_GET
@login_required
def import_errors_csv(request: AuthedRequest, pk: int) -> FileResponse:
    job = imports.access_import_job(request.user, pk)
    return FileResponse(
        imports.error_report(job),
        as_attachment=True,
        filename=f"导入错误-{job.pk}.csv",
        content_type="text/csv; charset=utf-8",
    )
