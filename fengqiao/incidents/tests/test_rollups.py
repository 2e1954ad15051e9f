"""The incident rollups equal a recount from the incident table after every kind of write."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fengqiao.factories import Jurisdiction
from fengqiao.incidents.models import (
    Incident,
    IncidentCategory,
    IncidentDaily,
    IncidentHourly,
    IncidentMonthly,
)
from fengqiao.incidents.rollups import (
    hour_dow_key,
    local_day,
    month_start,
    rollup_rebuild,
    rollups_deferred,
)

_seq = itertools.count(1)


def make_incident(
    j: Jurisdiction, at: datetime, *, code: str = "100101", grid: int = 0, valid: bool = True
) -> Incident:
    """Save an incident directly (the intake service is another part's): the hooks see save()."""
    cat = IncidentCategory.objects.get(code=code)
    g = j.grids[grid]
    return Incident.objects.create(
        station=j.station,
        community_id=g.parent_id,
        area=g,
        case_number=f"JQ-T-{next(_seq):06d}",
        source="dispatch_110",
        category=cat,
        class_code=cat.class_code,
        reported_at=at,
        occurred_at=at - timedelta(minutes=5),
        narrative="测试警情",
        valid=valid,
    )


def expected() -> dict[str, Counter[Any]]:
    """Count every rollup from the incident table in Python (the reference)."""
    daily: Counter[Any] = Counter()
    valid: Counter[Any] = Counter()
    hourly: Counter[Any] = Counter()
    monthly: Counter[Any] = Counter()
    mvalid: Counter[Any] = Counter()
    for i in Incident.objects.all():
        local = i.reported_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
        day = local.date()
        key = (i.station_id, day, i.area_id, i.category_id, i.community_id, i.class_code)
        daily[key] += 1
        valid[key] += int(i.valid)
        hourly[(i.station_id, day, local.hour, i.class_code)] += 1
        m = month_start(day)
        for dim, k in (
            ("category", i.category_id),
            ("class", int(i.class_code)),
            ("grid", i.area_id),
            ("community", i.community_id),
        ):
            monthly[(i.station_id, m, dim, k)] += 1
            mvalid[(i.station_id, m, dim, k)] += int(i.valid)
        monthly[(i.station_id, m, "hour_dow", hour_dow_key(local.isoweekday(), local.hour))] += 1
    return {"daily": daily, "valid": valid, "hourly": hourly, "monthly": monthly, "mvalid": mvalid}


def stored() -> dict[str, Counter[Any]]:
    daily: Counter[Any] = Counter()
    valid: Counter[Any] = Counter()
    for r in IncidentDaily.objects.all():
        key = (r.station_id, r.day, r.area_id, r.category_id, r.community_id, r.class_code)
        daily[key] += r.count
        valid[key] += r.valid
    hourly = Counter(
        {(r.station_id, r.day, r.hour, r.class_code): r.count for r in IncidentHourly.objects.all()}
    )
    monthly: Counter[Any] = Counter()
    mvalid: Counter[Any] = Counter()
    for r in IncidentMonthly.objects.all():
        monthly[(r.station_id, r.month, r.dim, r.key)] += r.count
        if r.dim != "hour_dow":
            mvalid[(r.station_id, r.month, r.dim, r.key)] += r.valid
    return {
        "daily": daily,
        "valid": +valid,
        "hourly": hourly,
        "monthly": monthly,
        "mvalid": +mvalid,
    }


def assert_current() -> None:
    want, got = expected(), stored()
    want["valid"], want["mvalid"] = +want["valid"], +want["mvalid"]
    assert got == want


def test_intake_edit_delete_keep_the_rollup_current(
    j: Jurisdiction, django_capture_on_commit_callbacks
) -> None:
    # Given incidents either side of local midnight (16:00 UTC is 00:00 in Shanghai)
    with django_capture_on_commit_callbacks(execute=True):
        a = make_incident(j, datetime(2026, 3, 1, 15, 59, tzinfo=UTC))
        b = make_incident(j, datetime(2026, 3, 1, 16, 0, tzinfo=UTC), code="200100", grid=2)
        make_incident(j, datetime(2026, 3, 31, 17, 0, tzinfo=UTC), valid=False)
    # Then the 15:59 UTC one is counted on 1 March, the 16:00 one on 2 March, the last in April
    assert set(IncidentDaily.objects.values_list("day", flat=True)) == {
        date(2026, 3, 1),
        date(2026, 3, 2),
        date(2026, 4, 1),
    }
    assert_current()
    # When one moves to another month, grid and category, and another turns invalid
    with django_capture_on_commit_callbacks(execute=True):
        a.reported_at = datetime(2026, 5, 10, 2, 0, tzinfo=UTC)
        a.occurred_at = a.reported_at
        a.area = j.grids[3]
        a.community_id = j.grids[3].parent_id
        a.save()
        b.valid = False
        b.save(update_fields=["valid"])
    assert_current()
    # the March burglary has left March: only April's invalid one is left of that category
    assert not IncidentMonthly.objects.filter(
        month=date(2026, 3, 1), dim="category", key=a.category_id
    ).exists()
    # When one is deleted
    with django_capture_on_commit_callbacks(execute=True):
        b.delete()
    assert_current()


def test_rolled_back_write_leaves_the_rollup_as_it_was(
    j: Jurisdiction, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        make_incident(j, datetime(2026, 3, 1, 3, 0, tzinfo=UTC))
    before = stored()
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        make_incident(j, datetime(2026, 3, 1, 4, 0, tzinfo=UTC))
        raise RuntimeError
    assert stored() == before
    assert_current()


def test_deferred_writes_wait_for_the_rebuild(
    j: Jurisdiction, other: Jurisdiction, django_capture_on_commit_callbacks
) -> None:
    # Given a bulk load under rollups_deferred
    with django_capture_on_commit_callbacks(execute=True), rollups_deferred():
        for d in range(5):
            make_incident(j, datetime(2026, 1, 1 + d, 3, tzinfo=UTC))
            make_incident(other, datetime(2026, 2, 1 + d, 3, tzinfo=UTC), code="100401")
    # Then nothing was counted yet
    assert not IncidentDaily.objects.exists()
    # When the loader rebuilds one station, then the other for a range of days
    assert rollup_rebuild(station_ids=[j.station.pk]) == 5
    assert (
        rollup_rebuild(
            station_ids=[other.station.pk], first=date(2026, 2, 1), last=date(2026, 2, 28)
        )
        == 5
    )
    assert_current()


def test_rebuild_of_some_days_keeps_the_rest_of_the_month(
    j: Jurisdiction, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for d in range(1, 29, 3):
            make_incident(j, datetime(2026, 2, d, 3, tzinfo=UTC), grid=d % 4)
    # Rows written behind the hooks (a queryset update) are repaired by a rebuild of their days
    Incident.objects.filter(reported_at__day=10).update(valid=False)
    rollup_rebuild(station_ids=[j.station.pk], first=date(2026, 2, 10), last=date(2026, 2, 10))
    assert_current()
    # and the command rebuilds everything
    IncidentMonthly.objects.all().delete()
    call_command("rollup_incidents", "--station", str(j.station.pk))
    assert_current()
    IncidentDaily.objects.all().delete()
    call_command("rollup_incidents", "--from", "2026-02-01", "--to", "2026-02-28")
    assert_current()


moments = st.datetimes(
    min_value=datetime(2024, 12, 30), max_value=datetime(2025, 1, 3), timezones=st.just(UTC)
)
ops = st.lists(
    st.tuples(
        st.sampled_from(["add", "move", "delete", "invalid"]),
        moments,
        st.integers(0, 3),
        st.sampled_from(["100101", "100401", "200100"]),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=ops)
def test_any_sequence_of_writes_keeps_the_rollup_current(
    j: Jurisdiction, django_capture_on_commit_callbacks, steps: list[tuple[str, datetime, int, str]]
) -> None:
    Incident.objects.all().delete()
    rollup_rebuild()
    for op, at, grid, code in steps:
        with django_capture_on_commit_callbacks(execute=True):
            existing = Incident.objects.order_by("id").first()
            if op == "add" or existing is None:
                make_incident(j, at, code=code, grid=grid)
            elif op == "move":
                existing.reported_at = existing.occurred_at = at
                existing.area = j.grids[grid]
                existing.community_id = j.grids[grid].parent_id
                existing.save()
            elif op == "delete":
                existing.delete()
            else:
                existing.valid = not existing.valid
                existing.save()
    assert_current()


def test_local_day_is_the_site_time_zone() -> None:
    assert local_day(datetime(2026, 1, 1, 16, 0, tzinfo=UTC)) == date(2026, 1, 2)
