"""Each section of the morning briefing against the raw rows it is built from."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

import h3
import pytest
from django.utils import timezone

from fengqiao.analytics.briefing import (
    GRID_BASELINE_DAYS,
    briefing_content,
    mask_name,
    same_day_last_year,
)
from fengqiao.analytics.hotspot_selectors import station_hotspots
from fengqiao.incidents.models import Incident, IncidentCategory, StationIncidentConfig
from fengqiao.incidents.repeats import address_key, caller_index
from fengqiao.incidents.rollups import rollup_rebuild

pytestmark = pytest.mark.django_db

D = date(2026, 6, 15)  # the morning of the meeting
_seq = iter(range(1, 10**6))


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """Return the aware local moment `day` hour:minute."""
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def incident(j: Any, when: datetime, *, code: str = "200100", grid: int = 0, **extra: Any) -> Any:
    """Create an incident straight in the table (the log's services are another part's)."""
    g = j.grids[grid]
    category = IncidentCategory.objects.get(code=code)
    n = next(_seq)
    values: dict[str, Any] = {
        "station": j.station,
        "community": g.parent,
        "area": g,
        "case_number": f"JQ-{when.year}-{n:06d}",
        "source": "phone",
        "category": category,
        "class_code": category.class_code,
        "reported_at": when,
        "occurred_at": when - timedelta(minutes=5),
        "narrative": "测试警情",
        "lat": g.centroid_lat,
        "lng": g.centroid_lng,
    }
    if "address" in extra:
        extra.setdefault("address_key", address_key(extra["address"]))
    if "caller_phone" in extra:
        extra.setdefault("caller_bidx", caller_index(extra["caller_phone"]))
    values.update(extra)
    return Incident.objects.create(**values)


def test_overnight_window_is_18_to_08_of_this_station_only(j, other):
    y = D - timedelta(days=1)
    incident(j, at(y, 17, 59))
    first = incident(j, at(y, 18, 0), address="枫桥路1号")
    last = incident(j, at(D, 7, 59), code="100101")
    incident(j, at(D, 8, 0))
    incident(other, at(y, 22, 0))
    c = briefing_content(station_id=j.station.pk, day=D)["overnight"]
    assert c["count"] == 2
    assert [r["id"] for r in c["rows"]] == [first.pk, last.pk]
    assert c["rows"][0]["address"] == "枫桥路1号"
    assert c["rows"][0]["grid"] == j.grids[0].name
    assert c["rows"][1]["category"] == "入室盗窃"
    assert c["rows"][1]["status_label"] == "已接警"
    assert c["start"].startswith(f"{y.isoformat()}T18:00")
    assert c["end"].startswith(f"{D.isoformat()}T08:00")


def test_overnight_reads_the_incident_table_once(j, django_assert_num_queries):
    for h in range(19, 24):
        incident(j, at(D - timedelta(days=1), h))
    from fengqiao.analytics.briefing import overnight_section

    with django_assert_num_queries(1):
        assert overnight_section(j.station.pk, D)["count"] == 5


def test_class_counts_against_day_before_week_mean_and_last_year(j, other):
    y = D - timedelta(days=1)
    for _ in range(3):
        incident(j, at(y), code="100101")  # burglary: theft, criminal
    incident(j, at(y), code="200100")  # fighting: public order
    incident(j, at(D - timedelta(days=2)), code="100199")
    for k in range(2, 9):  # the seven days before yesterday, one theft each (D-2 has two)
        incident(j, at(D - timedelta(days=k)), code="100102")
    incident(j, at(D - timedelta(days=9)), code="100102")  # outside every window
    incident(j, at(same_day_last_year(y)), code="100104")
    incident(j, at(same_day_last_year(y)), code="100104")
    incident(other, at(y), code="100101")
    incident(j, at(D), code="100101")  # today: not yesterday
    rollup_rebuild()
    c = briefing_content(station_id=j.station.pk, day=D)["classes"]
    rows = {r["code"]: r for r in c["rows"]}
    crim = rows["100000"]
    assert (crim["yesterday"], crim["day_before"], crim["last_year"]) == (3, 2, 2)
    assert crim["week_mean"] == round(8 / 7, 2)
    assert crim["vs_day_before"] == 1
    assert crim["vs_last_year_pct"] == 50.0
    theft = rows["100100"]
    assert theft["level"] == "category" and theft["yesterday"] == 3
    order = rows["200000"]
    assert order["yesterday"] == 1 and order["day_before"] == 0
    assert order["vs_week_mean_pct"] is None  # nothing to compare with
    assert rows["200100"]["yesterday"] == 1
    assert "100200" not in rows  # robbery: no incident in any column
    assert c["total"]["yesterday"] == 4
    assert c["dates"]["last_year"] == "2025-06-14"


def test_same_day_last_year_of_29_february():
    assert same_day_last_year(date(2028, 2, 29)) == date(2027, 2, 28)


def test_grids_above_their_poisson_normal(j):
    y = D - timedelta(days=1)
    # Grid 1: one a day for the 28 baseline days; 2 yesterday is within 1 + 2·√1 = 3.
    for k in range(1, GRID_BASELINE_DAYS + 1):
        incident(j, at(y - timedelta(days=k)), grid=1)
    incident(j, at(y), grid=1)
    incident(j, at(y, 11), grid=1)
    # Grid 0: quiet (two in 28 days), then 3 yesterday: above 2/28 + 2·√(2/28) ≈ 0.61.
    incident(j, at(y - timedelta(days=20)), grid=0)
    incident(j, at(y - timedelta(days=3)), grid=0)
    for h in (9, 12, 15):
        incident(j, at(y, h), grid=0)
    # Grid 2: a single incident yesterday stays below the minimum of two.
    incident(j, at(y), grid=2)
    rollup_rebuild()
    c = briefing_content(station_id=j.station.pk, day=D)["grids"]
    assert [r["id"] for r in c["rows"]] == [j.grids[0].pk]
    g = c["rows"][0]
    mean = 2 / GRID_BASELINE_DAYS  # the incident 3 days before yesterday is in the baseline
    assert g["yesterday"] == 3 and g["week"] == 4
    assert g["mean"] == round(mean, 3)
    assert g["threshold"] == round(mean + 2 * mean**0.5, 3)
    assert "yesterday" in g["reasons"] and "week" in g["reasons"]
    assert g["name"] == j.grids[0].name and g["community"] == j.communities[0].name


def test_repeats_group_addresses_and_callers_and_mask_the_caller(j):
    StationIncidentConfig.objects.create(station=j.station, repeat_min=3, repeat_days=10)
    y = D - timedelta(days=1)
    for k in (0, 2, 9):
        incident(j, at(y - timedelta(days=k)), address="枫桥路 8 号")
    incident(j, at(y - timedelta(days=12)), address="枫桥路8号")  # outside the 10 days
    incident(j, at(y), address="枫桥路9号")
    for k in (0, 1, 4):
        incident(j, at(y - timedelta(days=k), 20), caller_name="张三丰", caller_phone="13812345678")
    incident(j, at(y), caller_name="李四", caller_phone="13900000000")
    content = briefing_content(station_id=j.station.pk, day=D)
    r = content["repeats"]
    assert (r["min"], r["days"]) == (3, 10)
    assert [(a["address"], a["count"]) for a in r["addresses"]] == [("枫桥路 8 号", 3)]
    assert len(r["addresses"][0]["incidents"]) == 3
    assert [(c["name_masked"], c["count"]) for c in r["callers"]] == [("张**", 3)]
    text = json.dumps(content, ensure_ascii=False)
    assert "13812345678" not in text and "张三丰" not in text


def test_mask_name():
    assert mask_name("张三丰") == "张**"
    assert mask_name("王五") == "王*"
    assert mask_name("") == ""


def test_disputes_red_or_past_deadline(j, other):
    from fengqiao.disputes.models import Dispute
    from fengqiao.disputes.tests.kit import intake

    red = intake(j)
    late = intake(j)
    fine = intake(j)
    closed_red = intake(j)
    theirs = intake(other)
    Dispute.objects.filter(pk=red.pk).update(colour="red", deadline=D + timedelta(days=5))
    Dispute.objects.filter(pk=late.pk).update(colour="blue", deadline=D - timedelta(days=2))
    Dispute.objects.filter(pk=fine.pk).update(colour="blue", deadline=D)
    Dispute.objects.filter(pk=closed_red.pk).update(colour="red", status="closed")
    Dispute.objects.filter(pk=theirs.pk).update(colour="red")
    rows = briefing_content(station_id=j.station.pk, day=D)["disputes"]["rows"]
    assert [r["id"] for r in rows] == [late.pk, red.pk]
    assert rows[0]["overdue_days"] == 2 and rows[0]["colour"] == "blue"
    assert rows[1]["colour_label"] == "红色" and rows[1]["overdue_days"] == 0
    assert rows[1]["case_number"] == red.case_number


def test_hotspots_are_the_hot_cells_of_station_hotspots(j):
    # Given a cluster on one H3 cell and its six neighbours in the last four weeks, and
    # incidents scattered over the station in every window
    y = D - timedelta(days=1)
    spot = h3.latlng_to_cell(28.2105, 112.9105, 9)
    centres = [h3.cell_to_latlng(c) for c in [spot, *h3.grid_ring(spot, 1)]]
    for k in range(42):
        lat, lng = centres[k % 7]
        incident(j, at(y - timedelta(days=k % 20)), lat=lat, lng=lng)
    for w in range(6):
        for i in range(10):
            lat, lng = 28.201 + 0.0018 * i, 112.902 + 0.0017 * ((i * 7 + w) % 10)
            incident(j, at(y - timedelta(days=28 * w + i)), lat=lat, lng=lng)
    # When the briefing is built
    c = briefing_content(station_id=j.station.pk, day=D)["hotspots"]
    # Then its cells are those of the hotspot selector up to yesterday, the cluster first
    report = station_hotspots(station_id=j.station.pk, end=y)
    assert [x["h3"] for x in c["cells"]] == [x.h3 for x in report.hot_cells]
    assert c["end"] == y.isoformat()
    top = c["cells"][0]
    assert top["h3"] == spot and top["trend"] == "new"
    assert top["hot"] and top["z"] > 3 and top["q"] <= 0.05 and len(top["boundary"]) == 6


def test_no_patrol_section_until_patrols_are_recorded(j):
    assert "patrols" not in briefing_content(station_id=j.station.pk, day=D)


def test_the_whole_briefing_reads_a_fixed_number_of_queries(j, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def night(n: int) -> None:
        y = D - timedelta(days=1)
        for k in range(n):
            incident(j, at(y - timedelta(days=k % 5), 20), grid=k % 4, address="枫桥路8号")
            incident(j, at(y, 22), caller_name="张三丰", caller_phone="13812345678")

    # Given a night with repeats, then one with five times as many incidents
    night(3)
    rollup_rebuild()
    with CaptureQueriesContext(connection) as small:
        briefing_content(station_id=j.station.pk, day=D)
    night(12)
    rollup_rebuild()
    # Then the larger night costs the same queries, a handful per section
    with django_assert_max_num_queries(len(small)):
        c = briefing_content(station_id=j.station.pk, day=D)
    # Overnight: the 15 calls at 22:00 and the address incidents of yesterday (k = 0, 0, 5, 10)
    assert c["overnight"]["count"] == 19 and c["repeats"]["callers"][0]["count"] == 15
    assert len(small) <= 16
