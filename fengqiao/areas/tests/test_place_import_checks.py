"""Place import rough edges: the example row, traditional kinds, masked phones, duplicates."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fengqiao.areas.geo import locate_point
from fengqiao.areas.imports import read_places
from fengqiao.areas.models import Place
from fengqiao.areas.services import place_import
from fengqiao.factories import place

from .places_kit import GOOD_ROWS, login, xlsx_bytes

pytestmark = pytest.mark.django_db


def _import(j, rows, actor=None):
    data = xlsx_bytes(rows)
    parsed = read_places(io.BytesIO(data), name="places.xlsx", size=len(data))
    return place_import(actor=actor, station_id=j.station.pk, parsed=parsed, source="places.xlsx")


def _messages(result) -> list[tuple[int, str]]:
    return [(e.row, e.message) for e in result.errors]


def test_the_example_row_lies_in_the_users_station(client, j, other):
    # given a chief of the second station, whose grids are far from any fixed example
    c = login(client, other.user("chief"))
    # when they open the import page
    html = c.get("/areas/places/import/").content.decode()
    # then the example's coordinates are a point inside one of their grids
    row = re.search(r"<td>枫桥路1号</td><td>([-\d.]+)</td><td>([-\d.]+)</td>", html)
    assert row, html
    grid = locate_point(station_id=other.station.pk, lat=float(row[1]), lng=float(row[2]))
    assert grid.station_id == other.station.pk


@pytest.mark.parametrize("kind", ["旅館", "HOTEL", " 旅馆 ", "小網吧"])
def test_kind_names_in_traditional_characters_or_capitals_are_accepted(j, kind):
    row = ["枫桥宾馆", kind, "枫桥路1号", 28.205, 112.905, "", "", ""]
    result = _import(j, [row])
    assert result.ok, _messages(result)
    assert Place.objects.get().kind.code in ("hotel", "internet_cafe")


def test_an_unknown_kind_is_quoted_as_typed(j):
    result = _import(j, [["枫桥宾馆", "太空港", "枫桥路1号", 28.205, 112.905, "", "", ""]])
    assert _messages(result) == [(2, "没有“太空港”这种场所类型。")]


def test_a_masked_phone_from_an_export_gets_a_clear_row_message(j):
    rows = [["枫桥宾馆", "hotel", "枫桥路1号", 28.205, 112.905, "张三", "138****5678", ""]]
    result = _import(j, rows)
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (2, "联系电话", "电话号码已脱敏（含*号），请填写完整号码或留空。")
    ]
    assert not Place.objects.exists()


def test_reimporting_the_same_file_is_refused_row_by_row(j):
    # given a file imported once
    assert _import(j, GOOD_ROWS).ok
    # when the same file is imported again
    result = _import(j, GOOD_ROWS)
    # then every row is a duplicate and nothing more is written
    assert _messages(result) == [(n, "已存在同名同地址的场所。") for n in (2, 3, 4)]
    assert {e.column for e in result.errors} == {"名称/地址"}
    assert Place.objects.count() == 3


def test_a_row_repeated_within_the_file_is_refused(j):
    place(j, name="老店", address="老街1号")
    rows = [
        GOOD_ROWS[0],
        GOOD_ROWS[1],
        # the same place again, in traditional characters and with extra spaces
        ["楓橋賓館", "hotel", "楓橋路1號 ", 28.205, 112.905, "", "", ""],
        ["老店", "hotel", "老街1号", 28.205, 112.905, "", "", ""],
        # the same name at another address is another place
        ["枫桥宾馆", "hotel", "枫桥路2号", 28.205, 112.905, "", "", ""],
    ]
    result = _import(j, rows)
    assert _messages(result) == [
        (4, "已存在同名同地址的场所（与第 2 行相同）。"),
        (5, "已存在同名同地址的场所。"),
    ]
    assert Place.objects.count() == 1


def test_a_place_of_another_station_is_no_duplicate(j, other):
    place(other, name="枫桥宾馆", address="枫桥路1号")
    assert _import(j, [GOOD_ROWS[0]]).ok


def test_an_exported_file_imports_back_with_clear_messages(client, j):
    # given places with phones, exported by the chief
    chief = j.user("chief")
    c = login(client, chief)
    assert _import(j, GOOD_ROWS).ok
    export = b"".join(c.get("/areas/places/export.xlsx").streaming_content)
    # when the export is uploaded again
    resp = c.post(
        "/areas/places/import/",
        {"station": j.station.pk, "file": SimpleUploadedFile("export.xlsx", export)},
    )
    # then each row says what is wrong: duplicates, and masked phones where there were phones
    report = resp.context["report"]
    messages = {(e.column, e.message) for e in report}
    assert ("名称/地址", "已存在同名同地址的场所。") in messages
    assert ("联系电话", "电话号码已脱敏（含*号），请填写完整号码或留空。") in messages
    assert "格式不正确" not in " ".join(m for _c, m in messages)
    assert Place.objects.count() == 3


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "宾馆>", "a<b"])
def test_a_name_with_markup_is_a_row_error(j, name):
    result = _import(j, [[name, "hotel", "枫桥路1号", 28.205, 112.905, "", "", ""]])
    assert [(e.column, e.message) for e in result.errors] == [("名称", "名称不能包含“<”或“>”。")]
    assert not Place.objects.exists()


def test_a_broken_csv_is_explained_in_chinese():
    from fengqiao.areas.imports import UploadRefused

    data = ("名称,类型,地址,纬度,经度\n" + '"' + "长" * 140_000 + "\n").encode()
    with pytest.raises(UploadRefused) as exc:
        read_places(io.BytesIO(data), name="p.csv", size=len(data))
    assert exc.value.message.startswith("CSV 文件格式错误（第 ")
    assert "field" not in exc.value.message and "limit" not in exc.value.message
