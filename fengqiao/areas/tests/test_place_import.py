"""Place import: XLSX and CSV in three encodings, a row report, all rows or none."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from fengqiao.areas.imports import UploadRefused, read_places
from fengqiao.areas.models import Place
from fengqiao.areas.services import place_import
from fengqiao.core.errors import ValidationFailed
from fengqiao.core.models import AuditEntry

from .places_kit import GOOD_ROWS, actor, csv_bytes, login, xlsx_bytes

pytestmark = pytest.mark.django_db


def _parse(data: bytes, name: str):
    return read_places(io.BytesIO(data), name=name, size=len(data))


def _upload(client, j, data: bytes, name: str):
    return client.post(
        "/areas/places/import/",
        {"station": j.station.pk, "file": SimpleUploadedFile(name, data)},
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "utf-16"])
def test_csv_in_utf8_bom_gbk_and_utf16_reads_the_same(encoding):
    parsed = _parse(csv_bytes(GOOD_ROWS, encoding), "places.csv")
    assert [r.values["name"] for r in parsed.rows] == ["枫桥宾馆", "金园小卖部", "雷锋网吧"]
    assert parsed.rows[1].values["kind"] == "小商店"
    assert parsed.rows[0].line == 2  # the header is row 1


def test_xlsx_numbers_come_back_as_text_without_a_trailing_zero():
    rows = [["枫桥宾馆", "hotel", "枫桥路1号", 28.205, 112.905, "张三", 13812345678, ""]]
    parsed = _parse(xlsx_bytes(rows), "places.xlsx")
    values = parsed.rows[0].values
    assert values["contact_phone"] == "13812345678"
    assert float(values["lat"]) == 28.205


def test_an_xlsx_imports_every_row_at_its_grid(j):
    officer = j.user("officer")
    result = place_import(
        actor=officer,
        station_id=j.station.pk,
        parsed=_parse(xlsx_bytes(GOOD_ROWS), "places.xlsx"),
        source="places.xlsx",
    )
    assert result.ok and result.created == 3
    by_name = {p.name: p for p in Place.objects.select_related("kind")}
    assert by_name["枫桥宾馆"].area == j.grids[0]
    shop = by_name["金园小卖部"]
    assert shop.area == j.grids[3] and shop.kind.code == "small_shop"
    assert shop.contact_phone == "0731-88889999"
    assert "枫桥" in by_name["枫桥宾馆"].search_text
    entry = AuditEntry.objects.get(action="areas.place.imported")
    ids = sorted(p.pk for p in by_name.values())
    assert entry.changes == {
        "count": 3,
        "first_id": ids[0],
        "last_id": ids[-1],
        "source": "places.xlsx",
    }
    assert entry.station_id == j.station.pk and entry.actor == officer


def test_a_bad_row_in_the_middle_writes_nothing_and_is_reported(client, j):
    # given a file whose middle rows are wrong
    rows = [
        GOOD_ROWS[0],
        ["坏电话", "hotel", "枫桥路2号", 28.205, 112.905, "", "12345", ""],
        ["", "没有这种类型", "枫桥路3号", 28.205, 112.905, "", "", ""],
        ["辖区外", "hotel", "外面", 28.205, 113.5, "", "", ""],
        GOOD_ROWS[1],
    ]
    c = login(client, j.user("officer"))
    # when it is uploaded
    resp = _upload(c, j, xlsx_bytes(rows), "places.xlsx")
    # then nothing is written and the page lists each problem with its row and column
    assert resp.status_code == 200
    assert Place.objects.count() == 0
    assert not AuditEntry.objects.filter(action="areas.place.imported").exists()
    report = resp.context["report"]
    assert [(e.row, e.column) for e in report] == [
        (3, "联系电话"),
        (4, "名称"),
        (4, "类型"),
        (5, "纬度/经度"),
    ]
    html = resp.content.decode()
    assert 'id="import-report"' in html and "没有“没有这种类型”这种场所类型" in html
    assert "没有写入任何数据" in html


def test_a_gbk_csv_imports_through_the_page(client, j):
    c = login(client, j.user("chief"))
    resp = _upload(c, j, csv_bytes(GOOD_ROWS, "gbk"), "场所.csv")
    assert resp.status_code == 302
    assert sorted(Place.objects.values_list("name", flat=True)) == sorted(r[0] for r in GOOD_ROWS)


def test_an_oversized_upload_is_refused(client, j, settings):
    settings.FENGQIAO_MAX_UPLOAD_BYTES = 200
    data = csv_bytes(GOOD_ROWS * 5)
    assert len(data) > 200
    resp = _upload(login(client, j.user("officer")), j, data, "places.csv")
    assert resp.status_code == 200
    assert "文件太大" in resp.content.decode()
    assert Place.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("places.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "不支持旧版 Excel"),
        ("places.txt", b"a,b\n", "只能导入 .xlsx 或 .csv"),
        ("places.xlsx", "名称,类型\n".encode(), "不是 Excel 工作簿"),
        ("places.csv", xlsx_bytes(GOOD_ROWS), "不是文本表格"),
    ],
)
def test_wrong_file_types_are_refused_with_a_clear_message(client, j, name, data, message):
    resp = _upload(login(client, j.user("officer")), j, data, name)
    assert message in resp.content.decode()
    assert Place.objects.count() == 0


def test_missing_columns_are_named():
    with pytest.raises(UploadRefused) as exc:
        _parse(csv_bytes([["枫桥宾馆", "hotel"]], header=["名称", "类型"]), "p.csv")
    assert "地址、纬度、经度" in exc.value.message


def test_headers_with_marks_and_notes_are_recognised():
    header = ["名称*", "类型 ", "地址", "纬度（WGS84）", "经度(度)", "编号"]
    parsed = _parse(
        csv_bytes([["甲", "hotel", "路", "28.2", "112.9", "7"]], header=header), "p.csv"
    )
    assert parsed.rows[0].values == {
        "name": "甲",
        "kind": "hotel",
        "address": "路",
        "lat": "28.2",
        "lng": "112.9",
    }


@pytest.mark.parametrize(
    ("role", "status", "imported"),
    [
        ("anonymous", 302, False),
        ("nobody", 403, False),
        ("volunteer", 403, False),
        ("auxiliary", 403, False),
        ("other_officer", 200, False),  # their form offers only their own station
        ("officer", 302, True),
        ("chief", 302, True),
    ],
)
def test_import_matrix(client, j, other, role, status, imported):
    c = login(client, actor(role, j, other))
    resp = _upload(c, j, xlsx_bytes(GOOD_ROWS), "places.xlsx")
    assert resp.status_code == status
    assert Place.objects.filter(station=j.station).exists() is imported
    assert AuditEntry.objects.filter(action="areas.place.imported").exists() is imported


def test_the_command_imports_a_file(j, tmp_path):
    path = tmp_path / "places.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS, "utf-8-sig"))
    out = io.StringIO()
    call_command("import_places", "--station", "S1", str(path), stdout=out)
    assert "Imported 3 places" in out.getvalue()
    assert Place.objects.count() == 3
    assert AuditEntry.objects.get(action="areas.place.imported").actor_label == "system"


def test_the_command_reports_bad_rows_and_writes_nothing(j, tmp_path):
    path = tmp_path / "places.xlsx"
    path.write_bytes(xlsx_bytes([GOOD_ROWS[0], ["", "hotel", "", "x", "112.9", "", "", ""]]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_places", "--station", "S1", str(path), stderr=err)
    assert "第 3 行\t名称" in err.getvalue() and "纬度应为数字" in err.getvalue()
    assert Place.objects.count() == 0


def test_the_command_checks_the_named_user(j, other, tmp_path):
    path = tmp_path / "places.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS))
    stranger = other.user("officer")
    with pytest.raises(CommandError):
        call_command("import_places", "--station", "S1", "--user", stranger.username, str(path))
    assert Place.objects.count() == 0


def test_an_empty_file_with_only_a_header_is_refused(j):
    with pytest.raises(ValidationFailed, match="没有数据行"):
        place_import(actor=None, station_id=j.station.pk, parsed=_parse(csv_bytes([]), "p.csv"))


def test_every_imported_place_gets_its_own_created_entry_on_its_timeline(j):
    from fengqiao.core.audit import audit_verify
    from fengqiao.core.selectors import object_timeline

    officer = j.user("officer")
    result = place_import(
        actor=officer,
        station_id=j.station.pk,
        parsed=_parse(xlsx_bytes(GOOD_ROWS), "places.xlsx"),
        source="places.xlsx",
    )
    assert result.ok
    for p in Place.objects.all():
        timeline = object_timeline(obj=p)
        assert [e.action for e in timeline] == ["areas.place.created"]
        assert timeline[0].changes["source"] == "places.xlsx"
        assert timeline[0].station_id == j.station.pk and timeline[0].actor == officer
    assert audit_verify().ok
