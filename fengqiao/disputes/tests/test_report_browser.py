"""The report page in a real browser: cards, ECharts charts drawn, the XLSX downloaded."""

from __future__ import annotations

from datetime import timedelta

import openpyxl
import pytest

from conftest import browser_login
from fengqiao.disputes.rollups import rollup_rebuild
from fengqiao.disputes.tests.test_report_figures import at, case, month_ago

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_chief_opens_the_report_sees_charts_and_downloads_xlsx(page, j, other, tmp_path):
    m = month_ago(1)  # the page opens on the last full month
    for day in (2, 3, 5):
        case(j, m + timedelta(days=day))
    case(
        j,
        m + timedelta(days=6),
        status="closed",
        outcome="success",
        closed_at=at(m + timedelta(days=8)),
        channel="community",
    )
    case(other, m + timedelta(days=2))
    rollup_rebuild()  # the ending above was written straight to the table
    browser_login(page, j.user("chief").username)
    page.wait_for_url("**/")
    page.click("text=纠纷月报")
    page.wait_for_url("**/disputes/report/")
    assert page.locator("#id_month").input_value() == f"{m:%Y-%m}"
    received = page.locator('[data-figure="received"] .figure-value')
    assert received.inner_text().strip() == "4"
    assert page.locator('[data-figure="success_rate"] .figure-value').inner_text() == "100.0%"
    for chart in ("chart-trend", "chart-source", "chart-stat-type", "chart-channel"):
        page.wait_for_selector(f"#{chart}[data-drawn] canvas")
    assert "婚姻家庭" in page.locator("#breakdown-stat_type").inner_text()
    with page.expect_download() as info:
        page.click("#report-download")
    path = tmp_path / "report.xlsx"
    info.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows["受理纠纷（件）"][1] == 4
    assert rows["填报单位"][1] == j.station.name
