"""Read a place list from XLSX or CSV with Chinese column headers; no validation, no writes.

The parser only turns a file into rows of text keyed by field name; the import service
validates every row and writes all of them or none.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fengqiao.core.errors import ValidationFailed

# Header (as officials type it) -> field. Aliases are the names other systems export.
HEADERS: dict[str, str] = {
    "名称": "name",
    "场所名称": "name",
    "类型": "kind",
    "场所类型": "kind",
    "地址": "address",
    "场所地址": "address",
    "纬度": "lat",
    "经度": "lng",
    "联系人": "contact_name",
    "联系电话": "contact_phone",
    "电话": "contact_phone",
    "备注": "notes",
}
# Field -> the header shown in the error report when a field's column is absent.
LABELS: dict[str, str] = {
    "name": "名称",
    "kind": "类型",
    "address": "地址",
    "lat": "纬度",
    "lng": "经度",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "notes": "备注",
}
REQUIRED = ("name", "kind", "address", "lat", "lng")
MAX_ROWS = 50_000
EXTENSIONS = {".xlsx": "xlsx", ".csv": "csv"}

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
_HEADER_NOISE = re.compile(r"[\s*＊:：]")
_HEADER_NOTE = re.compile(r"[（(].*$")


class UploadRefused(ValidationFailed):
    """The file as a whole cannot be imported: too big, wrong type, unreadable, no columns."""

    code = "upload_refused"


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in one cell: spreadsheet row number, column header, message in Chinese."""

    row: int
    column: str
    message: str


@dataclass(frozen=True)
class ImportRow:
    """One data row: its spreadsheet row number and its cells as text, keyed by field."""

    line: int
    values: dict[str, str]


@dataclass
class ParsedFile:
    """The rows of a file and the header each field was read from."""

    rows: list[ImportRow]
    columns: dict[str, str] = field(default_factory=dict)
    encoding: str = ""

    def column(self, key: str) -> str:
        """Return the header of a field as written in the file (for the report)."""
        return self.columns.get(key) or LABELS.get(key, key)


def _human_size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def check_upload(*, name: str, size: int, head: bytes = b"") -> str:
    """Return "xlsx" or "csv" for an acceptable upload, or refuse it with a clear message."""
    limit = int(settings.FENGQIAO_MAX_UPLOAD_BYTES)
    if size > limit:
        raise UploadRefused(
            _("文件太大（%(size)s），上限为 %(limit)s。请分批导入。")
            % {"size": _human_size(size), "limit": _human_size(limit)},
            fields={"file": [_("文件太大")]},
        )
    if size == 0:
        raise UploadRefused(_("文件是空的。"), fields={"file": [_("文件是空的")]})
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = EXTENSIONS.get(suffix)
    if head.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise UploadRefused(
            _("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入。"),
            fields={"file": [_("文件类型不支持")]},
        )
    if kind is None:
        raise UploadRefused(
            _("只能导入 .xlsx 或 .csv 文件。"), fields={"file": [_("文件类型不支持")]}
        )
    if head and kind == "xlsx" and not head.startswith(_ZIP_MAGIC):
        raise UploadRefused(
            _("文件扩展名是 .xlsx，但内容不是 Excel 工作簿。"),
            fields={"file": [_("文件内容与类型不符")]},
        )
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    binary = head.startswith(_ZIP_MAGIC) or (b"\x00" in head[:4096] and not utf16)
    if kind == "csv" and binary:
        raise UploadRefused(
            _("文件扩展名是 .csv，但内容不是文本表格。"),
            fields={"file": [_("文件内容与类型不符")]},
        )
    return kind


def cell_text(value: Any) -> str:
    """Return a cell as trimmed text; whole numbers lose the ".0" that Excel gives phones."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _header_key(text: str) -> str:
    return _HEADER_NOTE.sub("", _HEADER_NOISE.sub("", text))


def _rows(records: Iterable[tuple[int, list[str]]], parsed: ParsedFile) -> ParsedFile:
    """Find the header in the first non-blank record, then map every later record to fields."""
    positions: dict[int, str] = {}
    for line, cells in records:
        if not any(cells):
            continue
        if not positions:
            positions = _read_header(cells, parsed)
            continue
        values = {key: cells[i] if i < len(cells) else "" for i, key in positions.items()}
        parsed.rows.append(ImportRow(line=line, values=values))
        if len(parsed.rows) > MAX_ROWS:
            raise UploadRefused(
                _("单次最多导入 %(n)d 行，请拆分文件。") % {"n": MAX_ROWS},
                fields={"file": [_("行数过多")]},
            )
    if not positions:
        raise UploadRefused(_("文件中没有表头。"), fields={"file": [_("没有表头")]})
    return parsed


def _read_header(cells: list[str], parsed: ParsedFile) -> dict[int, str]:
    positions: dict[int, str] = {}
    for i, text in enumerate(cells):
        key = HEADERS.get(_header_key(text))
        if key is None:
            continue  # other columns (编号, 社区 ... from an export) are ignored
        if key in parsed.columns:
            raise UploadRefused(
                _("表头“%(col)s”重复出现。") % {"col": text},
                fields={"file": [_("表头重复")]},
            )
        parsed.columns[key] = text
        positions[i] = key
    missing = [LABELS[k] for k in REQUIRED if k not in parsed.columns]
    if missing:
        raise UploadRefused(
            _("缺少必需的列：%(cols)s。表头应包含：名称、类型、地址、纬度、经度。")
            % {"cols": pgettext("list separator", "、").join(missing)},
            fields={"file": [_("缺少必需的列")]},
        )
    return positions


def xlsx_records(fh: IO[bytes] | Path) -> Iterator[tuple[int, list[str]]]:
    """Yield (line, cell texts) of the first sheet, streamed; refuse a file that is not
    a readable .xlsx (UploadRefused, on the file field)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # read_only streams the sheet XML instead of building every cell object in memory.
        book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise UploadRefused(
            _("无法读取这个 Excel 文件，请确认是 .xlsx 格式。"),
            fields={"file": [_("文件无法读取")]},
        ) from exc
    try:
        sheet = book.worksheets[0]
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [cell_text(v) for v in row]
    finally:
        book.close()


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding): UTF-8 with or without BOM, UTF-16 with BOM, else GB18030/GBK."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312: what Excel for Chinese Windows writes.
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise UploadRefused(
            _("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码。"),
            fields={"file": [_("编码无法识别")]},
        ) from exc


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    first = text.split("\n", 1)[0]
    # Excel's "Unicode text" is tab-separated; its "CSV" uses commas.
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for line, cells in enumerate(reader, start=1):
            yield line, [c.strip() for c in cells]
    except csv.Error as exc:
        # Python's csv module explains in English; say what usually causes it instead.
        raise UploadRefused(
            _(
                "CSV 文件格式错误（第 %(line)d 行）：请检查引号是否成对、"
                "单元格是否过长、是否含有空字符。"
            )
            % {"line": reader.line_num},
            fields={"file": [_("CSV 格式错误")]},
        ) from exc


def read_places(fh: IO[bytes], *, name: str, size: int) -> ParsedFile:
    """Return the rows of an uploaded place list, or refuse the file as a whole."""
    head = fh.read(8192)
    fh.seek(0)
    kind = check_upload(name=name, size=size, head=head)
    if kind == "xlsx":
        return _rows(xlsx_records(fh), ParsedFile(rows=[], encoding="xlsx"))
    # The size was checked above, so reading the whole CSV is bounded.
    text, encoding = decode_text(fh.read(int(settings.FENGQIAO_MAX_UPLOAD_BYTES) + 1))
    return _rows(_csv_records(text), ParsedFile(rows=[], encoding=encoding))
