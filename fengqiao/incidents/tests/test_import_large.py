"""A long file with one bad row near its end: refused whole, naming that line.

The issue's case is line 500,000; here 20,000 rows (four chunks) keep the suite quick, and
`benchmarks.incidents_import` runs the same refusal at line 500,000 of a million-row file.
"""

from __future__ import annotations

from typing import Any

import pytest

from fengqiao.core.models import CaseCounter
from fengqiao.incidents import imports
from fengqiao.incidents.models import Incident, IncidentDaily
from fengqiao.incidents.tests.test_import_kit import (
    csv_bytes,
    media,  # noqa: F401 - fixture
    row,
    run,
)

pytestmark = pytest.mark.usefixtures("media")

ROWS = 20_000
BAD_LINE = 19_990  # the header is line 1, so this is data row 19,989


def test_a_bad_row_near_the_end_refuses_the_whole_file(j: Any) -> None:
    data = [
        row(i, 报警时间=f"2026-02-{1 + i % 28:02d} 08:{i % 60:02d}:00", 发案时间="2026-02-01 07:00")
        for i in range(1, ROWS + 1)
    ]
    data[BAD_LINE - 2] = row(BAD_LINE - 1, 发案时间="2026-03-02 09:00:00")  # after it was reported
    assert ROWS > 3 * imports.CHUNK  # the bad row is in the last chunk

    job = run(j, csv_bytes(data))

    assert job.status == "failed" and job.processed_rows == ROWS
    assert job.error_count == 1
    assert [(e["row"], e["column"]) for e in job.errors] == [(BAD_LINE, "发案时间")]
    assert "晚于报警时间" in job.errors[0]["message"]
    assert "没有导入任何数据" in job.message
    assert not Incident.objects.exists() and not IncidentDaily.objects.exists()
    assert not CaseCounter.objects.exists()
