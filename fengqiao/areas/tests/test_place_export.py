"""Place export: exactly the filtered rows the user may see, phones masked, audited."""

from __future__ import annotations

import io

import openpyxl
import pytest

from fengqiao.core.models import AuditEntry
from fengqiao.factories import place

from .places_kit import actor, login

pytestmark = pytest.mark.django_db


def _sheet(resp) -> list[dict[str, object]]:
    book = openpyxl.load_workbook(io.BytesIO(b"".join(resp.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_export_holds_exactly_the_filtered_visible_rows(client, j, other):
    # given hotels and shops in this station, and a hotel in the other one
    h0 = place(j, name="枫桥宾馆", contact_phone="13812345678", grid=0)
    h3 = place(j, name="枫桥旅社", grid=3)
    place(j, name="枫桥小卖部", kind="small_shop", grid=0)
    place(j, name="金园宾馆", grid=0)
    place(other, name="枫桥宾馆")
    c = login(client, j.user("officer"))
    # when an officer exports the hotels matching 楓橋
    resp = c.get("/areas/places/export.xlsx", {"kind": "hotel", "q": "楓橋"})
    # then the file holds those rows and no others, phones masked
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in resp["Content-Disposition"]
    rows = _sheet(resp)
    assert sorted(r["编号"] for r in rows) == sorted([h0.pk, h3.pk])
    first = next(r for r in rows if r["编号"] == h0.pk)
    assert first["联系电话"] == "138****5678"
    assert first["类型"] == "旅馆" and first["网格"] == j.grids[0].name
    # and the export is audited with its filters and count
    entry = AuditEntry.objects.get(action="areas.place.exported")
    assert entry.changes == {"filters": {"kind": "hotel", "q": "楓橋"}, "count": 2}
    assert entry.station_id == j.station.pk


def test_text_that_looks_like_a_formula_stays_text(client, j):
    place(j, name="=HYPERLINK(1)", notes="=1+1")
    resp = login(client, j.user("officer")).get("/areas/places/export.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    cell = book.worksheets[0]["A2"]
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"


@pytest.mark.parametrize(
    ("role", "status", "count"),
    [
        ("anonymous", 302, None),
        ("nobody", 403, None),
        ("volunteer", 200, 2),
        ("other_officer", 200, 0),
        ("officer", 200, 2),
        ("chief", 200, 2),
    ],
)
def test_export_matrix(client, j, other, role, status, count):
    place(j, name="甲")
    place(j, name="乙", grid=2)
    resp = login(client, actor(role, j, other)).get("/areas/places/export.xlsx")
    assert resp.status_code == status
    if count is None:
        assert not AuditEntry.objects.filter(action="areas.place.exported").exists()
    else:
        assert len(_sheet(resp)) == count
        assert AuditEntry.objects.get(action="areas.place.exported").changes["count"] == count
