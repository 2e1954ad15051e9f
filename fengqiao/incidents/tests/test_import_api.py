"""The import API: upload, status, cancel, the error CSV; the command; who may do what."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from fengqiao.core.audit import AuditEntry
from fengqiao.factories import assert_api_error
from fengqiao.incidents.models import ImportJob, Incident
from fengqiao.incidents.tests.test_import_kit import (
    csv_bytes,
    media,  # noqa: F401 - fixture
    row,
    rows,
    upload,
)

pytestmark = pytest.mark.usefixtures("media")
URL = "/api/v1/incidents/imports"


@pytest.fixture
def immediate() -> Any:
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


def _post(client: Any, data: bytes, **fields: Any) -> Any:
    f = SimpleUploadedFile("export.csv", data, content_type="text/csv")
    return client.post(URL, {"file": f, **fields})


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("volunteer", 403),
        ("other_officer", 403),
        ("officer", 201),
        ("chief", 201),
    ],
)
def test_upload_matrix(
    j: Any,
    as_role: Any,
    role: str,
    status: int,
    immediate: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        resp = _post(as_role(role), csv_bytes(rows(3)), station_id=j.station.pk)
    assert resp.status_code == status, resp.content
    if status == 201:
        body = resp.json()
        assert body["status"] == "pending" and body["mapping"]["category"] == "警情类别"
        got = as_role(role).get(f"{URL}/{body['id']}").json()
        assert got["status"] == "done" and got["imported_rows"] == 3
        assert Incident.objects.count() == 3
    else:
        assert not ImportJob.objects.exists() and not Incident.objects.exists()
        assert not AuditEntry.objects.filter(action__startswith="incidents.import").exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 200),
        ("chief", 200),
    ],
)
def test_read_and_cancel_matrix(j: Any, as_role: Any, role: str, status: int) -> None:
    job = upload(j, csv_bytes(rows(2)), start=True, queue=False)
    c = as_role(role)
    assert c.get(f"{URL}/{job.pk}").status_code == status
    assert c.get(f"{URL}/{job.pk}/errors.csv").status_code == status
    resp = c.post(f"{URL}/{job.pk}/cancel")
    assert resp.status_code == status
    job.refresh_from_db()
    assert job.cancel_requested is (status == 200)
    listed = c.get(URL)
    if status == 200:
        assert [x["id"] for x in listed.json()] == [job.pk]
    elif role != "anonymous":
        assert listed.json() == []


def test_mapping_json_and_encoding(
    j: Any, as_role: Any, immediate: Any, django_capture_on_commit_callbacks: Any
) -> None:
    header = ["单号", "时间", "类", "x", "y", "事"]
    data = [
        {
            "单号": "Z1",
            "时间": "2026-03-01 08:00",
            "类": "盗窃",
            "x": "112.905",
            "y": "28.205",
            "事": "自行车被盗",
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
    with django_capture_on_commit_callbacks(execute=True):
        resp = _post(
            as_role("officer"),
            csv_bytes(data, header=header, encoding="gbk"),
            mapping=json.dumps(mapping),
            encoding="gb18030",
        )
    assert resp.status_code == 201, resp.content
    assert Incident.objects.get().external_id == "Z1"


def test_bad_mapping_and_bad_encoding_are_422(j: Any, as_role: Any) -> None:
    c = as_role("officer")
    body = assert_api_error(_post(c, csv_bytes(rows(1)), mapping="[1]"), 422, "validation_error")
    assert "mapping" in body["fields"]
    body = assert_api_error(
        _post(c, csv_bytes(rows(1)), mapping=json.dumps({"category": "没有这列"})),
        422,
        "bad_mapping",
    )
    assert "category" in body["fields"]
    assert_api_error(_post(c, csv_bytes(rows(1)) + b"\xff\x80\xff"), 422, "encoding_unknown")
    assert not ImportJob.objects.exists()


def test_a_failed_import_reports_rows_and_its_csv(
    j: Any, as_role: Any, immediate: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = as_role("officer")
    data = [row(1), row(2, 发案时间="2026-03-01 09:59:00")]
    with django_capture_on_commit_callbacks(execute=True):
        job_id = _post(c, csv_bytes(data)).json()["id"]
    got = c.get(f"{URL}/{job_id}").json()
    assert got["status"] == "failed" and got["error_count"] == 1
    assert got["errors"][0]["row"] == 3 and got["errors"][0]["column"] == "发案时间"
    resp = c.get(f"{URL}/{job_id}/errors.csv")
    assert resp["Content-Type"].startswith("text/csv")
    text = b"".join(resp.streaming_content).decode("utf-8-sig")
    assert "晚于报警时间" in text
    assert not Incident.objects.exists()


def test_cancelling_a_finished_import_is_409(j: Any, as_role: Any) -> None:
    job = upload(j, csv_bytes(rows(1)), start=True, queue=False)
    ImportJob.objects.filter(pk=job.pk).update(status="done")
    assert_api_error(as_role("officer").post(f"{URL}/{job.pk}/cancel"), 409, "illegal_transition")


def test_the_command_imports_in_the_foreground(j: Any, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(csv_bytes(rows(3), encoding="gbk"))
    out, err = StringIO(), StringIO()
    call_command("import_incidents", str(path), "--station", j.station.code, stdout=out, stderr=err)
    assert "已导入 3 条警情" in out.getvalue()
    assert "3 / ~3 rows checked" in err.getvalue()
    assert Incident.objects.count() == 3


def test_the_command_prints_row_errors_and_fails(j: Any, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(csv_bytes([row(1), row(2, 经度="120.0")]))
    err = StringIO()
    with pytest.raises(CommandError, match="没有导入任何数据"):
        call_command(
            "import_incidents",
            str(path),
            "--station",
            j.station.code,
            stderr=err,
            stdout=StringIO(),
        )
    assert "第 3 行\t纬度/经度\t位置" in err.getvalue()
    assert not Incident.objects.exists()
