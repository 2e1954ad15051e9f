"""The rollups follow every write, equal a rebuild, and give the figures the case table gives."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from fengqiao.disputes.models import (
    Dispute,
    DisputeDaily,
    DisputeMonthly,
    FollowUp,
    ScreeningVisit,
)
from fengqiao.disputes.models.rollups import MEASURES
from fengqiao.disputes.report import monthly_report, monthly_report_from_cases
from fengqiao.disputes.rollups import DIMS, rollup_rebuild, rollups_deferred
from fengqiao.disputes.services import dispute_transition
from fengqiao.disputes.tests.kit import (
    ago,
    concluded_agreement,
    intake,
    mediator_for,
    recorded_referral,
)

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[list[tuple], list[tuple]]:
    daily = DisputeDaily.objects.values_list("station_id", "day", *DIMS, *MEASURES)
    monthly = DisputeMonthly.objects.values_list("station_id", "month", "dim", "value", *MEASURES)
    return sorted(map(tuple, daily), key=repr), sorted(map(tuple, monthly), key=repr)


def move(actor, d: Dispute, to: str, reason: str = "") -> Dispute:
    return dispute_transition(actor=actor, dispute=d, to=to, reason=reason, version=d.version)


def agree(actor, d: Dispute) -> Dispute:
    concluded_agreement(d)
    return move(actor, d, "agreed")


def to_mediating(j, officer, d: Dispute, channel: str = "community") -> Dispute:
    d = move(officer, d, "triaged")
    # Routing (built elsewhere) sets mediator and channel: written directly here.
    d.mediator = mediator_for(j)
    d.channel = channel
    d.deadline = timezone.localdate() + timedelta(days=10)
    d.save(update_fields=["mediator", "channel", "deadline"])
    d = move(officer, d, "assigned")
    return move(officer, d, "mediating")


def build(j, other, capture) -> dict[str, Dispute]:
    """Walk a few cases through the services and direct writes; every commit runs its hooks."""
    officer, chief = j.user("officer"), j.user("chief")
    cases: dict[str, Dispute] = {}
    with capture(execute=True):
        cases["old"] = intake(j, officer, reported_at=ago(40), occurred_at=ago(41), amount="3000")
        cases["screened"] = intake(
            j, officer, source="screening", grid=1, reported_at=ago(3), occurred_at=ago(4)
        )
        cases["violent"] = intake(
            j,
            officer,
            narrative="工地欠薪纠纷，对方扬言要动手",
            type_code="0701",
            violence=True,
            people_count=6,
            amount="120000",
            grid=2,
        )
        cases["fails"] = intake(j, officer, grid=3, reported_at=ago(2), occurred_at=ago(3))
        cases["elsewhere"] = intake(other, other.user("officer"))
    with capture(execute=True):
        d = to_mediating(j, officer, cases["violent"], channel="joint")
        d = agree(officer, d)
        cases["violent"] = move(officer, d, "closed")
    with capture(execute=True):
        d = to_mediating(j, officer, cases["fails"], channel="lawyer")
        d = move(officer, d, "failed", reason="双方分歧太大")
        recorded_referral(d, target="arbitration")
        cases["fails"] = move(officer, d, "referred", reason="移送劳动仲裁")
    with capture(execute=True):
        d = to_mediating(j, officer, cases["old"])
        d = agree(officer, d)
        d = move(officer, d, "closed")
        # Closed long ago, as the demo would have it: the old close day is recounted too.
        d.closed_at = ago(30)
        d.save(update_fields=["closed_at"])
        cases["old"] = d
    with capture(execute=True):
        FollowUp.objects.create(
            dispute=cases["old"],
            station=j.station,
            kind="days_7",
            due_date=timezone.localdate() - timedelta(days=23),
            state="done",
            visited_at=ago(22),
            satisfaction=5,
        )
        FollowUp.objects.create(
            dispute=cases["violent"],
            station=j.station,
            kind="days_7",
            due_date=timezone.localdate() + timedelta(days=7),
        )
        ScreeningVisit.objects.create(
            station=j.station,
            community=j.grids[0].parent,
            area=j.grids[0],
            visited_at=ago(1),
            visitor=officer,
            visited="王家",
            address="枫桥路2号",
            findings="邻里因停车争吵，当场劝和",
            result="resolved",
        )
    with capture(execute=True):
        # A service writing follow-ups in bulk next to the case's save: no signal per row.
        d = cases["violent"]
        FollowUp.objects.bulk_create(
            [
                FollowUp(
                    dispute=d,
                    station=j.station,
                    kind="days_30",
                    due_date=timezone.localdate() + timedelta(days=30),
                )
            ]
        )
        FollowUp.objects.filter(dispute=d, kind="days_7").update(state="cancelled")
        d.save(update_fields=["updated_at"])
    with capture(execute=True):
        # The follow-up finds the agreement not honoured: the case reopens, its close day goes.
        d = cases["old"]
        d.refresh_from_db()
        cases["old"] = move(chief, d, "reopened", reason="回访发现未履行")
    assert chief is not None
    return cases


def test_rollups_equal_a_rebuild_after_service_calls(j, other, django_capture_on_commit_callbacks):
    cases = build(j, other, django_capture_on_commit_callbacks)
    kept = snapshot()
    assert kept[0] and kept[1]
    rollup_rebuild()
    assert snapshot() == kept

    today = timezone.localdate()
    day = DisputeDaily.objects.filter(station=j.station, day=today)
    assert sum(r.concluded for r in day) == 2  # the violent case closed, the failed referred
    assert sum(r.succeeded for r in day) == 1 and sum(r.failed for r in day) == 1
    assert sum(r.prevented for r in day) == 1 and sum(r.prevented_people for r in day) == 6
    joint = day.get(channel="joint", received=1)
    assert joint.amount == Decimal("120000") and joint.concluded == 1
    # The reopened case's old close day holds nothing any more.
    old_close = timezone.localtime(ago(30)).date()
    assert not DisputeDaily.objects.filter(day=old_close, concluded__gt=0).exists()
    # Its reception moved to the channel it was given at assignment.
    reported = timezone.localtime(cases["old"].reported_at).date()
    assert DisputeDaily.objects.get(day=reported, received=1).channel == "community"
    assert DisputeDaily.objects.filter(station=other.station).count() == 1


def test_a_rebuild_repairs_rows_written_behind_the_signals(j, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        d = intake(j, reported_at=ago(5), occurred_at=ago(6))
    # bulk writes bypass signals: the rollup is stale until rebuilt
    Dispute.objects.filter(pk=d.pk).update(people_count=9)
    assert DisputeDaily.objects.get().people != 9
    result = rollup_rebuild(station_ids=[j.station.pk])
    assert result.stations == 1 and result.daily_rows == 1
    assert DisputeDaily.objects.get().people == 9
    first = timezone.localtime(d.reported_at).date().replace(day=1)
    month = DisputeMonthly.objects.get(dim="", month=first)
    assert month.people == 9 and month.received == 1


def test_report_from_rollups_equals_the_report_from_cases(
    j, other, django_capture_on_commit_callbacks
):
    build(j, other, django_capture_on_commit_callbacks)
    chief = j.user("chief")
    today = timezone.localdate()
    months = {(today.year, today.month)}
    for back in (31, 45, 400):
        past = today - timedelta(days=back)
        months.add((past.year, past.month))
    for year, month in sorted(months):
        fast = monthly_report(user=chief, year=year, month=month)
        slow = monthly_report_from_cases(user=chief, year=year, month=month)
        assert fast == slow, (year, month)
    now = monthly_report(user=chief, year=today.year, month=today.month)
    assert now["totals"]["concluded"] >= 2


def test_deferred_writes_rebuild_once_at_the_end(j, django_capture_on_commit_callbacks):
    with rollups_deferred(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        intake(j, reported_at=ago(3), occurred_at=ago(4))
        intake(j, reported_at=ago(2), occurred_at=ago(3), grid=1)
        assert not DisputeDaily.objects.exists()
    assert not callbacks  # nothing queued per write
    assert sum(DisputeDaily.objects.values_list("received", flat=True)) == 2
    kept = snapshot()
    rollup_rebuild()
    assert snapshot() == kept


def test_the_command_rebuilds_a_station(j, other):
    intake(j, reported_at=ago(3), occurred_at=ago(4))
    intake(other, reported_at=ago(3), occurred_at=ago(4))
    out = io.StringIO()
    call_command("rollup_disputes", "--station", j.station.code, stdout=out)
    assert "Rebuilt 1 stations" in out.getvalue()
    assert set(DisputeDaily.objects.values_list("station_id", flat=True)) == {j.station.pk}
    with pytest.raises(CommandError):
        call_command("rollup_disputes", "--station", "NOPE")
