"""The demo's incidents: two years with a real station's patterns, each measured from the rows."""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import h3
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from fengqiao.analytics.hotspot_selectors import station_hotspots
from fengqiao.areas.geo import grid_index
from fengqiao.areas.models import Area
from fengqiao.core.audit import audit_verify
from fengqiao.core.casenumbers import case_number_next
from fengqiao.core.models import AuditEntry, CaseCounter
from fengqiao.core.pii import validate_phone
from fengqiao.core.text import search_document
from fengqiao.demo.incidents import (
    CASE_PREFIX,
    HOTSPOTS,
    KEY_PREFIX,
    OLD_COMMUNITY,
    IncidentGround,
    Planner,
    load_incidents,
    spots,
    year_bounds,
)
from fengqiao.demo.plan import LEIFENG, SEED
from fengqiao.demo.tests.kit import ensure_code_lists
from fengqiao.disputes.models import Dispute
from fengqiao.incidents.choices import Disposition, Source, Status
from fengqiao.incidents.models import (
    Incident,
    IncidentCategory,
    IncidentDaily,
    IncidentHourly,
    StationIncidentConfig,
)
from fengqiao.incidents.repeats import address_key, caller_index

pytestmark = pytest.mark.django_db  # each test runs in a savepoint inside the module's load


@pytest.fixture(scope="module")
def station(django_db_setup: None, django_db_blocker: Any) -> Iterator[Area]:
    """Load the whole demo once for the module, in a transaction rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        ensure_code_lists()
        call_command("demo_load", stdout=io.StringIO())
        yield Area.objects.get(code=LEIFENG.code)
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def rows(station: Area, django_db_blocker: Any) -> list[dict[str, Any]]:
    """Every demo incident as plain values, read once."""
    with django_db_blocker.unblock():
        return list(
            Incident.objects.filter(station=station).values(
                "pk",
                "reported_at",
                "occurred_at",
                "dispatched_at",
                "arrived_at",
                "closed_at",
                "community__name",
                "area_id",
                "community_id",
                "area__parent_id",
                "category__code",
                "class_code",
                "source",
                "status",
                "disposition",
                "linkage",
                "valid",
                "lat",
                "lng",
                "intake_key",
                "source",
            )
        )


def _local(value: Any) -> Any:
    return timezone.localtime(value)


def _metres(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    dy = (lat1 - lat2) * 111_000
    dx = (lng1 - lng2) * 111_320 * math.cos(math.radians(lat2))
    return math.hypot(dx, dy)


def test_two_years_of_about_six_thousand_a_year_ending_yesterday(
    station: Area, rows: list[dict[str, Any]]
) -> None:
    today = timezone.localdate()
    (b1, b2), (l1, l2) = year_bounds(today)
    days = [_local(r["reported_at"]).date() for r in rows]
    assert 5000 <= sum(1 for d in days if l1 <= d <= l2) <= 7000
    assert 5000 <= sum(1 for d in days if b1 <= d <= b2) <= 7000
    assert min(days) == b1 and max(days) == today - timedelta(days=1)
    assert all(r["intake_key"].startswith(KEY_PREFIX) for r in rows)
    # Every incident counts under the root of its code's branch of the tree.
    parent = dict(IncidentCategory.objects.values_list("code", "parent__code"))

    def root(code: str) -> str:
        while parent[code]:
            code = parent[code]
        return code

    assert all(r["class_code"] == root(r["category__code"]) for r in rows)


def test_the_old_centre_takes_a_fifth(rows: list[dict[str, Any]]) -> None:
    shares = Counter(r["community__name"] for r in rows)
    assert 0.18 <= shares[OLD_COMMUNITY] / len(rows) <= 0.22
    assert shares[OLD_COMMUNITY] == max(shares.values())
    assert len(shares) == len(LEIFENG.communities)


def test_nights_and_weekends_peak(rows: list[dict[str, Any]]) -> None:
    times = [_local(r["reported_at"]) for r in rows]
    hours = Counter(t.hour for t in times)
    night = sum(hours[h] for h in (20, 21, 22, 23, 0, 1)) / 6
    day = sum(hours[h] for h in range(8, 20)) / 12
    rest = sum(hours[h] for h in range(2, 20)) / 18
    assert max(hours, key=lambda h: hours[h]) in (20, 21, 22, 23, 0, 1)
    assert night >= 1.15 * day and night >= 1.4 * rest
    weekdays = Counter(t.weekday() for t in times)
    working = sum(weekdays[d] for d in range(4)) / 4  # Monday to Thursday
    assert weekdays[5] >= 1.2 * working and weekdays[6] >= 1.15 * working
    assert weekdays[4] >= 1.1 * working

    def is_night(wd: int, t: Any) -> bool:  # the night that starts on weekday wd
        return (t.weekday() == wd and t.hour >= 20) or (t.weekday() == (wd + 1) % 7 and t.hour < 2)

    friday = sum(1 for t in times if is_night(4, t))
    others = sum(1 for t in times for wd in range(4) if is_night(wd, t)) / 4
    assert friday >= 1.3 * others


def test_burglary_halves_and_fraud_falls_by_a_third(rows: list[dict[str, Any]]) -> None:
    (b1, b2), (l1, l2) = year_bounds(timezone.localdate())

    def ratio(code: str) -> float:
        days = [_local(r["reported_at"]).date() for r in rows if r["category__code"] == code]
        return sum(1 for d in days if l1 <= d <= l2) / sum(1 for d in days if b1 <= d <= b2)

    assert 0.45 <= ratio("100101") <= 0.55
    assert 0.63 <= ratio("100401") <= 0.73


def test_the_mix_is_a_real_stations(rows: list[dict[str, Any]]) -> None:
    n = len(rows)
    codes = Counter(r["category__code"] for r in rows)
    wanted = {"500100", "500200", "500300", "500400", "200100", "200200", "100103", "300100"}
    assert wanted | {"200300", "600300", "100101", "100401", "999900"} <= set(codes)
    classes = Counter(r["class_code"] for r in rows)
    assert classes["500000"] / n >= 0.15 and classes["200000"] / n >= 0.15
    assert max(classes.values()) < 0.35 * n
    invalid = [r for r in rows if not r["valid"]]
    assert 0.05 <= len(invalid) / n <= 0.10
    assert all(r["disposition"] == Disposition.INVALID for r in invalid)
    assert not any(r["disposition"] == Disposition.INVALID for r in rows if r["valid"])
    sources = Counter(r["source"] for r in rows)
    assert set(sources) == set(Source.values)
    assert sources[Source.DISPATCH_110] / n >= 0.6
    assert all(sources[s] >= 100 for s in Source.values)


def test_every_point_lies_in_its_grid_of_its_community(
    station: Area, rows: list[dict[str, Any]]
) -> None:
    located = grid_index(station.pk).locate_many([r["lng"] for r in rows], [r["lat"] for r in rows])
    assert located.tolist() == [r["area_id"] for r in rows]
    assert all(r["community_id"] == r["area__parent_id"] for r in rows)


def test_three_persistent_hotspots_and_one_that_emerged(
    station: Area, rows: list[dict[str, Any]]
) -> None:
    places = spots(IncidentGround(station))
    yesterday = timezone.localdate() - timedelta(days=1)

    def near(key: str) -> list[date]:
        s = places[key]
        return [
            _local(r["reported_at"]).date()
            for r in rows
            if _metres(r["lat"], r["lng"], s.lat, s.lng) <= 150
        ]

    for key in ("ktv", "street", "compound"):
        days = near(key)
        quarters = Counter((yesterday - d).days // 91 for d in days)
        # Tight and steady: every quarter of both years has its share.
        assert all(quarters[q] >= 40 for q in range(8)), (key, quarters)
    days = near("food_street")
    recent = sum(1 for d in days if (yesterday - d).days < 42)
    before = sum(1 for d in days if (yesterday - d).days >= 42)
    assert recent >= 25
    assert before / (730 - 42) <= 0.2 * recent / 42
    # The hotspot map sees them as such.
    report = station_hotspots(station_id=station.pk, end=yesterday)

    def trends(key: str) -> set[str]:
        cell = h3.latlng_to_cell(places[key].lat, places[key].lng, 9)
        return {c.trend for c in report.cells if c.hot and h3.grid_distance(c.h3, cell) <= 1}

    for key in ("ktv", "street", "compound"):
        assert "persistent" in trends(key), key
    assert trends("food_street") == {"new"}
    assert {h.key for h in HOTSPOTS} == {"ktv", "street", "compound", "food_street"}


def test_repeat_addresses_and_callers_are_flagged(station: Area) -> None:
    config = StationIncidentConfig.objects.get(station=station)
    assert (config.repeat_min, config.repeat_days) == (3, 30)
    assert (config.briefing_hour, config.briefing_minute, config.hotspot_resolution) == (7, 0, 9)
    incidents = Incident.objects.filter(station=station)
    recent = incidents.filter(reported_at__gte=timezone.now() - timedelta(days=30))
    addresses = set(recent.filter(repeat_address=True).values_list("address", flat=True))
    assert 3 <= len(addresses) <= 8
    assert any("黄桥村7组21号" in a for a in addresses)  # the family that quarrels
    callers = set(recent.filter(repeat_caller=True).values_list("caller_bidx", flat=True))
    assert 2 <= len(callers) <= 6
    noise = incidents.filter(intake_key__startswith=f"{KEY_PREFIX}r-noise-")
    assert noise.count() >= 10
    assert noise.filter(repeat_caller=True, repeat_address=True).count() >= 8
    flagged = noise.filter(repeat_caller=True).first()
    assert flagged is not None
    assert any(
        r["rule"] == "caller" and r["count"] >= 3 and r["days"] == 30
        for r in flagged.repeat_reasons
    )
    # A handful, not everyone: most incidents are nobody's repeat.
    assert incidents.filter(repeat_caller=True).count() < 0.01 * incidents.count()


def test_callers_are_synthetic_valid_encrypted_and_digested(station: Area) -> None:
    sample = list(Incident.objects.filter(station=station).exclude(caller_phone="")[:400])
    assert len(sample) == 400
    for i in sample:
        assert validate_phone(i.caller_phone) == i.caller_phone
        assert i.caller_bidx == caller_index(i.caller_phone)
        assert i.address_key == address_key(i.address)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT caller_phone, caller_name FROM incidents_incident WHERE id = %s",
            [sample[0].pk],
        )
        phone, name = cur.fetchone()
    assert sample[0].caller_phone not in phone and sample[0].caller_name not in name
    # Patrols and cameras find incidents: nobody called.
    found = Incident.objects.filter(station=station, source__in=["patrol", "video"])
    assert not found.exclude(caller_phone="").exclude(intake_key__contains="seed").exists()


def test_states_and_response_times_are_a_command_rooms(
    station: Area, rows: list[dict[str, Any]]
) -> None:
    now = timezone.now()
    states = Counter(r["status"] for r in rows)
    assert set(states) == set(Status.values)
    open_rows = [r for r in rows if r["status"] != Status.CLOSED]
    assert 3 <= len(open_rows) <= 12
    yesterday = timezone.localdate() - timedelta(days=1)
    assert all(_local(r["reported_at"]).date() == yesterday for r in open_rows)
    assert not any(r["disposition"] or r["closed_at"] for r in open_rows)
    dispatched = [r for r in rows if r["dispatched_at"] is not None]
    waits = sorted((r["dispatched_at"] - r["reported_at"]).total_seconds() / 60 for r in dispatched)
    assert waits[0] >= 0 and waits[len(waits) // 2] <= 5 and waits[-1] <= 15
    arrived = [r for r in dispatched if r["arrived_at"] is not None and r["source"] != "patrol"]
    travel = sorted((r["arrived_at"] - r["reported_at"]).total_seconds() / 60 for r in arrived)
    assert 5 <= travel[len(travel) // 2] <= 20 and travel[-1] <= 60
    for r in rows:
        steps = [r["reported_at"], r["dispatched_at"], r["arrived_at"], r["closed_at"]]
        known = [s for s in steps if s is not None]
        assert known == sorted(known) and known[-1] <= now
        assert r["occurred_at"] <= r["reported_at"]
        if r["status"] == Status.CLOSED:
            assert r["disposition"] and r["closed_at"] is not None
        assert bool(r["linkage"]) == (r["disposition"] == Disposition.REFERRED)
    dispositions = Counter(r["disposition"] for r in rows)
    assert set(dispositions) == set(Disposition.values) | {""}


def test_the_seeds_incidents_are_there_as_told(station: Area) -> None:
    def seed(key: str) -> Incident:
        return Incident.objects.select_related("category").get(
            station=station, intake_key=f"{KEY_PREFIX}seed-{key}"
        )

    granny = seed("granny")
    assert granny.category.code == "500100" and "尖山安置小区" in granny.narrative
    assert _local(granny.reported_at).hour == 6 and granny.source == Source.PATROL
    collapse = seed("collapse")
    assert "新华巷" in collapse.narrative and collapse.linkage == "120"
    ebike = seed("ebike")
    assert ebike.category.code == "100103" and "步行街" in ebike.narrative
    books = seed("books")
    assert books.category.code == "500200" and "废品" in books.narrative
    den = seed("fraud-den")
    assert den.category.code == "100401" and "近百部手机" in den.narrative
    assert den.disposition == Disposition.CRIMINAL_CASE
    assert seed("gambling").category.code == "200300"
    for i in (granny, collapse, ebike, books, den):
        assert (timezone.now() - i.reported_at).days <= 366
    fight = Dispute.objects.get(station=station, intake_key="demo-seed-fight")
    call = Incident.objects.get(station=station, dispute=fight)
    assert call.category.code == "200100" and "科技园" in call.narrative
    assert call.disposition == Disposition.DISPUTE and call.reported_at < fight.reported_at


def test_the_police_call_disputes_came_from_linked_incidents(station: Area) -> None:
    start = timezone.localdate() - timedelta(days=729)
    calls = Dispute.objects.filter(
        station=station,
        source="police_call",
        reported_at__date__gte=start,
        reported_at__lt=timezone.make_aware(datetime.combine(timezone.localdate(), time.min)),
    )
    linked = Incident.objects.filter(station=station, dispute__isnull=False)
    assert calls.count() >= 200
    assert set(linked.values_list("dispute_id", flat=True)) == set(
        calls.values_list("pk", flat=True)
    )
    assert linked.count() == calls.count()
    assert set(linked.values_list("disposition", flat=True)) == {Disposition.DISPUTE}
    assert not Incident.objects.filter(station=station, disposition="dispute", dispute=None)


def test_search_text_is_the_search_document(station: Area) -> None:
    sample = list(
        Incident.objects.filter(station=station).select_related("category").order_by("?")[:800]
    )
    sample += list(Incident.objects.filter(station=station, intake_key__contains="seed"))
    for i in sample:
        expected = search_document(
            i.case_number, i.external_id, i.category.name, i.address, i.narrative
        )
        assert i.search_text == expected


def test_case_numbers_run_in_order_and_a_new_intake_continues(
    station: Area, rows: list[dict[str, Any]]
) -> None:
    by_year: dict[int, list[tuple[Any, str]]] = {}
    for i in Incident.objects.filter(station=station).values_list("reported_at", "case_number"):
        by_year.setdefault(_local(i[0]).year, []).append(i)
    for year, items in by_year.items():
        items.sort()
        numbers = [n for _at, n in items]
        assert numbers == [f"{CASE_PREFIX}-{year}-{k:06d}" for k in range(1, len(items) + 1)]
        counter = CaseCounter.objects.get(station_id=station.pk, prefix=CASE_PREFIX, year=year)
        assert counter.last == len(items)
    year = max(by_year)
    nxt = case_number_next(station_id=station.pk, prefix=CASE_PREFIX, year=year)
    assert nxt == f"{CASE_PREFIX}-{year}-{len(by_year[year]) + 1:06d}"
    ids = Incident.objects.filter(station=station).exclude(external_id="")
    assert ids.count() == sum(1 for r in rows if r["source"] == Source.DISPATCH_110)


def test_rollups_audit_and_a_second_run(station: Area, rows: list[dict[str, Any]]) -> None:
    daily = IncidentDaily.objects.filter(station=station)
    assert sum(daily.values_list("count", flat=True)) == len(rows)
    assert sum(daily.values_list("valid", flat=True)) == sum(1 for r in rows if r["valid"])
    hourly = IncidentHourly.objects.filter(station=station)
    assert sum(hourly.values_list("count", flat=True)) == len(rows)
    entries = AuditEntry.objects.filter(object_type="incidents.incident")
    assert set(entries.values_list("object_id", flat=True)) == {str(r["pk"]) for r in rows}
    # The last weeks' incidents show each step on their timeline.
    closed_recent = next(
        r
        for r in sorted(rows, key=lambda r: r["reported_at"], reverse=True)
        if r["status"] == Status.CLOSED and r["dispatched_at"] is not None
    )
    actions = list(
        entries.filter(object_id=str(closed_recent["pk"]))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[0] == "incidents.incident.created" and len(actions) == 4
    assert not entries.filter(changes__icontains="caller").exists()
    assert audit_verify().ok
    before = (Incident.objects.count(), AuditEntry.objects.count(), daily.count())
    assert load_incidents(station=station) == {"incident_configs": 0}
    assert (Incident.objects.count(), AuditEntry.objects.count(), daily.count()) == before


def test_the_plan_is_the_same_every_time(station: Area) -> None:
    now = timezone.now()
    ground = IncidentGround(station)
    first = Planner(ground, SEED, 600, now).plan()
    second = Planner(ground, SEED, 600, now).plan()
    assert [(p.key, p.code, p.at, p.lat, p.lng, p.address) for p in first] == [
        (p.key, p.code, p.at, p.lat, p.lng, p.address) for p in second
    ]
