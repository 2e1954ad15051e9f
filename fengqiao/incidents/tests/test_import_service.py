"""The history import: encodings, formats, what each row becomes, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from fengqiao.core.audit import AuditEntry
from fengqiao.core.errors import ValidationFailed
from fengqiao.core.models import CaseCounter
from fengqiao.incidents import import_check, import_load, imports
from fengqiao.incidents.models import ImportJob, Incident, IncidentDaily
from fengqiao.incidents.repeats import address_key, caller_index
from fengqiao.incidents.tests.test_import_kit import (
    csv_bytes,
    media,  # noqa: F401 - fixture
    row,
    rows,
    run,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.usefixtures("media")


def test_utf8_csv_imports_every_row_with_its_derived_fields(j: Any) -> None:
    job = run(j, csv_bytes(rows(3)))

    assert job.status == "done", job.message
    assert (job.processed_rows, job.imported_rows, job.encoding) == (3, 3, "utf-8")
    got = list(Incident.objects.order_by("id"))
    assert [i.case_number for i in got] == ["JQ-2026-000001", "JQ-2026-000002", "JQ-2026-000003"]
    first = got[0]
    assert first.station_id == j.station.pk
    assert first.area_id == j.grids[0].pk and first.community_id == j.grids[0].parent_id
    assert first.external_id == "110-000001" and first.class_code == "100000"
    assert first.category.code == "100101" and first.source == "dispatch_110"
    assert first.status == "closed" and first.closed_at == first.reported_at
    assert first.disposition == "on_spot" and first.valid is True
    assert first.address_key == address_key("枫桥路1号")
    assert first.caller_bidx == caller_index("13812345678")
    # Minimum personal data: by default only the digest, not the name or the phone.
    assert (first.caller_name, first.caller_phone) == ("", "")
    assert first.import_job_id == job.pk
    assert first.reported_at.isoformat() == "2026-03-01T00:01:00+00:00"
    # Folded to simplified characters, with the case number, for the list's search.
    assert "家中被盗" in first.search_text and "jq-2026-000001" in first.search_text
    assert sum(IncidentDaily.objects.values_list("count", flat=True)) == 3
    done = AuditEntry.objects.filter(action="incidents.import.done")
    assert done.count() == 1 and done.get().changes["imported"] == 3
    assert not (imports.import_dir() / job.stored_path).exists()


def test_utf8_bom_csv(j: Any) -> None:
    job = run(j, b"\xef\xbb\xbf" + csv_bytes(rows(2)))
    assert job.status == "done" and job.encoding == "utf-8-sig"
    assert Incident.objects.count() == 2


def test_gbk_csv_is_detected_and_decoded(j: Any) -> None:
    data = csv_bytes(rows(2, start=1), encoding="gbk")
    job = run(j, data)
    assert job.status == "done", job.message
    assert job.encoding == "gb18030"
    assert Incident.objects.filter(address="枫桥路1号").count() == 2


def test_xlsx(j: Any) -> None:
    job = run(j, xlsx_bytes(rows(4)), name="导出.xlsx")
    assert job.status == "done", job.message
    assert Incident.objects.count() == 4


def test_a_file_named_xlsx_that_is_not_one_is_refused_with_nothing_kept(j: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        upload(j, csv_bytes(rows(2)), name="导出.xlsx")
    assert "Excel" in err.value.message and "file" in err.value.fields
    assert ImportJob.objects.count() == 0 and Incident.objects.count() == 0
    assert list(imports.import_dir().iterdir()) == []


def test_undecodable_csv_asks_for_the_encoding_and_a_wrong_choice_is_refused(j: Any) -> None:
    data = csv_bytes(rows(2)) + b"\xff\x80\xff"  # valid neither as UTF-8 nor as GB18030
    with pytest.raises(ValidationFailed) as err:
        upload(j, data)
    assert err.value.code == "encoding_unknown" and "encoding" in err.value.fields
    assert ImportJob.objects.count() == 0
    with pytest.raises(ValidationFailed) as err:
        upload(j, data, encoding="utf-8")
    assert err.value.code == "encoding_mismatch"
    assert list(imports.import_dir().iterdir()) == []


def test_a_chosen_encoding_is_used(j: Any) -> None:
    job = run(j, csv_bytes(rows(2), encoding="gbk"), encoding="gb18030")
    assert job.status == "done" and job.encoding == "gb18030"


def test_keeping_callers_encrypts_them(j: Any) -> None:
    run(j, csv_bytes(rows(1)), keep_callers=True)
    got = Incident.objects.get()
    assert (got.caller_name, got.caller_phone) == ("张三", "13812345678")
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT caller_name FROM incidents_incident")
        assert cur.fetchone()[0] not in ("", "张三")


def test_grid_code_instead_of_a_point_and_invalid_calls(j: Any) -> None:
    header = ["接警单号", "接警时间", "类别代码", "网格", "警情内容", "处置结果"]
    data = [
        {
            "接警单号": "A1",
            "接警时间": "2026/3/2 9:05",
            "类别代码": "盗窃",
            "网格": j.grids[3].code,
            "警情内容": "无",
            "处置结果": "无效警情",
        },
        {
            "接警单号": "A2",
            "接警时间": "20260302101500",
            "类别代码": "100100",
            "网格": j.grids[1].name,
            "警情内容": "有",
            "处置结果": "",
        },
    ]
    job = run(j, csv_bytes(data, header=header))
    assert job.status == "done", job.message
    a1, a2 = Incident.objects.order_by("external_id")
    assert a1.area_id == j.grids[3].pk and a1.valid is False and a1.disposition == "invalid"
    assert a1.occurred_at == a1.reported_at
    assert a2.area_id == j.grids[1].pk and a2.valid is True


def _failed(j: Any, data: list[dict[str, str]], **kw: Any) -> ImportJob:
    counters = list(CaseCounter.objects.values_list("station_id", "year", "last"))
    before = Incident.objects.count()
    job = run(j, csv_bytes(data), **kw)
    assert job.status == "failed"
    assert Incident.objects.count() == before, "nothing may be written when a row is bad"
    assert list(CaseCounter.objects.values_list("station_id", "year", "last")) == counters
    return job


@pytest.mark.parametrize(
    ("over", "column", "words"),
    [
        ({"警情类别": "999999"}, "警情类别", "未知的警情类别：999999"),
        ({"发案时间": "2026-03-01 09:30:00"}, "发案时间", "晚于报警时间"),
        ({"报警时间": "昨天早上"}, "报警时间", "无法识别的时间"),
        ({"经度": "113.5", "纬度": "28.205"}, "纬度/经度", "不在本所辖区"),
        ({"简要警情": ""}, "简要警情", "不能为空"),
        ({"经度": "", "纬度": ""}, "纬度", "缺少位置"),
        ({"来源": "飞鸽传书"}, "来源", "无法识别的警情来源"),
        ({"报警时间": "2099-01-01 08:00:00"}, "报警时间", "晚于当前时间"),
    ],
)
def test_a_bad_row_stops_the_whole_file(
    j: Any, over: dict[str, str], column: str, words: str
) -> None:
    data = rows(5)
    data[3] = row(4, **over)
    job = _failed(j, data)
    assert job.error_count == 1
    error = job.errors[0]
    # Row 5 of the file: the header is row 1.
    assert error["row"] == 5 and error["column"] == column and words in error["message"]
    assert "没有导入任何数据" in job.message
    assert imports.errors_path(job).exists()


def test_state_changes_out_of_order(j: Any) -> None:
    header = [*csv_header(), "派警时间", "到场时间", "处结时间"]
    data = [
        row(
            1, 派警时间="2026-03-01 08:10", 到场时间="2026-03-01 08:05", 处结时间="2026-03-01 09:00"
        )
    ]
    job = run(j, csv_bytes(data, header=header))
    assert job.status == "failed" and Incident.objects.count() == 0
    assert job.errors[0]["column"] == "到场时间"
    assert "状态变化的顺序不对" in job.errors[0]["message"]


def csv_header() -> list[str]:
    from fengqiao.incidents.tests.test_import_kit import HEADER

    return list(HEADER)


def test_response_times_are_kept(j: Any) -> None:
    header = [*csv_header(), "派警时间", "到场时间", "处结时间"]
    data = [
        row(
            1, 派警时间="2026-03-01 08:03", 到场时间="2026-03-01 08:12", 处结时间="2026-03-01 09:00"
        )
    ]
    job = run(j, csv_bytes(data, header=header))
    assert job.status == "done", job.message
    got = Incident.objects.get()
    assert got.arrived_at and got.dispatched_at and got.closed_at
    assert (got.arrived_at - got.dispatched_at).total_seconds() == 540
    assert got.closed_at.isoformat() == "2026-03-01T01:00:00+00:00"


def test_duplicate_external_ids_in_the_file_and_in_the_station(j: Any) -> None:
    run(j, csv_bytes([row(1)]))
    data = [row(2), row(3), row(2, 报警时间="2026-03-01 09:00:00"), row(1)]
    job = _failed(j, data)
    assert [(e["row"], e["message"]) for e in job.errors] == [
        (4, "接警单号与第 2 行重复。"),
        (5, "本所已有接警单号为 110-000001 的警情。"),
    ]


def test_every_bad_row_is_reported_and_the_error_csv_lists_them(j: Any) -> None:
    data = [row(i, 警情类别="X") if i % 2 else row(i) for i in range(1, 41)]
    job = _failed(j, data)
    assert job.error_count == 20 and len(job.errors) == 20
    text = imports.errors_path(job).read_text(encoding="utf-8-sig").splitlines()
    assert text[0] == "行号,列,问题" and len(text) == 21
    assert text[1].startswith("2,警情类别,")


def test_stored_errors_are_capped_but_all_are_counted(j: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(import_load, "STORED_ERRORS", 5)
    job = _failed(j, [row(i, 警情类别="X") for i in range(1, 13)])
    assert job.error_count == 12 and len(job.errors) == 5
    assert "12 个问题" in job.message


def test_cancel_between_chunks_leaves_nothing(j: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(imports, "CHUNK", 2)
    job = upload(j, csv_bytes(rows(9)), start=True)
    seen: list[int] = []

    def progress(current: ImportJob) -> None:
        seen.append(current.processed_rows)
        if len(seen) == 2:
            ImportJob.objects.filter(pk=current.pk).update(cancel_requested=True)

    imports.import_run(job_id=job.pk, progress=progress)
    job.refresh_from_db()
    assert job.status == "cancelled" and seen == [2, 4]
    assert Incident.objects.count() == 0 and not CaseCounter.objects.exists()


def test_progress_advances_chunk_by_chunk(j: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(imports, "CHUNK", 3)
    job = upload(j, csv_bytes(rows(8)), start=True)
    assert job.total_rows == 8
    seen: list[int] = []
    imports.import_run(job_id=job.pk, progress=lambda cur: seen.append(cur.processed_rows))
    assert seen == [3, 6, 8]
    assert ImportJob.objects.get(pk=job.pk).status == "done"


def test_case_numbers_continue_the_station_counter(j: Any) -> None:
    from fengqiao.core.casenumbers import case_number_next, case_numbers_reserve

    assert case_number_next(station_id=j.station.pk, prefix="JQ", year=2026) == "JQ-2026-000001"
    run(j, csv_bytes([row(1), row(2, 报警时间="2025-12-31 23:00", 发案时间="2025-12-31 22:00")]))
    assert sorted(Incident.objects.values_list("case_number", flat=True)) == [
        "JQ-2025-000001",
        "JQ-2026-000002",
    ]
    assert case_numbers_reserve(station_id=j.station.pk, prefix="JQ", year=2026, count=5) == 3
    assert case_number_next(station_id=j.station.pk, prefix="JQ", year=2026) == "JQ-2026-000008"


def test_repeats_are_flagged_after_the_import(j: Any) -> None:
    run(j, csv_bytes(rows(4)))
    assert Incident.objects.filter(repeat_address=True).count() >= 2


def test_the_phone_digest_equals_the_log_s(j: Any) -> None:
    digest = import_check._phone_digest()
    for phone in ["13812345678", "+86 138 1234 5678", "0731-88889999"]:
        assert digest(phone) == caller_index(phone)


def test_missing_columns_are_refused_before_anything_runs(j: Any) -> None:
    data = csv_bytes([{"接警单号": "1"}], header=["接警单号", "地址"])
    with pytest.raises(ValidationFailed) as err:
        upload(j, data, start=True)
    assert err.value.code == "bad_mapping"
    assert {"reported_at", "category", "narrative", "lat"} <= set(err.value.fields)
    assert ImportJob.objects.count() == 0


def test_a_mapping_from_the_user_overrides_the_proposal(j: Any) -> None:
    header = ["单号", "时间", "类", "x", "y", "事"]
    data = [
        {
            "单号": "Z1",
            "时间": "2026-03-01 08:00",
            "类": "100101",
            "x": "112.905",
            "y": "28.205",
            "事": "有人打架",
        }
    ]
    mapping = {
        "external_id": "单号",
        "reported_at": "时间",
        "category": "类",
        "lng": "x",
        "lat": "y",
        "narrative": "事",
    }
    job = run(j, csv_bytes(data, header=header), mapping=mapping)
    assert job.status == "done", job.message
    assert Incident.objects.get().external_id == "Z1"


def test_other_station_officer_may_not_import(j: Any, other: Any) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        upload(j, csv_bytes(rows(1)), actor=other.user("officer"))
    assert ImportJob.objects.count() == 0


def test_the_huey_task_runs_on_commit(j: Any, django_capture_on_commit_callbacks: Any) -> None:
    from huey.contrib.djhuey import HUEY

    # Settings are read before conftest sets FENGQIAO_HUEY_IMMEDIATE, so say it here.
    immediate = HUEY.immediate
    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = upload(j, csv_bytes(rows(2)), start=True)
    finally:
        HUEY.immediate = immediate
    job.refresh_from_db()
    assert job.status == "done" and Incident.objects.count() == 2


def test_times_read_as_the_station_wall_clock_whatever_their_form() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from fengqiao.incidents.import_check import parse_local, parse_time

    tz = ZoneInfo("Asia/Shanghai")
    want = datetime(2026, 3, 1, 8, 1)
    for text in ("2026-03-01 08:01", "2026/3/1 8:01:00", "20260301080100", "2026-03-01T00:01Z"):
        assert parse_local(text, tz) == want, text
        assert parse_time(text, tz) == want.replace(tzinfo=tz), text
    assert parse_local("2026-02-30 08:01", tz) is None


def test_every_time_form_stores_the_same_instant(j: Any) -> None:
    forms = ["2026-03-01 08:01:00", "2026-03-01T08:01:00", "2026/3/1 8:01:00", "20260301080100"]
    data = [row(i, 报警时间=text, 发案时间=text) for i, text in enumerate(forms, start=1)]
    job = run(j, csv_bytes(data))
    assert job.status == "done", job.message
    got = {(i.reported_at.isoformat(), i.occurred_at.isoformat()) for i in Incident.objects.all()}
    assert got == {("2026-03-01T00:01:00+00:00", "2026-03-01T00:01:00+00:00")}
