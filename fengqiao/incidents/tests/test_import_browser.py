"""The import in a real browser: upload, mapping, and the progress bar polling to 完成."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import browser_login
from fengqiao.incidents.imports import import_run
from fengqiao.incidents.models import Incident
from fengqiao.incidents.tests.test_import_kit import (
    csv_bytes,
    media,  # noqa: F401 - fixture
    rows,
    upload,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("media"),
]


@pytest.fixture
def immediate() -> Any:
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


def test_upload_a_small_file_on_a_phone_and_see_it_finish(
    page: Any, j: Any, tmp_path: Path, immediate: Any
) -> None:
    # given an officer on a phone and a GBK export of five incidents
    path = tmp_path / "110导出.csv"
    path.write_bytes(csv_bytes(rows(5), encoding="gbk"))
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, j.user("officer").username)
    page.wait_for_url("**/")
    # when they upload it, check the proposed columns and start
    page.goto("/incidents/imports/")
    page.set_input_files("#id_file", str(path))
    page.click("#import-upload button[type=submit]")
    page.wait_for_selector("#import-mapping")
    assert page.input_value("#id_category") == "警情类别"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("#import-mapping button[type=submit]")
    # then the progress ends in 完成 and the incidents are there
    page.wait_for_selector("#import-progress[data-status=done]")
    assert page.inner_text("#import-status") == "完成"
    assert "已导入 5 条警情" in page.inner_text("#import-message")
    assert Incident.objects.count() == 5


def test_the_bar_polls_until_the_worker_finishes(page: Any, j: Any) -> None:
    # given a queued import that no worker has picked up yet
    officer = j.user("officer")
    job = upload(j, csv_bytes(rows(3)), actor=officer, start=True, queue=False)
    browser_login(page, officer.username)
    page.wait_for_url("**/")
    page.goto(f"/incidents/imports/{job.pk}/")
    page.wait_for_selector("#import-progress[data-status=pending]")
    # when the worker runs it
    import_run(job_id=job.pk)
    # then the page, polling, shows 完成 without a reload
    page.wait_for_selector("#import-progress[data-status=done]", timeout=10000)
    assert page.inner_text("#import-status") == "完成"
    assert page.get_attribute(".progress", "aria-valuenow") == "100"
