"""Helpers for the place tests: spreadsheets in memory, and the roles of the permission matrix."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl

HEADER = ["名称", "类型", "地址", "纬度", "经度", "联系人", "联系电话", "备注"]

# Three good rows inside station S1 (see fengqiao.factories.jurisdiction).
GOOD_ROWS = [
    ["枫桥宾馆", "hotel", "枫桥路1号", 28.205, 112.905, "张三", "13812345678", ""],
    ["金园小卖部", "小商店", "金园路2号", 28.215, 112.915, "李四", "0731-88889999", "夜间营业"],
    ["雷锋网吧", "internet_cafe", "雷锋大道3号", 28.215, 112.905, "", "", ""],
]


def xlsx_bytes(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    """Return an XLSX workbook with the header and rows on its first sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8", header: list[str] = HEADER) -> bytes:
    """Return the rows as CSV text in the given encoding ("utf-8-sig" adds the BOM)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def login(client: Any, user: Any) -> Any:
    """Return the client logged in as `user` (None: stays anonymous)."""
    if user is not None:
        client.force_login(user)
    return client


def actor(role: str, j: Any, other: Any) -> Any:
    """Return the user for one row of the permission matrix."""
    if role == "anonymous":
        return None
    if role == "nobody":
        from fengqiao.factories import UserFactory

        return UserFactory(username="nobody")
    if role == "other_officer":
        return other.user("officer")
    return j.user(role)
