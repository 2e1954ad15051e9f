"""Import pages: upload, mapping, progress polling, cancel, the error CSV, who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from django.test import Client
from django.urls import reverse

from fengqiao.core.audit import AuditEntry
from fengqiao.incidents.models import ImportJob, Incident
from fengqiao.incidents.tests.test_import_kit import (
    csv_bytes,
    media,  # noqa: F401 - fixture
    row,
    rows,
    upload,
)

pytestmark = pytest.mark.usefixtures("media")
LIST = reverse("incidents:import_list")


def client_for(j: Any, other: Any, role: str) -> Client:
    c = Client()
    if role == "other_officer":
        c.force_login(other.user("officer"))
    elif role != "anonymous":
        c.force_login(j.user(role))
    return c


@pytest.fixture
def immediate() -> Any:
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


def _post_file(c: Client, j: Any, data: bytes, **extra: Any) -> Any:
    f = SimpleUploadedFile("export.csv", data, content_type="text/csv")
    return c.post(LIST, {"station": j.station.pk, "file": f, "encoding": "", **extra})


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("volunteer", 403),
        ("other_officer", 200),
        ("officer", 302),
        ("chief", 302),
    ],
)
def test_upload_matrix(j: Any, other: Any, role: str, status: int) -> None:
    c = client_for(j, other, role)
    resp = _post_file(c, j, csv_bytes(rows(2)))
    assert resp.status_code == status
    if status == 302 and role != "anonymous":
        job = ImportJob.objects.get()
        assert resp["Location"] == reverse("incidents:import_detail", args=[job.pk])
        assert job.station_id == j.station.pk and job.status == "pending"
    else:
        # Another station's officer sees only their own station in the form: refused there.
        assert not ImportJob.objects.exists()
        assert not AuditEntry.objects.filter(action__startswith="incidents.import").exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 200),
        ("chief", 200),
    ],
)
def test_detail_progress_and_errors_matrix(j: Any, other: Any, role: str, status: int) -> None:
    job = upload(j, csv_bytes(rows(2)))
    c = client_for(j, other, role)
    for name in ("import_detail", "import_progress", "import_errors_csv"):
        resp = c.get(reverse(f"incidents:{name}", args=[job.pk]))
        assert resp.status_code == status, name


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 302),
        ("chief", 302),
    ],
)
def test_cancel_matrix(j: Any, other: Any, role: str, status: int) -> None:
    job = upload(j, csv_bytes(rows(2)))
    resp = client_for(j, other, role).post(reverse("incidents:import_cancel", args=[job.pk]))
    assert resp.status_code == status
    job.refresh_from_db()
    if status == 302 and role != "anonymous":
        assert job.status == "cancelled" and job.cancel_requested
    else:
        assert job.status == "pending" and not job.cancel_requested


def test_the_page_flow_upload_map_import(
    j: Any, immediate: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = Client()
    c.force_login(j.user("officer"))
    resp = _post_file(c, j, csv_bytes(rows(3)))
    detail = resp["Location"]
    page = c.get(detail).content.decode()
    # The proposed mapping is selected, and the first rows are previewed.
    assert 'id="import-mapping"' in page and 'value="报警时间" selected' in page
    assert "110-000001" in page
    with django_capture_on_commit_callbacks(execute=True):
        resp = c.post(
            detail,
            {
                "external_id": "接警单号",
                "reported_at": "报警时间",
                "occurred_at": "发案时间",
                "category": "警情类别",
                "lng": "经度",
                "lat": "纬度",
                "narrative": "简要警情",
                "address": "地址",
            },
        )
    assert resp.status_code == 302
    assert Incident.objects.count() == 3
    page = c.get(detail).content.decode()
    assert 'data-status="done"' in page and "完成" in page and "hx-trigger" not in page


def test_the_mapping_form_keeps_the_choice_and_says_what_is_missing(j: Any) -> None:
    c = Client()
    c.force_login(j.user("officer"))
    job = upload(j, csv_bytes(rows(1)))
    resp = c.post(
        reverse("incidents:import_detail", args=[job.pk]),
        {
            "reported_at": "报警时间",
            "category": "",
            "narrative": "简要警情",
            "grid": "地址",
            "lat": "纬度",
        },
    )
    page = resp.content.decode()
    assert resp.status_code == 200 and "invalid-feedback" in page
    assert 'value="纬度" selected' in page
    job.refresh_from_db()
    assert not job.mapping["confirmed"]


def test_a_running_import_polls_its_progress(j: Any) -> None:
    c = Client()
    c.force_login(j.user("officer"))
    job = upload(j, csv_bytes(rows(4)), start=True, queue=False)
    ImportJob.objects.filter(pk=job.pk).update(status="running", processed_rows=2)
    page = c.get(reverse("incidents:import_detail", args=[job.pk])).content.decode()
    url = reverse("incidents:import_progress", args=[job.pk])
    assert f'hx-get="{url}"' in page and 'hx-trigger="every 1500ms"' in page
    assert 'aria-valuenow="50"' in page
    part = c.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert part.startswith('<div id="import-progress"') and "取消导入" in part
    # A cancel from the bar swaps the bar; the task rolls back at its next chunk.
    resp = c.post(reverse("incidents:import_cancel", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "正在取消" in resp.content.decode()
    assert ImportJob.objects.get(pk=job.pk).cancel_requested


def test_a_failed_import_shows_its_rows_and_the_csv(
    j: Any, immediate: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = Client()
    c.force_login(j.user("officer"))
    with django_capture_on_commit_callbacks(execute=True):
        job = upload(j, csv_bytes([row(1), row(2, 警情类别="未知")]), start=True)
    page = c.get(reverse("incidents:import_detail", args=[job.pk])).content.decode()
    assert 'id="import-report"' in page and "未知的警情类别：未知" in page
    resp = c.get(reverse("incidents:import_errors_csv", args=[job.pk]))
    assert isinstance(resp, FileResponse)
    body = b"".join(resp.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[1].startswith("3,警情类别,未知的警情类别")


def test_the_list_reads_a_fixed_number_of_queries(
    j: Any, django_assert_max_num_queries: Any
) -> None:
    user = j.user("officer")
    for i in range(5):
        upload(j, csv_bytes([row(i + 1)]), actor=user)
    c = Client()
    c.force_login(user)
    with django_assert_max_num_queries(12):
        page = c.get(LIST).content.decode()
    assert page.count("export.csv") == 0 and page.count("history.csv") == 5
