"""Import incident history (a 110 export, CSV or XLSX): mapping, validation, loading.

One pass streams the file in chunks: every row is checked, and the good ones go into a
temporary staging table (PostgreSQL COPY, SQLite executemany). Duplicates are found in SQL
over the staging table. Only when no row is bad does one transaction move the rows into the
incident table (INSERT … SELECT, case numbers reserved in bulk, on PostgreSQL with the repeat
flags already counted over the staging table, see import_repeats); a cancel or any error
leaves the incident table as it was. Memory stays flat: no model instances, no list of all
rows. Reading is import_read, a row's checks import_check, staging and inserting import_load.
"""

from __future__ import annotations

import csv
import io
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.access import scope_for
from fengqiao.areas.access import stations_held
from fengqiao.areas.imports import check_upload
from fengqiao.areas.models import Area
from fengqiao.core.audit import audit_record
from fengqiao.core.casenumbers import case_numbers_reserve
from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.incidents.import_check import Checker, RowError
from fengqiao.incidents.import_check import parse_local as parse_local
from fengqiao.incidents.import_check import parse_time as parse_time
from fengqiao.incidents.import_load import PREFIX, ErrorReport, Outcome, Stage
from fengqiao.incidents.import_load import errors_path as errors_path
from fengqiao.incidents.import_load import import_dir as import_dir
from fengqiao.incidents.import_read import ENCODINGS as ENCODINGS
from fengqiao.incidents.import_read import FIELDS as FIELDS
from fengqiao.incidents.import_read import REQUIRED as REQUIRED
from fengqiao.incidents.import_read import (
    check_mapping,
    detect_encoding,
    propose_mapping,
    read_header,
    records,
    xlsx_rows,
)
from fengqiao.incidents.models import ImportJob, ImportStatus

log = logging.getLogger("fengqiao.incidents.imports")

CHUNK = 5000


def _phase(job_id: int, phase: str, started: float) -> float:
    """Log how long a phase of an import took (operators and the benchmark read it)."""
    now = time.perf_counter()
    seconds = now - started
    log.info(
        "Import %s: %s in %.2f s",
        job_id,
        phase,
        seconds,
        extra={"import_job": job_id, "phase": phase, "seconds": seconds},
    )
    return now


class ImportCancelled(Exception):
    """The user asked to cancel; the running import rolls back."""


# --- the job's life: create, confirm, cancel -------------------------------------------


def import_stations(user: Any) -> list[Area]:
    """Return the stations where the user may import incidents."""
    return stations_held(user, "incident.import")


def _require(actor: Any, station_id: int) -> None:
    # actor=None is the management command: no person to check.
    if actor is not None and not scope_for(actor, "incident.import").allows_station(station_id):
        raise PermissionDenied(_("您无权向该派出所导入警情。"))


def access_import_job(user: Any, pk: int) -> ImportJob:
    """Return the job if the user may import into its station; 404 alike for missing and
    forbidden."""
    scope = scope_for(user, "incident.import")
    job = ImportJob.objects.filter(pk=pk).select_related("station").first()
    if job is None or not scope.allows_station(job.station_id):
        raise Http404
    return job


def jobs_visible_to(user: Any) -> Any:
    """Return the import jobs of the stations where the user may import, newest first."""
    scope = scope_for(user, "incident.import")
    qs = ImportJob.objects.select_related("station", "created_by").order_by("-id")
    return qs if scope.everything else qs.filter(station_id__in=sorted(scope.station_ids))


def _store(upload: Any, suffix: str) -> Path:
    path = import_dir() / f"{uuid.uuid4().hex}.{suffix}"
    with path.open("wb") as out:
        if hasattr(upload, "chunks"):
            for block in upload.chunks():
                out.write(block)
        else:
            while block := upload.read(1 << 20):
                out.write(block)
    return path


def import_create(
    *,
    actor: Any,
    station_id: int,
    fh: IO[bytes],
    name: str,
    size: int,
    encoding: str = "",
    mapping: dict[str, str] | None = None,
    keep_callers: bool = False,
    start: bool = False,
    queue: bool = True,
    check_size: bool = True,
) -> ImportJob:
    """Store an upload, detect its encoding, propose the column mapping and create the job;
    with `start`, check the mapping and queue the import at once (the API); the command
    passes queue=False and runs it in the foreground."""
    station = Area.objects.filter(pk=station_id, kind="station").first()
    if station is None:
        raise ValidationFailed(_("派出所不存在。"), fields={"station": [_("派出所不存在")]})
    _require(actor, station.pk)
    if encoding and encoding not in ENCODINGS:
        raise ValidationFailed(
            _("不支持的编码：%(enc)s。") % {"enc": encoding},
            fields={"encoding": [_("不支持的编码")]},
        )
    head = fh.read(8192)
    fh.seek(0)
    if check_size:
        kind = check_upload(name=name, size=size, head=head)
    else:
        # The command reads a file on disk: no request, so no upload limit; same type checks.
        kind = check_upload(name=name, size=1, head=head)
    path = _store(fh, kind)
    try:
        total = 0
        if kind == "csv":
            encoding, total = detect_encoding(path, encoding)
        else:
            encoding = ""
            total = xlsx_rows(path)
        header_line, header = read_header(path, kind, encoding)
        proposed = propose_mapping(header)
        if mapping:
            proposed = {k: v for k, v in {**proposed, **mapping}.items() if v}
        if start:
            proposed = check_mapping(proposed, header)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        job = ImportJob.objects.create(
            station=station,
            original_name=name[:200],
            stored_path=str(path.relative_to(Path(settings.MEDIA_ROOT))),
            file_format=kind,
            encoding=encoding,
            mapping={
                "columns": proposed,
                "header": header,
                "header_line": header_line,
                "keep_callers": bool(keep_callers),
                "confirmed": bool(start),
            },
            total_rows=max(total - header_line, 0),
            created_by=user,
            updated_by=user,
        )
        audit_record(
            actor=actor,
            action="incidents.import.created",
            obj=job,
            station_id=station.pk,
            changes={"file": job.original_name, "format": kind, "encoding": encoding},
        )
        if start and queue:
            _queue(job.pk)
    return job


def import_confirm(
    *, actor: Any, job: ImportJob, mapping: dict[str, str], keep_callers: bool | None = None
) -> ImportJob:
    """Fix the column mapping the user chose and queue the import."""
    _require(actor, job.station_id)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.PENDING or job.mapping.get("confirmed"):
            raise Conflict(_("这个导入已经开始或已结束。"))
        columns = check_mapping(mapping, job.mapping.get("header", []))
        job.mapping = {
            **job.mapping,
            "columns": columns,
            "confirmed": True,
            "keep_callers": bool(
                job.mapping.get("keep_callers") if keep_callers is None else keep_callers
            ),
        }
        job.updated_by = actor if getattr(actor, "is_authenticated", False) else None
        job.save(update_fields=["mapping", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="incidents.import.confirmed",
            obj=job,
            station_id=job.station_id,
            changes={"columns": columns, "keep_callers": job.mapping["keep_callers"]},
        )
        _queue(job.pk)
    return job


def import_cancel(*, actor: Any, job: ImportJob) -> ImportJob:
    """Ask a pending or running import to stop; it rolls back between chunks."""
    _require(actor, job.station_id)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in (ImportStatus.PENDING, ImportStatus.RUNNING):
            raise IllegalTransition(_("导入已经结束，不能取消。"))
        job.cancel_requested = True
        fields = ["cancel_requested", "updated_at"]
        if job.status == ImportStatus.PENDING and not job.mapping.get("confirmed"):
            # Never queued: nothing will pick it up, so it ends here.
            job.status = ImportStatus.CANCELLED
            job.finished_at = timezone.now()
            job.message = _("已取消，没有导入任何数据。")
            fields += ["status", "finished_at", "message"]
            _remove_upload(job)
        job.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="incidents.import.cancel_requested",
            obj=job,
            station_id=job.station_id,
        )
    return job


def _queue(job_id: int) -> None:
    from fengqiao.incidents.tasks import incident_import

    transaction.on_commit(lambda: incident_import(job_id))


def _remove_upload(job: ImportJob) -> None:
    if job.stored_path:
        (Path(settings.MEDIA_ROOT) / job.stored_path).unlink(missing_ok=True)


def _set(job: ImportJob, **values: Any) -> None:
    # A plain UPDATE: never overwrite cancel_requested, which the page sets meanwhile.
    values.setdefault("updated_at", timezone.now())
    ImportJob.objects.filter(pk=job.pk).update(**values)
    for key, value in values.items():
        setattr(job, key, value)


def _cancel_requested(job: ImportJob) -> bool:
    return bool(
        ImportJob.objects.filter(pk=job.pk).values_list("cancel_requested", flat=True).first()
    )


def _load(job: ImportJob, progress: Callable[[ImportJob], None] | None) -> Outcome:
    """Check every row into the staging table, then insert them all or none."""
    columns_by_header = job.mapping.get("columns", {})
    header: list[str] = job.mapping.get("header", [])
    header_line = int(job.mapping.get("header_line", 1))
    columns = {key: header.index(col) for key, col in columns_by_header.items() if col in header}
    stage = Stage(job.pk)
    checker = Checker(
        station_id=job.station_id,
        columns=columns,
        labels=dict(columns_by_header),
        keep_callers=bool(job.mapping.get("keep_callers")),
        pg=stage.pg,
    )
    path = Path(settings.MEDIA_ROOT) / job.stored_path
    report = ErrorReport(job)
    out = Outcome()
    stage.create()
    clock = time.perf_counter()
    try:
        chunk: list[list[Any]] = []
        chunk_errors: list[RowError] = []

        def flush() -> None:
            rows = checker.locate(chunk, chunk_errors)
            chunk_errors.sort()
            report.add(chunk_errors)
            stage.write(rows)
            chunk.clear()
            chunk_errors.clear()
            _set(job, processed_rows=out.rows)
            if progress is not None:
                progress(job)
            if _cancel_requested(job):
                raise ImportCancelled

        for line, cells in records(path, job.file_format, job.encoding):
            if line <= header_line or not any(c.strip() for c in cells):
                continue
            out.rows += 1
            row, errors = checker.row(line, cells)
            if row is not None:
                chunk.append(row)
            else:
                chunk_errors.extend(errors)
            if out.rows % CHUNK == 0:
                flush()
        flush()
        clock = _phase(job.pk, "check", clock)
        if not out.rows:
            raise ValidationFailed(_("文件中没有数据行。"), fields={"file": [_("没有数据行")]})
        column = checker.label("external_id")
        out.problems, out.bad_rows, out.errors = report.finish(
            stage.duplicates(job.station_id, column)
        )
        clock = _phase(job.pk, "duplicates", clock)
        if out.problems:
            return out
        years, out.first, out.last = stage.span()
        user_id = job.created_by_id
        from fengqiao.incidents.rollups import rollups_deferred

        with rollups_deferred(), transaction.atomic():
            bases = {
                y: case_numbers_reserve(station_id=job.station_id, prefix=PREFIX, year=y, count=n)
                for y, n in years.items()
            }
            stage.tune()
            marked = stage.flag(job.station_id) if stage.pg else 0
            clock = _phase(job.pk, "flags", clock)
            out.imported = stage.insert(job=job, bases=bases, user_id=user_id)
            clock = _phase(job.pk, "insert", clock)
            if marked:
                from fengqiao.incidents.import_repeats import neighbours_reflag

                neighbours_reflag(station_id=job.station_id, marked=stage.marked)
                clock = _phase(job.pk, "neighbours", clock)
            if _cancel_requested(job):
                raise ImportCancelled
            # One entry for the job, not one per row: a million entries would double the
            # import's time, and the job is the unit a person decided on; every row keeps
            # its import_job, so each incident still leads back to this entry.
            audit_record(
                actor=job.created_by,
                action="incidents.import.done",
                obj=job,
                station_id=job.station_id,
                changes={
                    "file": job.original_name,
                    "rows": out.rows,
                    "imported": out.imported,
                    "years": {str(y): n for y, n in years.items()},
                    "keep_callers": checker.keep_callers,
                },
            )
            _set(job, imported_rows=out.imported, processed_rows=out.rows)
        # PostgreSQL checks the foreign keys (deferred, as Django declares them) at commit.
        _phase(job.pk, "commit", clock)
        return out
    except BaseException:
        report.discard()
        raise
    finally:
        stage.drop()


def _as_datetime(value: Any) -> datetime | None:
    """Return a staging MIN/MAX as an aware datetime (SQLite gives UTC text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _refresh(job: ImportJob, first: datetime, last: datetime) -> str:
    """Rebuild the rollups of the loaded span (and on SQLite its repeat flags); return a
    warning or ""."""
    from fengqiao.incidents.repeats import reflag
    from fengqiao.incidents.rollups import local_day, rollup_rebuild

    try:
        clock = time.perf_counter()
        rollup_rebuild(station_ids=[job.station_id], first=local_day(first), last=local_day(last))
        clock = _phase(job.pk, "rollups", clock)
        if connection.vendor != "postgresql":
            # PostgreSQL set the flags as the rows went in (Stage.flag).
            reflag(station_id=job.station_id, first=first, last=last)
            _phase(job.pk, "repeats", clock)
    except Exception:
        log.exception("Rollups after import %s failed", job.pk)
        return _("警情已导入，但统计汇总未能更新，请运行 fengqiao rollup_incidents。")
    return ""


def import_run(*, job_id: int, progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Run a queued import: check every row, load all or none, then update the figures."""
    job = ImportJob.objects.select_related("station", "created_by").get(pk=job_id)
    if job.status != ImportStatus.PENDING or not job.mapping.get("confirmed"):
        return job  # already ran, or still waiting for its mapping
    if job.cancel_requested:
        return _finish(job, ImportStatus.CANCELLED, _("已取消，没有导入任何数据。"))
    _set(job, status=ImportStatus.RUNNING, started_at=timezone.now(), processed_rows=0)
    try:
        out = _load(job, progress)
    except ImportCancelled:
        return _finish(job, ImportStatus.CANCELLED, _("已取消，没有导入任何数据。"))
    except ValidationFailed as exc:
        return _finish(job, ImportStatus.FAILED, exc.message)
    except IntegrityError:
        log.warning("Import %s hit a constraint", job.pk, exc_info=True)
        return _finish(
            job,
            ImportStatus.FAILED,
            _("导入时与刚录入的警情冲突（例如接警单号重复），没有导入任何数据，请重新导入。"),
        )
    except Exception:
        log.exception("Import %s failed", job.pk)
        return _finish(job, ImportStatus.FAILED, _("导入出错，没有导入任何数据。请联系管理员。"))
    if out.problems:
        _set(job, error_count=out.bad_rows, errors=out.errors)
        message = _("发现 %(p)d 个问题，涉及 %(r)d 行；没有导入任何数据。请改正后重新上传。") % {
            "p": out.problems,
            "r": out.bad_rows,
        }
        return _finish(job, ImportStatus.FAILED, message)
    _set(job, message=_("已写入 %(n)d 条警情，正在更新统计和重复报警标记……") % {"n": out.imported})
    first, last = _as_datetime(out.first), _as_datetime(out.last)
    warning = _refresh(job, first, last) if first and last else ""
    message = warning or _("已导入 %(n)d 条警情。") % {"n": out.imported}
    return _finish(job, ImportStatus.DONE, message, audit=False)


def _finish(job: ImportJob, status: str, message: str, *, audit: bool = True) -> ImportJob:
    _set(job, status=status, message=message, finished_at=timezone.now())
    _remove_upload(job)
    if audit:
        with transaction.atomic():
            audit_record(
                actor=job.created_by,
                action=f"incidents.import.{status}",
                obj=job,
                station_id=job.station_id,
                changes={"rows": job.processed_rows, "bad_rows": job.error_count},
            )
    return job


def error_report(job: ImportJob) -> IO[bytes]:
    """Return the job's error report as CSV (UTF-8 with BOM, which Excel opens): every error
    when the run kept its file, else the errors stored on the job."""
    path = errors_path(job)
    if path.exists():
        return path.open("rb")
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([_("行号"), _("列"), _("问题")])
    for e in job.errors:
        writer.writerow([e.get("row"), e.get("column"), e.get("message")])
    return io.BytesIO(out.getvalue().encode("utf-8-sig"))


def preview(job: ImportJob, rows: int = 5) -> list[list[str]]:
    """Return the first data rows of a stored upload, for the mapping form."""
    path = Path(settings.MEDIA_ROOT) / job.stored_path
    if not job.stored_path or not path.exists():
        return []
    header_line = int(job.mapping.get("header_line", 1))
    out: list[list[str]] = []
    try:
        for line, cells in records(path, job.file_format, job.encoding):
            if line > header_line and any(c.strip() for c in cells):
                out.append([c.strip()[:60] for c in cells])
                if len(out) >= rows:
                    break
    except ValidationFailed:
        pass
    return out
