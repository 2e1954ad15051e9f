"""Repeats: address folding, caller digests and the set-based re-flagging."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fengqiao.incidents.models import Incident, IncidentCategory, StationIncidentConfig
from fengqiao.incidents.repeats import address_key, caller_index, config_for, reflag

T0 = timezone.make_aware(datetime(2026, 3, 1, 9, 0))


def _bulk(j, rows: list[tuple[datetime, str, str]]) -> list[Incident]:
    """Create incidents directly (no service): (reported_at, address, phone) each."""
    cat = IncidentCategory.objects.get(code="200100")
    grid = j.grids[0]
    objs = [
        Incident(
            station=j.station,
            community=grid.parent,
            area=grid,
            case_number=f"T-{i:07d}",
            source="phone",
            category=cat,
            class_code=cat.class_code,
            reported_at=t,
            occurred_at=t,
            narrative="测试",
            address=addr,
            address_key=address_key(addr),
            caller_bidx=caller_index(phone),
        )
        for i, (t, addr, phone) in enumerate(rows)
    ]
    return Incident.objects.bulk_create(objs)


def test_address_key_folds_script_width_spacing_and_punctuation():
    assert address_key("湘江路１２号 3栋，501") == address_key("湘江路12号3栋501")
    assert address_key("湘江路12號") == address_key("湘江路12号")
    assert address_key("ＡＢ座") == "ab座"
    assert address_key("   ") == ""
    assert address_key("") == ""


def test_caller_index_matches_the_same_number_written_differently_and_hides_it():
    assert caller_index("+86 138 0013 8000") == caller_index("13800138000")
    assert caller_index("13800138000") != caller_index("13800138001")
    assert "13800138000" not in caller_index("13800138000")
    assert caller_index("") == ""
    assert caller_index("  ") == ""


def test_config_for_gives_unsaved_defaults_then_the_saved_row(j):
    cfg = config_for(j.station.pk)
    assert cfg.pk is None and cfg.repeat_min == 3 and cfg.repeat_days == 30
    StationIncidentConfig.objects.create(station=j.station, repeat_min=5, repeat_days=7)
    assert config_for(j.station.pk).repeat_min == 5


def test_the_nth_incident_at_one_address_within_m_days_is_flagged(j):
    rows = _bulk(j, [(T0 + timedelta(days=d), "湘江路1号", "") for d in (0, 10, 20, 45)])
    changed = reflag(station_id=j.station.pk, first=T0, last=T0 + timedelta(days=60))
    got = {i.pk: i for i in Incident.objects.all()}
    # At day 20 three incidents (0, 10, 20) fall within 30 days; at day 45 only (20, 45).
    assert [got[r.pk].repeat_address for r in rows] == [False, False, True, False]
    assert got[rows[2].pk].repeat_reasons == [{"rule": "address", "count": 3, "days": 30}]
    assert changed == 1
    assert not any(i.repeat_caller for i in got.values())


def test_a_station_threshold_changes_the_flags(j):
    StationIncidentConfig.objects.create(station=j.station, repeat_min=2, repeat_days=7)
    rows = _bulk(j, [(T0 + timedelta(days=d), "湘江路1号", "") for d in (0, 5, 20)])
    reflag(station_id=j.station.pk, first=T0, last=T0 + timedelta(days=30))
    flags = [Incident.objects.get(pk=r.pk).repeat_address for r in rows]
    assert flags == [False, True, False]


def test_a_caller_is_flagged_without_the_phone_in_the_reasons(j):
    rows = _bulk(
        j,
        [(T0 + timedelta(hours=h), f"不同地址{h}", "138 0013 8000") for h in (0, 1, 2)],
    )
    reflag(station_id=j.station.pk, first=T0, last=T0 + timedelta(days=1))
    last = Incident.objects.get(pk=rows[-1].pk)
    assert last.repeat_caller and not last.repeat_address
    assert last.repeat_reasons == [{"rule": "caller", "count": 3, "days": 30}]
    assert "13800138000" not in str(last.repeat_reasons)


def test_reflag_unflags_when_the_threshold_rises_and_is_idempotent(j):
    _bulk(j, [(T0 + timedelta(days=d), "湘江路1号", "13800138000") for d in (0, 1, 2)])
    window = {"station_id": j.station.pk, "first": T0, "last": T0 + timedelta(days=3)}
    assert reflag(**window) == 1
    assert reflag(**window) == 0
    StationIncidentConfig.objects.create(station=j.station, repeat_min=4)
    assert reflag(**window) == 1
    assert not Incident.objects.filter(repeat_address=True).exists()
    assert Incident.objects.filter(repeat_reasons=[]).count() == 3


def test_reflag_leaves_other_stations_and_rows_outside_the_window_alone(j, other):
    _bulk(j, [(T0 + timedelta(days=d), "湘江路1号", "") for d in (0, 1, 2)])
    reflag(station_id=other.station.pk, first=T0, last=T0 + timedelta(days=3))
    assert not Incident.objects.filter(repeat_address=True).exists()
    # A window that ends before the incidents does not reach them.
    reflag(station_id=j.station.pk, first=T0 - timedelta(days=90), last=T0 - timedelta(days=31))
    assert not Incident.objects.filter(repeat_address=True).exists()


def test_a_later_incident_whose_window_reaches_in_is_reflagged(j):
    rows = _bulk(j, [(T0 + timedelta(days=d), "湘江路1号", "") for d in (0, 1, 2)])
    # Only day 0 was (re)loaded, but day 2's window covers it: day 2 gets its flag.
    reflag(station_id=j.station.pk, first=T0, last=T0)
    assert Incident.objects.get(pk=rows[2].pk).repeat_address


def test_a_narrowed_run_recomputes_only_the_given_address(j):
    rows = _bulk(
        j,
        [(T0 + timedelta(days=d), "湘江路1号", "13800138000") for d in (0, 1, 2)]
        + [(T0 + timedelta(days=d), "岳麓路2号", "") for d in (0, 1, 2)],
    )
    reflag(
        station_id=j.station.pk,
        first=T0,
        last=T0 + timedelta(days=2),
        address=address_key("湘江路1号"),
        caller=None,
    )
    got = {i.pk: i for i in Incident.objects.all()}
    assert got[rows[2].pk].repeat_address and not got[rows[2].pk].repeat_caller
    assert not got[rows[5].pk].repeat_address


def _brute(rows, n: int, days: int):
    span = timedelta(days=days)
    out = {}
    for pk, key, t in rows:
        if not key:
            out[pk] = False
            continue
        c = sum(1 for _p, k, u in rows if k == key and t - span < u <= t)
        out[pk] = c >= n
    return out


def test_reflag_equals_a_brute_force_count_on_random_data(j):
    rnd = random.Random(4)
    addrs = [f"湘江路{i}号" for i in range(30)] + [""]
    phones = [f"1380013{i:04d}" for i in range(25)] + [""]
    data = [
        (
            T0 + timedelta(minutes=rnd.randrange(0, 60 * 24 * 120)),
            rnd.choice(addrs),
            rnd.choice(phones),
        )
        for _ in range(1500)
    ]
    rows = _bulk(j, data)
    with CaptureQueriesContext(connection) as ctx:
        reflag(station_id=j.station.pk, first=T0, last=T0 + timedelta(days=120))
    # Set-based: a read, the settings and a single write, whatever the number of rows.
    assert len(ctx.captured_queries) <= 8
    db = {i.pk: i for i in Incident.objects.all()}
    want_a = _brute([(r.pk, r.address_key, r.reported_at) for r in rows], 3, 30)
    want_c = _brute([(r.pk, r.caller_bidx, r.reported_at) for r in rows], 3, 30)
    assert {pk: db[pk].repeat_address for pk in want_a} == want_a
    assert {pk: db[pk].repeat_caller for pk in want_c} == want_c
    assert any(want_a.values()) and not all(want_a.values())


@pytest.mark.parametrize("days", [1, 7])
def test_the_window_boundary_is_exclusive_at_m_days(j, days):
    StationIncidentConfig.objects.create(station=j.station, repeat_min=2, repeat_days=days)
    rows = _bulk(j, [(T0, "湘江路1号", ""), (T0 + timedelta(days=days), "湘江路1号", "")])
    reflag(station_id=j.station.pk, first=T0, last=T0 + timedelta(days=days))
    assert not Incident.objects.get(pk=rows[1].pk).repeat_address
