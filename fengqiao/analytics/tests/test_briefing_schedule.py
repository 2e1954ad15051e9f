"""The briefing is made at each station's hour by the periodic task, once a day, and on demand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import timezone

from fengqiao.analytics.models import Briefing
from fengqiao.analytics.services import (
    briefing_generate,
    briefings_due,
    briefings_generate_due,
)
from fengqiao.core.errors import ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.incidents.models import StationIncidentConfig

pytestmark = pytest.mark.django_db

D = date(2026, 6, 15)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """Return the aware moment hour:minute of `day` in the station's time zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def generated() -> int:
    return AuditEntry.objects.filter(action="analytics.briefing.generated").count()


@pytest.fixture
def immediate() -> Iterator[None]:
    """Run Huey tasks inline (settings are read before conftest sets the variable)."""
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


def test_due_at_each_stations_hour_default_seven(j, other):
    # Given the first station on the default 07:00 and the second set to 06:30
    StationIncidentConfig.objects.create(station=other.station, briefing_hour=6, briefing_minute=30)
    # Then nobody is due before 06:30, only the second until 07:00, both from 07:00
    assert briefings_due(local(D, 6, 29)) == []
    assert briefings_due(local(D, 6, 30)) == [other.station.pk]
    assert briefings_due(local(D, 6, 59)) == [other.station.pk]
    assert sorted(briefings_due(local(D, 7, 0))) == sorted([j.station.pk, other.station.pk])
    assert sorted(briefings_due(local(D, 23, 59))) == sorted([j.station.pk, other.station.pk])


def test_the_hour_is_local_time_whatever_the_clock_of_the_worker(j):
    # Given 07:00 in the station's zone expressed as a UTC moment (23:00 the day before)
    moment = local(D, 7, 0).astimezone(UTC)
    assert moment.hour == 23
    # Then the station is due, and one minute earlier it is not
    assert briefings_due(moment) == [j.station.pk]
    assert briefings_due(moment - timedelta(minutes=1)) == []


def test_generate_due_makes_one_scheduled_briefing_per_station_and_day(j, other):
    StationIncidentConfig.objects.create(station=other.station, briefing_hour=8)
    # When the periodic work runs at 07:00: only the first station is due
    made = briefings_generate_due(local(D, 7, 0))
    assert [(b.station_id, b.day, b.kind, b.generated_by) for b in made] == [
        (j.station.pk, D, "scheduled", None)
    ]
    # When it runs again at 07:05 and 07:10: nothing is made twice
    assert briefings_generate_due(local(D, 7, 5)) == []
    assert briefings_generate_due(local(D, 7, 10)) == []
    # At 08:00 the second station's turn comes
    assert [b.station_id for b in briefings_generate_due(local(D, 8, 0))] == [other.station.pk]
    # The next morning each gets a new one
    assert len(briefings_generate_due(local(D + timedelta(days=1), 9, 0))) == 2
    assert Briefing.objects.filter(kind="scheduled").count() == 4
    assert Briefing.objects.filter(station=j.station, day=D).count() == 1
    assert generated() == 4
    entry = AuditEntry.objects.filter(action="analytics.briefing.generated").earliest("seq")
    assert entry.actor_id is None and entry.changes["kind"] == "scheduled"


def test_the_stored_content_is_the_days(j):
    b = briefings_generate_due(local(D, 7, 0))[0]
    b.refresh_from_db()
    assert b.content["day"] == D.isoformat()
    assert b.content["station"] == {"id": j.station.pk, "name": j.station.name}
    assert set(b.content) >= {"overnight", "classes", "grids", "hotspots", "repeats", "disputes"}


def test_a_scheduled_rerun_returns_the_stored_briefing(j):
    first = briefing_generate(actor=None, station_id=j.station.pk, day=D)
    again = briefing_generate(actor=None, station_id=j.station.pk, day=D)
    assert again.pk == first.pk
    assert Briefing.objects.count() == 1 and generated() == 1


def test_on_demand_is_the_chiefs_and_always_a_new_row(j, other):
    chief = j.user("chief")
    a = briefing_generate(actor=chief, station_id=j.station.pk, day=D)
    b = briefing_generate(actor=chief, station_id=j.station.pk, day=D)
    assert a.pk != b.pk and a.kind == b.kind == "on_demand" and a.generated_by == chief
    # An on-demand briefing does not stand in for the scheduled one
    assert j.station.pk in briefings_due(local(D, 7, 0))
    for actor in (j.user("officer"), other.user("chief"), j.user("volunteer")):
        with pytest.raises(PermissionDenied):
            briefing_generate(actor=actor, station_id=j.station.pk, day=D)
    assert Briefing.objects.count() == 2 and generated() == 2


def test_no_briefing_for_a_future_day_or_a_non_station(j):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationFailed) as exc:
        briefing_generate(actor=None, station_id=j.station.pk, day=tomorrow)
    assert "day" in exc.value.fields
    with pytest.raises(ValidationFailed):
        briefing_generate(actor=None, station_id=j.grids[0].pk, day=D)
    assert Briefing.objects.count() == 0 and generated() == 0


def test_the_periodic_task_is_registered_every_five_minutes():
    from django.utils.module_loading import autodiscover_modules
    from huey.contrib.djhuey import HUEY

    # Given the task modules as the worker (run_huey) discovers them
    autodiscover_modules("tasks")
    from fengqiao.analytics.tasks import briefing_scheduled

    # Then the briefing task is among the periodic ones and fires at 07:00 and 07:05 local
    assert briefing_scheduled.task_class in HUEY._registry._periodic_tasks
    for minute in (0, 5):
        moment = local(D, 7, minute)
        if HUEY.utc:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        else:
            moment = timezone.make_naive(moment)
        fired = {type(t) for t in HUEY.read_periodic(moment)}
        assert briefing_scheduled.task_class in fired
    assert briefing_scheduled.task_class not in {
        type(t) for t in HUEY.read_periodic(datetime(2026, 6, 15, 7, 3))
    }


def test_the_task_makes_todays_briefing_once(j, other, immediate):
    from fengqiao.analytics.tasks import briefing_scheduled

    # Given the first station due since midnight and the second not before 23:59
    StationIncidentConfig.objects.create(station=j.station, briefing_hour=0, briefing_minute=0)
    StationIncidentConfig.objects.create(
        station=other.station, briefing_hour=23, briefing_minute=59
    )
    # When the worker runs the task (queued and run inline), then again by hand
    briefing_scheduled()
    again = briefing_scheduled.call_local()
    after = timezone.localtime()
    # Then today's briefing of the first station exists once, made by nobody
    b = Briefing.objects.get(station=j.station)
    assert b.pk not in again
    assert b.day == after.date() and b.kind == "scheduled" and b.generated_by is None
    made = Briefing.objects.count()
    assert AuditEntry.objects.filter(action="analytics.briefing.generated").count() == made
    # And the second station, whose hour has not come, has none (unless it is 23:59 now)
    if (after.hour, after.minute) < (23, 59):
        assert made == 1 and again == []


def test_the_command_is_idempotent_and_reports_the_sections(j, capsys):
    call_command("briefing_generate", "--station", j.station.code, "--day", D.isoformat())
    out = capsys.readouterr().out
    assert f"for {D}" in out and "0 overnight incidents" in out
    call_command("briefing_generate", "--station", str(j.station.pk), "--day", D.isoformat())
    assert Briefing.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("briefing_generate", "--station", "NOPE")
    with pytest.raises(CommandError):
        call_command("briefing_generate", "--station", j.station.code, "--day", "15/06/2026")
