"""Import incident history, reading: encodings, records of CSV and XLSX, the header and
the column mapping."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fengqiao.areas.imports import xlsx_records
from fengqiao.core.errors import ValidationFailed

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

_HEADER_NOISE = re.compile(r"[\s*＊:：_\-]")
_HEADER_NOTE = re.compile(r"[（(].*$")


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
        return xlsx_records(path)
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
