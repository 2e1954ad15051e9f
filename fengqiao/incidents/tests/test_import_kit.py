"""Helpers for the import tests: 110-export rows as CSV (UTF-8, BOM, GBK) or XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from fengqiao.factories import Jurisdiction
from fengqiao.incidents.imports import import_create, import_run
from fengqiao.incidents.models import ImportJob

HEADER = [
    "接警单号",
    "报警时间",
    "发案时间",
    "警情类别",
    "地址",
    "经度",
    "纬度",
    "报警人",
    "联系电话",
    "简要警情",
    "处置结果",
    "来源",
]


def row(i: int, **over: str) -> dict[str, str]:
    """Return one good row of a 110 export inside grid 0 of the test station."""
    base = {
        "接警单号": f"110-{i:06d}",
        "报警时间": f"2026-03-01 08:{i % 60:02d}:00",
        "发案时间": f"2026-03-01 07:{i % 60:02d}:00",
        "警情类别": "100101",
        "地址": "枫桥路1号",
        "经度": "112.905",
        "纬度": "28.205",
        "报警人": "张三",
        "联系电话": "13812345678",
        "简要警情": "報警稱家中被盜",
        "处置结果": "现场处置",
        "来源": "110",
    }
    base.update(over)
    return base


def rows(n: int, start: int = 1) -> list[dict[str, str]]:
    return [row(i) for i in range(start, start + n)]


def csv_bytes(
    data: list[dict[str, str]], encoding: str = "utf-8", header: list[str] | None = None
) -> bytes:
    out = io.StringIO(newline="")
    cols = header or HEADER
    writer = csv.writer(out)
    writer.writerow(cols)
    for r in data:
        writer.writerow([r.get(c, "") for c in cols])
    return out.getvalue().encode(encoding)


def xlsx_bytes(data: list[dict[str, str]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for r in data:
        sheet.append([r.get(c, "") for c in HEADER])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(
    j: Jurisdiction, data: bytes, *, name: str = "history.csv", actor: Any = "officer", **kw: Any
) -> ImportJob:
    """Create the job as the page's first step would (mapping proposed, not started)."""
    user = j.user(actor) if isinstance(actor, str) else actor
    return import_create(
        actor=user, station_id=j.station.pk, fh=io.BytesIO(data), name=name, size=len(data), **kw
    )


def run(j: Jurisdiction, data: bytes, *, name: str = "history.csv", **kw: Any) -> ImportJob:
    """Create, start and run an import in the foreground; return the job as stored."""
    job = upload(j, data, name=name, start=True, **kw)
    import_run(job_id=job.pk)
    return ImportJob.objects.get(pk=job.pk)


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
