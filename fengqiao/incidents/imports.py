"""Import incident history (a 110 export, CSV or XLSX): mapping, validation, loading.

One pass streams the file in chunks: every row is checked, and the good ones go into a
temporary staging table (PostgreSQL COPY, SQLite executemany). Duplicates are found in SQL
over the staging table. Only when no row is bad does one transaction move the rows into the
incident table (INSERT … SELECT, case numbers reserved in bulk); a cancel or any error leaves
the incident table as it was. Memory stays flat: no model instances, no list of all rows.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import heapq
import hmac
import io
import logging
import re
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fengqiao.accounts.access import scope_for
from fengqiao.areas.geo import grid_index
from fengqiao.areas.imports import cell_text, check_upload
from fengqiao.areas.models import Area
from fengqiao.core.audit import audit_record
from fengqiao.core.casenumbers import case_numbers_reserve
from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.pii import encrypt, normalize_phone
from fengqiao.incidents.choices import Disposition, Linkage, Source
from fengqiao.incidents.models import ImportJob, ImportStatus, Incident, IncidentCategory
from fengqiao.incidents.repeats import address_key

log = logging.getLogger("fengqiao.incidents.imports")

PREFIX = "JQ"
CHUNK = 5000
# The errors kept on the job (the page and the API show them); all go to the error CSV.
STORED_ERRORS = 1000
ENCODINGS = {"utf-8": "UTF-8", "gb18030": "GBK / GB18030", "big5": "Big5", "utf-16": "UTF-16"}

# Field -> label shown on the mapping form and in the error report.
FIELDS: dict[str, Any] = {
    "external_id": gettext_lazy("接警单号"),
    "reported_at": gettext_lazy("报警时间"),
    "occurred_at": gettext_lazy("发生时间"),
    "category": gettext_lazy("警情类别"),
    "source": gettext_lazy("警情来源"),
    "address": gettext_lazy("地址"),
    "lng": gettext_lazy("经度"),
    "lat": gettext_lazy("纬度"),
    "grid": gettext_lazy("网格"),
    "caller_name": gettext_lazy("报警人"),
    "caller_phone": gettext_lazy("报警电话"),
    "narrative": gettext_lazy("简要警情"),
    "team": gettext_lazy("处警队伍"),
    "dispatched_at": gettext_lazy("派警时间"),
    "arrived_at": gettext_lazy("到场时间"),
    "closed_at": gettext_lazy("处结时间"),
    "disposition": gettext_lazy("处置结果"),
    "linkage": gettext_lazy("联动单位"),
    "disposition_note": gettext_lazy("处置情况"),
}
REQUIRED = ("reported_at", "category", "narrative")

# Header as 110 systems and officials write it (folded) -> field.
HEADERS: dict[str, str] = {
    **dict.fromkeys(
        ["接警单号", "警情编号", "警情单号", "接警编号", "报警编号", "externalid"], "external_id"
    ),
    **dict.fromkeys(["报警时间", "接警时间", "reportedat"], "reported_at"),
    **dict.fromkeys(["发案时间", "发生时间", "案发时间", "事发时间", "occurredat"], "occurred_at"),
    **dict.fromkeys(
        ["警情类别", "类别代码", "警情类别代码", "警情类型", "类别", "category"], "category"
    ),
    **dict.fromkeys(["来源", "警情来源", "报警方式", "接警方式", "source"], "source"),
    **dict.fromkeys(["地址", "发案地址", "事发地址", "发生地址", "案发地址", "address"], "address"),
    **dict.fromkeys(["经度", "lng", "lon", "longitude"], "lng"),
    **dict.fromkeys(["纬度", "lat", "latitude"], "lat"),
    **dict.fromkeys(["网格", "网格编码", "所属网格", "grid"], "grid"),
    **dict.fromkeys(["报警人", "报警人姓名", "callername"], "caller_name"),
    **dict.fromkeys(["联系电话", "报警电话", "报警人电话", "callerphone"], "caller_phone"),
    **dict.fromkeys(["简要警情", "警情内容", "报警内容", "简要案情", "narrative"], "narrative"),
    **dict.fromkeys(["处警队伍", "处警单位", "team"], "team"),
    **dict.fromkeys(["派警时间", "dispatchedat"], "dispatched_at"),
    **dict.fromkeys(["到场时间", "到达时间", "arrivedat"], "arrived_at"),
    **dict.fromkeys(["处结时间", "结警时间", "反馈时间", "closedat"], "closed_at"),
    **dict.fromkeys(["处置结果", "处理结果", "disposition"], "disposition"),
    **dict.fromkeys(["联动单位", "移交单位", "linkage"], "linkage"),
    **dict.fromkeys(["处置情况", "处警情况", "dispositionnote"], "disposition_note"),
}

_SOURCES: dict[str, str] = {
    **{s.value: s.value for s in Source},
    **{str(s.label).replace(" ", ""): s.value for s in Source},
    **dict.fromkeys(["110", "110指令", "110报警", "指令"], Source.DISPATCH_110),
    **dict.fromkeys(["来所", "来所报警", "走访报警"], Source.WALK_IN),
    **dict.fromkeys(["电话", "电话报警", "所内电话"], Source.PHONE),
    **dict.fromkeys(["视频", "视频巡查", "视频发现"], Source.VIDEO),
    **dict.fromkeys(["群众线索", "志愿者线索", "群众/志愿者线索", "线索"], Source.VOLUNTEER),
    **dict.fromkeys(["巡逻", "巡逻发现"], Source.PATROL),
}
_DISPOSITIONS: dict[str, str] = {
    **{d.value: d.value for d in Disposition},
    **{str(d.label): d.value for d in Disposition},
    **dict.fromkeys(["当场处置", "现场调解", "已处置"], Disposition.ON_SPOT),
    **dict.fromkeys(["刑事案件", "受理刑事案件"], Disposition.CRIMINAL_CASE),
    **dict.fromkeys(["行政案件", "受理行政案件"], Disposition.ADMIN_CASE),
    **dict.fromkeys(["纠纷", "矛盾纠纷", "转纠纷"], Disposition.DISPUTE),
    **dict.fromkeys(["移交", "联动", "转联动单位"], Disposition.REFERRED),
    **dict.fromkeys(["无效", "无效报警"], Disposition.INVALID),
}
_LINKAGES: dict[str, str] = {
    **{x.value: x.value for x in Linkage},
    **{str(x.label).replace(" ", ""): x.value for x in Linkage},
    **dict.fromkeys(["120", "急救"], Linkage.MEDICAL_120),
    **dict.fromkeys(["119", "消防"], Linkage.FIRE_119),
    **dict.fromkeys(["劳动", "人社"], Linkage.LABOUR),
    **dict.fromkeys(["城管", "市政"], Linkage.MUNICIPAL),
    **dict.fromkeys(["民政"], Linkage.CIVIL_AFFAIRS),
}

_HEADER_NOISE = re.compile(r"[\s*＊:：_\-]")
_HEADER_NOTE = re.compile(r"[（(].*$")
_TIME = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})(?:\.\d+)?秒?)?)?$"
)
_TIME14 = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$")
_SPACE = re.compile(r"\s+")
# A clock a few minutes fast at the 110 centre is not an error.
_FUTURE_SLACK = timedelta(minutes=5)


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


@dataclass(frozen=True, order=True)
class RowError:
    """One problem: the row as the user sees it in the file, the column header, the message."""

    row: int
    column: str
    message: str


# --- reading the file -------------------------------------------------------------------


def fold_header(text: str) -> str:
    """Return a header folded for matching: no spaces, stars, colons or notes in brackets."""
    return _HEADER_NOTE.sub("", _HEADER_NOISE.sub("", text or "")).lower()


def propose_mapping(header: list[str]) -> dict[str, str]:
    """Return field -> header for every column whose name a 110 export is known to use."""
    mapping: dict[str, str] = {}
    for text in header:
        key = HEADERS.get(fold_header(text))
        if key is not None and key not in mapping:
            mapping[key] = text
    return mapping


def detect_encoding(path: Path, chosen: str = "") -> tuple[str, int]:
    """Return (encoding, line count) of a CSV checked strictly over the whole file.

    UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK, what Excel for Chinese
    Windows writes). `chosen` skips the guess; a file that neither decodes raises, so the user
    picks the encoding.
    """
    with path.open("rb") as fh:
        head = fh.read(4)
    if chosen:
        candidates = [chosen]
    elif head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        lines, last = 0, b"\n"
        try:
            with path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    decoder.decode(block)
                    lines += block.count(b"\n")
                    last = block[-1:]
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            if chosen:
                raise ValidationFailed(
                    _("文件不能按所选编码（%(enc)s）完整解码，请选择其他编码或另存为 UTF-8。")
                    % {"enc": ENCODINGS.get(chosen, chosen)},
                    code="encoding_mismatch",
                    fields={"encoding": [_("所选编码无法解码该文件")]},
                ) from None
            continue
        # The last line may lack its newline; a multi-line cell makes this an estimate.
        return encoding, lines + (last != b"\n")
    raise ValidationFailed(
        _("无法自动识别 CSV 文件的编码（既不是 UTF-8，也不是 GBK）。请选择文件的编码后重新上传。"),
        code="encoding_unknown",
        fields={"encoding": [_("请选择文件编码")]},
    )


def _csv_records(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding=encoding, errors="strict", newline="") as fh:
        first = fh.readline()
        fh.seek(0)
        # Excel's "Unicode text" is tab-separated; its "CSV" uses commas.
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        reader = csv.reader(fh, delimiter=delimiter)
        line = 0
        try:
            for cells in reader:
                line += 1
                yield line, cells
        except csv.Error as exc:
            raise ValidationFailed(
                _("CSV 文件格式错误（第 %(line)d 行）：请检查引号是否成对、是否含有空字符。")
                % {"line": line + 1},
                code="bad_csv",
                fields={"file": [_("CSV 格式错误")]},
            ) from exc
        except UnicodeDecodeError as exc:
            raise ValidationFailed(
                _("第 %(line)d 行附近的内容无法按 %(enc)s 解码。")
                % {"line": line + 1, "enc": ENCODINGS.get(encoding, encoding)},
                code="encoding_mismatch",
                fields={"encoding": [_("所选编码无法解码该文件")]},
            ) from exc


def _xlsx_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # read_only streams the sheet XML instead of building every cell in memory.
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise ValidationFailed(
            _("无法读取这个 Excel 文件，请确认是 .xlsx 格式。"),
            code="bad_xlsx",
            fields={"file": [_("文件无法读取")]},
        ) from exc
    try:
        sheet = book.worksheets[0]
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [cell_text(v) for v in row]
    finally:
        book.close()


def xlsx_rows(path: Path) -> int:
    """Return the row count an XLSX declares (its dimension), 0 when it does not say."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception:
        return 0
    try:
        return int(book.worksheets[0].max_row or 0)
    finally:
        book.close()


def records(path: Path, file_format: str, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number as the user sees it, cells) for every record of the file."""
    if file_format == "xlsx":
        return _xlsx_records(path)
    return _csv_records(path, encoding)


def read_header(path: Path, file_format: str, encoding: str) -> tuple[int, list[str]]:
    """Return (row number, cells) of the header: the first record with any text."""
    for line, cells in records(path, file_format, encoding):
        cells = [c.strip() for c in cells]
        if any(cells):
            return line, cells
    raise ValidationFailed(
        _("文件中没有表头。"), code="no_header", fields={"file": [_("没有表头")]}
    )


def check_mapping(mapping: dict[str, str], header: list[str]) -> dict[str, str]:
    """Return the mapping without blanks, or refuse unknown fields, absent headers, gaps."""
    cleaned = {k: v for k, v in mapping.items() if v}
    problems: dict[str, list[str]] = {}
    for key, column in cleaned.items():
        if key not in FIELDS:
            problems.setdefault(key, []).append(_("未知的字段：%(f)s") % {"f": key})
        elif column not in header:
            problems.setdefault(key, []).append(
                _("文件中没有名为“%(col)s”的列。") % {"col": column}
            )
    for key in REQUIRED:
        if key not in cleaned:
            problems.setdefault(key, []).append(
                _("必须指定“%(label)s”对应的列。") % {"label": FIELDS[key]}
            )
    has_point = "lat" in cleaned and "lng" in cleaned
    if not has_point and "grid" not in cleaned:
        problems.setdefault("lat", []).append(_("须指定经纬度两列，或指定网格列。"))
    if ("lat" in cleaned) != ("lng" in cleaned):
        problems.setdefault("lng", []).append(_("经度和纬度须同时指定。"))
    if problems:
        raise ValidationFailed(
            _("列对应不完整：%(msgs)s")
            % {"msgs": "；".join(m for ms in problems.values() for m in ms)},
            code="bad_mapping",
            fields=problems,
        )
    return cleaned


# --- the job's life: create, confirm, cancel -------------------------------------------


def import_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "incident_imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_stations(user: Any) -> list[Area]:
    """Return the stations where the user may import incidents."""
    scope = scope_for(user, "incident.import")
    qs = Area.objects.filter(kind="station").order_by("path")
    if not scope.everything:
        qs = qs.filter(pk__in=sorted(scope.station_ids))
    return list(qs)


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


def errors_path(job: ImportJob) -> Path:
    """Return where the job's full error report (CSV) is kept."""
    return import_dir() / f"errors-{job.pk}.csv"


# --- validating a row -------------------------------------------------------------------

_T2S: dict[int, str] | None = None
_TRADITIONAL: re.Pattern[str] | None = None


def _t2s_table() -> dict[int, str]:
    """Return traditional -> simplified for single characters, built once from OpenCC.

    core.text.to_simplified costs about 50 µs a narrative (OpenCC per call); a million rows
    would spend a minute there. str.translate with the same character map costs about 1 µs.
    """
    global _T2S
    if _T2S is None:
        from opencc import OpenCC

        chars = [chr(c) for c in (*range(0x3400, 0xA000), *range(0xF900, 0xFB00))]
        converted = OpenCC("t2s").convert("\n".join(chars)).split("\n")
        table: dict[int, str] = {}
        if len(converted) == len(chars):
            for src, dst in zip(chars, converted, strict=True):
                if dst != src and len(dst) == 1:
                    table[ord(src)] = dst
        _T2S = table
    return _T2S


def _traditional() -> re.Pattern[str]:
    """Return a pattern matching any character the t2s table changes."""
    global _TRADITIONAL
    if _TRADITIONAL is None:
        _TRADITIONAL = re.compile("[" + "".join(re.escape(chr(c)) for c in _t2s_table()) + "]")
    return _TRADITIONAL


def fold_text(text: str) -> str:
    """Return text folded as core.text.to_simplified folds it (character by character)."""
    # Most 110 text is simplified already: a regex scan costs a tenth of the translate.
    if _traditional().search(text):
        text = text.translate(_t2s_table())
    return _SPACE.sub(" ", text).strip().lower()


def _phone_digest() -> Callable[[str], str]:
    """Return phone -> the digest repeats.caller_index gives, with the HMAC key set up once."""
    key = hashlib.sha256(
        ("fengqiao-blind:" + settings.FENGQIAO_FIELD_KEY.split(",")[0]).encode()
    ).digest()
    base = hmac.new(key, b"party_phone:", hashlib.sha256)

    def digest(phone: str) -> str:
        value = normalize_phone(phone)
        if not value:
            return ""
        h = base.copy()
        h.update(value.encode())
        return h.hexdigest()[:32]

    return digest


def parse_time(text: str, tz: Any) -> datetime | None:
    """Return a local time from 2025-03-01 08:15[:22], 2025/3/1 8:15, 20250301081522 …"""
    value = parse_local(text, tz)
    return None if value is None else value.replace(tzinfo=tz)


def parse_local(text: str, tz: Any) -> datetime | None:
    """Return the wall-clock time in `tz` (naive) that parse_time reads from the text."""
    # Naive times compare and print several times faster than aware ones: the checker works
    # in the station's wall clock, and the database converts once (Stage.at).
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        m = _TIME.match(text) or _TIME14.match(text)
        if m is None:
            return None
        y, mo, d, h, mi, sec = (int(p) if p else 0 for p in m.groups())
        try:
            value = datetime(y, mo, d, h, mi, sec)
        except ValueError:
            return None
    if value.tzinfo is not None:
        return value.astimezone(tz).replace(tzinfo=None)
    return value


STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("line", "bigint"),
    ("external_id", "text"),
    ("source", "text"),
    ("category_id", "bigint"),
    ("class_code", "text"),
    ("reported_at", "ts"),
    ("occurred_at", "ts"),
    ("address", "text"),
    ("address_key", "text"),
    ("lat", "double precision"),
    ("lng", "double precision"),
    ("area_id", "bigint"),
    ("community_id", "bigint"),
    ("narrative", "text"),
    ("caller_name", "text"),
    ("caller_phone", "text"),
    ("caller_bidx", "text"),
    ("team", "text"),
    ("dispatched_at", "ts"),
    ("arrived_at", "ts"),
    ("closed_at", "ts"),
    ("disposition", "text"),
    ("linkage", "text"),
    ("disposition_note", "text"),
    ("valid", "boolean"),
    ("search_text", "text"),
    ("year", "integer"),
)
_AREA, _COMMUNITY = 11, 12
_TIMES = ("dispatched_at", "arrived_at", "closed_at")


@dataclass
class Checker:
    """Turns one record into a staging row, or into row errors; knows the station."""

    station_id: int
    columns: dict[str, int]
    labels: dict[str, str]
    keep_callers: bool
    pg: bool
    tz: Any = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))
    now: datetime = field(default_factory=timezone.now)
    categories: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    grids: dict[str, tuple[int, int]] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for pk, code, name, class_code in IncidentCategory.objects.values_list(
            "id", "code", "name", "class_code"
        ):
            self.categories.setdefault(code, (pk, class_code, name))
            self.categories.setdefault(name, (pk, class_code, name))
        for pk, code, name, parent in Area.objects.filter(
            station_id=self.station_id, kind="grid"
        ).values_list("id", "code", "name", "parent_id"):
            self.grids.setdefault(code, (pk, parent))
            self.grids.setdefault(name, (pk, parent))
        self.parents = {pk: parent for pk, parent in self.grids.values()}
        self.phone = _phone_digest()
        self.index = grid_index(self.station_id)
        _traditional()
        # The checks compare wall-clock times in the station's zone (see parse_local).
        self.now_local = self.now.astimezone(self.tz).replace(tzinfo=None)
        # Cells by position in one C-level call instead of a dict comprehension per row.
        self.keys = tuple(self.columns)
        self.width = max(self.columns.values(), default=-1) + 1
        positions = tuple(self.columns.values())
        self.pick: Callable[[list[str]], tuple[str, ...]] = (
            itemgetter(*positions) if len(positions) > 1 else lambda c: (c[positions[0]],)
        )

    def label(self, key: str) -> str:
        return self.labels.get(key) or str(FIELDS[key])

    def ts(self, value: datetime | None) -> Any:
        """Return a wall-clock time as the staging table takes it: the same text for
        PostgreSQL (a timestamp the insert converts; COPY takes text three times faster than
        a datetime), UTC text for SQLite (as Django stores it)."""
        if value is None:
            return None
        if self.pg:
            return str(value)
        return str(value.replace(tzinfo=self.tz).astimezone(UTC).replace(tzinfo=None))

    def _time(self, key: str, text: str, errors: list[RowError], line: int) -> datetime | None:
        if not text:
            return None
        value = parse_local(text, self.tz)
        if value is None:
            errors.append(
                RowError(
                    line,
                    self.label(key),
                    _("无法识别的时间：%(v)s（应如 2025-03-01 08:15:00）") % {"v": text[:40]},
                )
            )
        return value

    def _code(
        self,
        key: str,
        text: str,
        table: dict[str, str],
        default: str,
        errors: list[RowError],
        line: int,
    ) -> str:
        if not text:
            return default
        value = table.get(text.replace(" ", ""))
        if value is None:
            errors.append(
                RowError(
                    line,
                    self.label(key),
                    _("无法识别的%(label)s：%(v)s") % {"label": FIELDS[key], "v": text[:40]},
                )
            )
            return default
        return value

    def row(self, line: int, cells: list[str]) -> tuple[list[Any] | None, list[RowError]]:
        """Return (staging row, []) or (None, the row's errors)."""
        n = len(cells)
        if n >= self.width:
            v = dict(zip(self.keys, map(str.strip, self.pick(cells)), strict=True))
        else:
            v = {k: (cells[i].strip() if i < n else "") for k, i in self.columns.items()}
        get = v.get
        errors: list[RowError] = []
        for key in REQUIRED:
            if not get(key):
                errors.append(
                    RowError(
                        line, self.label(key), _("%(label)s不能为空。") % {"label": FIELDS[key]}
                    )
                )
        reported = self._time("reported_at", get("reported_at", ""), errors, line)
        if reported is not None and reported > self.now_local + _FUTURE_SLACK:
            errors.append(RowError(line, self.label("reported_at"), _("报警时间晚于当前时间。")))
        occurred = self._time("occurred_at", get("occurred_at", ""), errors, line)
        if occurred is not None and reported is not None and occurred > reported:
            errors.append(
                RowError(
                    line,
                    self.label("occurred_at"),
                    _("发生时间（%(o)s）晚于报警时间（%(r)s）。")
                    % {"o": get("occurred_at"), "r": get("reported_at")},
                )
            )
        # Received, dispatched, on scene, closed: each step's time is not before the last one.
        steps: list[tuple[str, datetime]] = [("reported_at", reported)] if reported else []
        times: dict[str, datetime | None] = {}
        for key in _TIMES:
            value = self._time(key, get(key, ""), errors, line)
            times[key] = value
            if value is None:
                continue
            if steps and value < steps[-1][1]:
                errors.append(
                    RowError(
                        line,
                        self.label(key),
                        _("%(this)s早于%(prev)s：状态变化的顺序不对（接警→派警→到场→处结）。")
                        % {"this": FIELDS[key], "prev": FIELDS[steps[-1][0]]},
                    )
                )
            steps.append((key, value))
        text = get("category", "")
        category = self.categories.get(text)
        if text and category is None:
            errors.append(
                RowError(
                    line,
                    self.label("category"),
                    _("未知的警情类别：%(v)s（须为 110 警情类别的编码或名称）。")
                    % {"v": text[:40]},
                )
            )
        source = self._code(
            "source", get("source", ""), _SOURCES, Source.DISPATCH_110, errors, line
        )
        disposition = self._code(
            "disposition", get("disposition", ""), _DISPOSITIONS, "", errors, line
        )
        linkage = self._code("linkage", get("linkage", ""), _LINKAGES, "", errors, line)
        external_id, address, team = get("external_id", ""), get("address", ""), get("team", "")
        for key, given, limit in (
            ("external_id", external_id, 40),
            ("address", address, 200),
            ("team", team, 60),
        ):
            if len(given) > limit:
                errors.append(
                    RowError(
                        line,
                        self.label(key),
                        _("%(label)s超过 %(n)d 个字。") % {"label": FIELDS[key], "n": limit},
                    )
                )
        lat = lng = None
        area: tuple[int, int] | None = None
        lat_text, lng_text = get("lat", ""), get("lng", "")
        if lat_text or lng_text:
            try:
                lat, lng = float(lat_text), float(lng_text)
                if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                    raise ValueError
            except ValueError:
                lat = lng = None
                errors.append(
                    RowError(
                        line,
                        f"{self.label('lat')}/{self.label('lng')}",
                        _("经纬度不正确：%(lat)s, %(lng)s。")
                        % {"lat": lat_text[:20], "lng": lng_text[:20]},
                    )
                )
        elif grid := get("grid", ""):
            area = self.grids.get(grid)
            if area is None:
                errors.append(
                    RowError(
                        line, self.label("grid"), _("本所没有这个网格：%(v)s。") % {"v": grid[:40]}
                    )
                )
        else:
            errors.append(RowError(line, self.label("lat"), _("缺少位置：须填写经纬度或网格。")))
        if errors or reported is None or category is None:
            return None, errors
        occurred = occurred or reported
        closed = times["closed_at"] or steps[-1][1]
        folded = self.addresses.get(address)
        if folded is None:
            if len(self.addresses) > 200_000:
                self.addresses.clear()
            folded = self.addresses[address] = address_key(address)
        name, phone = get("caller_name", ""), get("caller_phone", "")
        if self.keep_callers:
            caller_name = encrypt(name) if name else ""
            caller_phone = encrypt(normalize_phone(phone)) if phone else ""
        else:
            caller_name = caller_phone = ""
        narrative = get("narrative", "")
        return [
            line,
            external_id,
            source,
            category[0],
            category[1],
            self.ts(reported),
            self.ts(occurred),
            address,
            folded,
            lat,
            lng,
            area[0] if area else None,
            area[1] if area else None,
            narrative,
            caller_name,
            caller_phone,
            self.phone(phone) if phone else "",
            team,
            self.ts(times["dispatched_at"]),
            self.ts(times["arrived_at"]),
            self.ts(closed),
            disposition,
            linkage,
            get("disposition_note", ""),
            disposition != Disposition.INVALID,
            fold_text(" ".join(p for p in (external_id, category[2], address, narrative) if p)),
            reported.year,
        ], []

    def locate(self, rows: list[list[Any]], errors: list[RowError]) -> list[list[Any]]:
        """Fill the grid of the rows with a point (one vectorised pass); drop those outside."""
        pointed = [r for r in rows if r[_AREA] is None]
        if not pointed:
            return rows
        found = self.index.locate_many([r[10] for r in pointed], [r[9] for r in pointed])
        where = f"{self.label('lat')}/{self.label('lng')}"
        outside: set[int] = set()
        for r, grid_id in zip(pointed, found.tolist(), strict=True):
            if grid_id < 0:
                errors.append(
                    RowError(
                        r[0],
                        where,
                        _("位置（%(lat).6f, %(lng).6f）不在本所辖区的任何网格内。")
                        % {"lat": r[9], "lng": r[10]},
                    )
                )
                outside.add(r[0])
            else:
                r[_AREA], r[_COMMUNITY] = grid_id, self.parents[grid_id]
        return [r for r in rows if r[0] not in outside] if outside else rows


# --- loading ------------------------------------------------------------------------------


class Stage:
    """A temporary table holding the checked rows until they all go in at once."""

    def __init__(self, job_id: int) -> None:
        self.pg = connection.vendor == "postgresql"
        self.table = f"fq_incident_import_{job_id}"
        self.flags = f"{self.table}_flags"
        self.marked = f"{self.table}_near"
        self.zone = str(settings.TIME_ZONE).replace("'", "''")
        self.names = ", ".join(name for name, _t in STAGE_COLUMNS)

    def at(self, column: str) -> str:
        """Return SQL of a staged wall-clock time as a timestamptz (PostgreSQL), or the
        column as it is (SQLite stages UTC text)."""
        return f"({column} AT TIME ZONE '{self.zone}')" if self.pg else column

    def create(self) -> None:
        ts = "timestamp" if self.pg else "text"
        cols = ", ".join(f"{n} {ts if t == 'ts' else t}" for n, t in STAGE_COLUMNS)
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.table}")
            cur.execute(f"CREATE TEMPORARY TABLE {self.table} ({cols})")

    def write(self, rows: list[list[Any]]) -> None:
        if not rows:
            return
        with connection.cursor() as cur:
            if self.pg:
                # psycopg 3's COPY protocol: no statement per row, no parameter limits.
                with cur.cursor.copy(f"COPY {self.table} ({self.names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(STAGE_COLUMNS))
                sql = f"INSERT INTO {self.table} ({self.names}) VALUES ({marks})"  # noqa: S608
                cur.executemany(sql, rows)

    def drop(self) -> None:
        try:
            with connection.cursor() as cur:
                for table in (self.table, self.flags, self.marked):
                    cur.execute(f"DROP TABLE IF EXISTS {table}")
        except Exception:
            log.warning("Could not drop %s", self.table, exc_info=True)

    def duplicates(self, station_id: int, column: str) -> Iterator[RowError]:
        """Yield, in row order, the rows whose 接警单号 an earlier row or the station has."""
        incident = Incident._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                "SELECT line, first FROM (SELECT line, MIN(line) OVER (PARTITION BY external_id)"  # noqa: S608
                f" AS first FROM {self.table} WHERE external_id <> '') d WHERE line > first"
                " ORDER BY line"
            )
            within = [
                RowError(line, column, _("接警单号与第 %(row)d 行重复。") % {"row": first})
                for line, first in cur.fetchall()
            ]
            cur.execute(
                f"SELECT s.line, s.external_id FROM {self.table} s JOIN {incident} i"  # noqa: S608
                " ON i.station_id = %s AND i.external_id = s.external_id"
                " WHERE s.external_id <> '' ORDER BY s.line",
                [station_id],
            )
            stored = [
                RowError(line, column, _("本所已有接警单号为 %(id)s 的警情。") % {"id": ext})
                for line, ext in cur.fetchall()
            ]
        yield from heapq.merge(within, stored)

    def span(self) -> tuple[dict[int, int], Any, Any]:
        """Return (rows per year, first reported_at, last reported_at)."""
        with connection.cursor() as cur:
            cur.execute(f"SELECT year, COUNT(*) FROM {self.table} GROUP BY year")  # noqa: S608
            years = {int(y): int(n) for y, n in cur.fetchall()}
            reported = self.at("reported_at")
            cur.execute(f"SELECT MIN({reported}), MAX({reported}) FROM {self.table}")  # noqa: S608
            first, last = cur.fetchone()
        return years, first, last

    def insert(self, *, job: ImportJob, bases: dict[int, int], user_id: int | None) -> int:
        """Move every staged row into the incident table, numbered; return the count."""
        base = " ".join(f"WHEN {int(y)} THEN {int(b) - 1}" for y, b in bases.items())
        if self.pg:
            num = "lpad(q.n::text, greatest(6, length(q.n::text)), '0')"
            year = "q.year::text"
        else:
            num = "printf('%%06d', q.n)"
            year = "CAST(q.year AS TEXT)"
        number = f"'{PREFIX}-' || {year} || '-' || {num}"
        at = self.at
        if self.pg:
            # The flags were counted in the staging area (flag): each row is written once.
            # No ORDER BY: sorting a million wide rows spilled twice to disk; the hash joins
            # on the narrow tables keep the staging table's order, which is the file's.
            flags = "f.repeat_address, f.repeat_caller, f.repeat_reasons"
            join, order = f"JOIN {self.flags} f ON f.line = s.line", ""
        else:
            flags, join, order = "FALSE, FALSE, '[]'", "", "ORDER BY s.line"
        search = f"'{PREFIX.lower()}-' || {year} || '-' || {num} || ' ' || s.search_text"
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cols = (
            "created_at, updated_at, created_by_id, updated_by_id, station_id, community_id,"
            " area_id, case_number, external_id, source, category_id, class_code, reported_at,"
            " occurred_at, address, address_key, lat, lng, narrative, caller_name, caller_phone,"
            " caller_bidx, status, team, dispatched_at, arrived_at, closed_at, disposition,"
            " linkage, disposition_note, valid, repeat_address, repeat_caller, repeat_reasons,"
            " intake_key, search_text, version, import_job_id"
        )
        sql = (
            f"INSERT INTO {Incident._meta.db_table} ({cols}) "  # noqa: S608
            f"SELECT %s, %s, %s, %s, %s, s.community_id, s.area_id, {number}, s.external_id,"
            f" s.source, s.category_id, s.class_code, {at('s.reported_at')},"
            f" {at('s.occurred_at')}, s.address,"
            " s.address_key, s.lat, s.lng, s.narrative, s.caller_name, s.caller_phone,"
            f" s.caller_bidx, 'closed', s.team, {at('s.dispatched_at')}, {at('s.arrived_at')},"
            f" {at('s.closed_at')},"
            f" s.disposition, s.linkage, s.disposition_note, s.valid, {flags}, '',"
            f" {search}, 1, %s"
            # The numbers are counted over (line, year) alone: a narrow sort, not the rows'.
            f" FROM {self.table} s JOIN (SELECT line, year, (CASE year {base} END)"
            " + ROW_NUMBER() OVER (PARTITION BY year ORDER BY line) AS n"
            f" FROM {self.table}) q ON q.line = s.line {join} {order}"
        )
        with connection.cursor() as cur:
            cur.execute(sql, [now, now, user_id, user_id, job.station_id, job.pk])
            return int(cur.rowcount)

    def tune(self) -> None:
        """Prepare the load's transaction (PostgreSQL): statistics for the staging table,
        memory for its sorts and hashes, and no JIT (it compiled for seconds, for nothing)."""
        if not self.pg:
            return
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {self.table}")
            cur.execute("SET LOCAL work_mem = '256MB'")
            cur.execute("SET LOCAL jit = off")

    def flag(self, station_id: int) -> int:
        """Compute the repeat flags of the staged rows (PostgreSQL) and mark the stored
        incidents whose window reaches into the span; return how many are marked."""
        from fengqiao.incidents.import_repeats import neighbours_mark, stage_flags

        stage_flags(
            stage=self.table,
            reported=self.at("reported_at"),
            station_id=station_id,
            into=self.flags,
        )
        return neighbours_mark(
            stage=self.table,
            reported=self.at("reported_at"),
            station_id=station_id,
            into=self.marked,
        )


@dataclass
class Outcome:
    """What one run found: counts, the span loaded, the first errors."""

    rows: int = 0
    imported: int = 0
    problems: int = 0
    bad_rows: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    first: Any = None
    last: Any = None


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


class ErrorReport:
    """Collects row errors: all to a CSV file, the first few on the job, counts of both."""

    def __init__(self, job: ImportJob) -> None:
        self.path = errors_path(job)
        self.tmp = self.path.with_suffix(".part")
        self.fh = self.tmp.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.fh)
        self.count = 0

    def add(self, errors: list[RowError]) -> None:
        for e in errors:
            self.writer.writerow((e.row, e.column, e.message))
        self.count += len(errors)

    def finish(self, extra: Iterator[RowError]) -> tuple[int, int, list[dict[str, Any]]]:
        """Merge the SQL-found errors in row order; return (problems, bad rows, first ones)."""
        self.fh.close()
        kept: list[dict[str, Any]] = []
        rows: set[int] = set()
        problems = 0
        with (
            self.tmp.open(encoding="utf-8", newline="") as src,
            self.path.open("w", encoding="utf-8-sig", newline="") as out,
        ):
            writer = csv.writer(out)
            writer.writerow([_("行号"), _("列"), _("问题")])
            streamed = (RowError(int(r), c, m) for r, c, m in csv.reader(src))
            for e in heapq.merge(streamed, extra, key=lambda x: x.row):
                writer.writerow((e.row, e.column, e.message))
                problems += 1
                rows.add(e.row)
                if len(kept) < STORED_ERRORS:
                    kept.append({"row": e.row, "column": e.column, "message": e.message})
        self.tmp.unlink(missing_ok=True)
        if not problems:
            self.path.unlink(missing_ok=True)
        return problems, len(rows), kept

    def discard(self) -> None:
        self.fh.close()
        self.tmp.unlink(missing_ok=True)


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
