"""Repeat flags after an import: the database's window counts equal `repeats.reflag`'s."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Max, Min

from fengqiao.incidents.import_repeats import reflag_span
from fengqiao.incidents.models import Incident, StationIncidentConfig
from fengqiao.incidents.repeats import reflag
from fengqiao.incidents.tests.test_import_kit import (
    csv_bytes,
    media,  # noqa: F401 - fixture
    row,
    run,
)

pytestmark = pytest.mark.usefixtures("media")

STREETS = ["枫桥路1号", "枫桥路2号", "金园路3号", "", "雷锋大道4号"]
PHONES = ["13812345678", "13900001111", "", "13700002222"]


def _history(
    n: int, *, first: int = 1, start: datetime = datetime(2026, 1, 1, 8, 0, 0), seed: int = 7
) -> list[dict[str, str]]:
    """Return n rows over about 100 days with repeated addresses and phones, exact 30-day
    gaps and equal times, so the windows' edges and ties are exercised."""
    rnd = random.Random(seed)
    data = []
    for i in range(first, first + n):
        if i % 10 == 0:
            at = start + timedelta(days=30 * (i // 10 % 3))  # exactly 0, 30 or 60 days later
        else:
            at = start + timedelta(minutes=rnd.randrange(100 * 24 * 60))
        data.append(
            row(
                i,
                报警时间=at.strftime("%Y-%m-%d %H:%M:%S"),
                发案时间=at.strftime("%Y-%m-%d %H:%M:%S"),
                地址=STREETS[rnd.randrange(len(STREETS))],
                联系电话=PHONES[rnd.randrange(len(PHONES))],
            )
        )
    return data


def _flags() -> dict[int, tuple[bool, bool, list[Any]]]:
    return {
        pk: (a, c, r)
        for pk, a, c, r in Incident.objects.values_list(
            "id", "repeat_address", "repeat_caller", "repeat_reasons"
        )
    }


def _span() -> tuple[datetime, datetime]:
    got = Incident.objects.aggregate(first=Min("reported_at"), last=Max("reported_at"))
    return got["first"], got["last"]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the set-based flags run on PostgreSQL only"
)
@pytest.mark.parametrize(("repeat_min", "repeat_days"), [(3, 30), (2, 7)])
def test_set_based_flags_equal_reflag(j: Any, repeat_min: int, repeat_days: int) -> None:
    StationIncidentConfig.objects.update_or_create(
        station=j.station, defaults={"repeat_min": repeat_min, "repeat_days": repeat_days}
    )
    job = run(j, csv_bytes(_history(300)))
    assert job.status == "done", job.message
    by_import = _flags()
    assert sum(a or c for a, c, _r in by_import.values()) > 20, "too few repeats to compare"
    first, last = _span()

    Incident.objects.update(repeat_address=False, repeat_caller=False, repeat_reasons=[])
    changed = reflag(station_id=j.station.pk, first=first, last=last)
    assert _flags() == by_import
    assert reflag_span(station_id=j.station.pk, first=first, last=last) == 0

    Incident.objects.update(repeat_address=False, repeat_caller=False, repeat_reasons=[])
    assert reflag_span(station_id=j.station.pk, first=first, last=last) == changed
    assert _flags() == by_import


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the set-based flags run on PostgreSQL only"
)
def test_set_based_flags_reach_later_incidents_and_leave_older_ones(j: Any) -> None:
    run(j, csv_bytes(_history(120)))
    first, last = _span()
    mid = first + (last - first) / 2
    Incident.objects.update(repeat_address=False, repeat_caller=False, repeat_reasons=[])
    reflag_span(station_id=j.station.pk, first=mid, last=mid + timedelta(days=1))
    flagged = Incident.objects.filter(repeat_address=True) | Incident.objects.filter(
        repeat_caller=True
    )
    assert flagged.exists()
    # Only those reported in [mid, mid + 1 day + 30 days] may change.
    assert not flagged.filter(reported_at__lt=mid).exists()
    assert not flagged.filter(reported_at__gt=mid + timedelta(days=31)).exists()


def test_the_import_flags_repeats_on_every_database(j: Any) -> None:
    # SQLite falls back to reflag; both give the flags the rules define.
    data = [row(i, 地址="枫桥路9号", 联系电话="") for i in range(1, 4)]
    run(j, csv_bytes(data))
    got = sorted(Incident.objects.values_list("repeat_address", "repeat_reasons"))
    assert got[-1][0] is True
    assert got[-1][1] == [{"rule": "address", "count": 3, "days": 30}]


@pytest.mark.parametrize(("repeat_min", "repeat_days"), [(3, 30), (2, 7)])
def test_an_import_among_stored_incidents_flags_both_as_reflag(
    j: Any, repeat_min: int, repeat_days: int
) -> None:
    # Given a station with 100 days of incidents, and a second file whose rows fall inside
    # that span and around its edges (the stored ones before, among and after them count).
    StationIncidentConfig.objects.update_or_create(
        station=j.station, defaults={"repeat_min": repeat_min, "repeat_days": repeat_days}
    )
    assert run(j, csv_bytes(_history(200))).status == "done"
    before = _flags()
    later = _history(150, first=1001, start=datetime(2026, 2, 10, 9, 30, 0), seed=11)
    # When it is imported.
    job = run(j, csv_bytes(later))
    # Then every incident, stored or new, carries the flags reflag gives from scratch.
    assert job.status == "done", job.message
    by_import = _flags()
    changed_stored = [pk for pk in before if by_import[pk] != before[pk]]
    assert changed_stored, "no stored incident was reached by the new rows"
    assert sum(a or c for a, c, _r in by_import.values()) > 40, "too few repeats to compare"
    first, last = _span()
    Incident.objects.update(repeat_address=False, repeat_caller=False, repeat_reasons=[])
    reflag(station_id=j.station.pk, first=first, last=last)
    assert _flags() == by_import
