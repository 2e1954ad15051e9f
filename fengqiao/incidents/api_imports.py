"""The history import through the API: the same service as the page (incidents.imports)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from fengqiao.core.errors import ValidationFailed
from fengqiao.core.schemas import error_responses
from fengqiao.incidents import imports
from fengqiao.incidents.models import ImportJob

router = Router(tags=["incidents"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422)
MOVE_ERRORS = {**WRITE_ERRORS, **error_responses(409)}
LIST_ROWS = 30


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class ImportOut(Schema):
    id: int
    station_id: int
    original_name: str
    file_format: str
    encoding: str
    status: str
    status_label: str
    mapping: dict[str, str]
    keep_callers: bool
    total_rows: int
    processed_rows: int
    imported_rows: int
    error_count: int
    errors: list[RowErrorOut]
    message: str
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportIn(Schema):
    station_id: int | None = None
    encoding: str = ""
    mapping: str = ""
    keep_callers: bool = False


def import_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "station_id": job.station_id,
        "original_name": job.original_name,
        "file_format": job.file_format,
        "encoding": job.encoding,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "mapping": job.mapping.get("columns", {}),
        "keep_callers": bool(job.mapping.get("keep_callers")),
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "imported_rows": job.imported_rows,
        "error_count": job.error_count,
        "errors": job.errors,
        "message": job.message,
        "cancel_requested": job.cancel_requested,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def _mapping(text: str) -> dict[str, str] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationFailed(
            _('mapping 须为 JSON 对象：字段 → 表头，例如 {"category": "警情类别"}。'),
            fields={"mapping": [_("格式不正确")]},
        )
    return value


@router.post(
    "/imports",
    response={201: ImportOut, **WRITE_ERRORS},
    summary="Upload a 110 export (multipart: file, station_id, encoding, mapping JSON "
    "field -> header, keep_callers) and start importing it in the background; all rows or none",
)
def import_upload(
    request: HttpRequest, file: File[UploadedFile], payload: Form[ImportIn]
) -> Status[dict[str, Any]]:
    station_id = payload.station_id
    if station_id is None:
        stations = imports.import_stations(request.user)
        if len(stations) != 1:
            raise ValidationFailed(
                _("请指定派出所（station_id）。"), fields={"station_id": [_("必填")]}
            )
        station_id = stations[0].pk
    job = imports.import_create(
        actor=request.user,
        station_id=station_id,
        fh=file,
        name=file.name or "",
        size=file.size or 0,
        encoding=payload.encoding,
        mapping=_mapping(payload.mapping),
        keep_callers=payload.keep_callers,
        start=True,
    )
    job.refresh_from_db()
    return Status(201, import_out(job))


@router.get("/imports", response={200: list[ImportOut], **READ_ERRORS}, summary="Recent imports")
def import_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [import_out(j) for j in imports.jobs_visible_to(request.user)[:LIST_ROWS]]


@router.get(
    "/imports/{int:job_id}",
    response={200: ImportOut, **READ_ERRORS},
    summary="An import: status, progress, the first errors",
)
def import_detail(request: HttpRequest, job_id: int) -> dict[str, Any]:
    return import_out(imports.access_import_job(request.user, job_id))


@router.post(
    "/imports/{int:job_id}/cancel",
    response={200: ImportOut, **MOVE_ERRORS},
    summary="Cancel a pending or running import; it rolls back and leaves nothing",
)
def import_cancel(request: HttpRequest, job_id: int) -> dict[str, Any]:
    job = imports.access_import_job(request.user, job_id)
    return import_out(imports.import_cancel(actor=request.user, job=job))


@router.get(
    "/imports/{int:job_id}/errors.csv",
    response={200: None, **READ_ERRORS},
    summary="Every row error of the import as CSV (UTF-8 with BOM): row, column, message",
    openapi_extra={
        "responses": {
            "200": {
                "description": "CSV",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def import_errors(request: HttpRequest, job_id: int) -> FileResponse:
    job = imports.access_import_job(request.user, job_id)
    return FileResponse(
        imports.error_report(job),
        as_attachment=True,
        filename=f"导入错误-{job.pk}.csv",
        content_type="text/csv; charset=utf-8",
    )
