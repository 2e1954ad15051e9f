"""XLSX export of the lists: exactly the filtered rows the user may see, masked, audited, capped."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from fengqiao.core.models import AuditEntry
from fengqiao.disputes import exports
from fengqiao.disputes.models import Dispute
from fengqiao.disputes.tests.kit import id_number, intake, person
from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def login(client, user):
    client.force_login(user)
    return client


def sheet(resp) -> list[dict[str, object]]:
    assert resp.status_code == 200, getattr(resp, "content", b"")[:300]
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in resp["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(resp.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def listed(resp) -> list[str]:
    return re.findall(r'data-case="([^"]+)"', resp.content.decode())


@pytest.fixture
def cases(j, other):
    """Three cases here (two of them about water), and one about water in the other station."""
    water = intake(
        j,
        narrative="楼上漏水，楼下天花板发霉",
        parties=[
            person("张三", phone=PHONE, id_number=id_number(3)),
            person("李四", role="respondent"),
        ],
    )
    water2 = intake(j, narrative="水管漏水淹了邻居家", grid=3)
    noise = intake(j, narrative="夜间噪音扰民")
    intake(other, narrative="楼上漏水")
    Dispute.objects.filter(pk=water2.pk).update(colour="red")
    return water, water2, noise


def test_the_export_equals_the_filtered_list(client, j, cases):
    water, water2, _noise = cases
    c = login(client, j.user("officer"))
    # when the officer exports what the list shows for a search
    shown = listed(c.get("/disputes/", {"tab": "all", "q": "漏水"}))
    rows = sheet(c.get("/disputes/export.xlsx", {"tab": "all", "q": "漏水"}))
    # then the file holds exactly the listed rows, in the same order
    assert [r["案件编号"] for r in rows] == shown == [water2.case_number, water.case_number]
    first = next(r for r in rows if r["案件编号"] == water.case_number)
    # and phones are masked, ID numbers left out
    assert "138****5678" in first["当事人"] and PHONE not in first["当事人"]
    assert all(id_number(3) not in str(v) for r in rows for v in r.values())
    assert first["纠纷类型编码"] == "0201" and first["网格"] == j.grids[0].name
    assert first["纠纷情况"] == "楼上漏水，楼下天花板发霉"
    # and a narrower filter narrows the file the same way
    rows = sheet(c.get("/disputes/export.xlsx", {"tab": "all", "q": "漏水", "colour": "red"}))
    assert [r["案件编号"] for r in rows] == [water2.case_number]


def test_the_export_is_audited_with_its_filters_and_count(client, j, cases):
    c = login(client, j.user("officer"))
    sheet(c.get("/disputes/export.xlsx", {"tab": "all", "q": "漏水"}))
    entry = AuditEntry.objects.get(action="disputes.dispute.exported")
    assert entry.changes["count"] == 2
    assert entry.changes["filters"]["q"] == "漏水"
    assert entry.changes["filters"]["tab"] == "all"
    assert entry.station_id == j.station.pk


def test_bad_filters_export_nothing(client, j, cases):
    c = login(client, j.user("officer"))
    resp = c.get("/disputes/export.xlsx", {"grade": "huge"})
    assert resp.status_code == 302 and resp["Location"].startswith("/disputes/?")
    assert not AuditEntry.objects.filter(action="disputes.dispute.exported").exists()


def test_an_export_over_the_cap_is_refused_with_a_message(client, j, cases, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_MAX", 2)
    c = login(client, j.user("officer"))
    resp = c.get("/disputes/export.xlsx", {"tab": "all"}, follow=True)
    assert "无法一次导出" in resp.content.decode()
    assert not AuditEntry.objects.filter(action="disputes.dispute.exported").exists()
    # and under the cap it goes through
    assert len(sheet(c.get("/disputes/export.xlsx", {"tab": "all", "q": "漏水"}))) == 2


def test_text_that_looks_like_a_formula_stays_text(client, j):
    ensure = intake(j, narrative="=HYPERLINK(1) 两家争执")
    resp = login(client, j.user("officer")).get("/disputes/export.xlsx", {"tab": "all"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("纠纷情况") + 1)
    assert cell.value == ensure.narrative and cell.data_type == "s"


# --- the API ---


def test_the_api_export_matches_the_api_list(j, cases):
    water, water2, _noise = cases
    c = api_client(j.user("officer"))
    listed_ids = [
        d["case_number"] for d in c.get("/api/v1/disputes", {"q": "漏水"}).json()["items"]
    ]
    rows = sheet(c.get("/api/v1/disputes/export.xlsx", {"q": "漏水"}))
    assert [r["案件编号"] for r in rows] == listed_ids == [water2.case_number, water.case_number]
    assert AuditEntry.objects.get(action="disputes.dispute.exported").changes["count"] == 2


def test_the_api_export_refuses_bad_filters(j, other, cases):
    c = api_client(j.user("officer"))
    assert_api_error(
        c.get("/api/v1/disputes/export.xlsx", {"grade": "huge"}), 422, "validation_error"
    )
    body = assert_api_error(
        c.get("/api/v1/disputes/export.xlsx", {"community": other.communities[0].pk}),
        422,
        "validation_error",
    )
    assert "community" in body["fields"]
    assert_api_error(api_client(None).get("/api/v1/disputes/export.xlsx"), 401, "unauthorized")
