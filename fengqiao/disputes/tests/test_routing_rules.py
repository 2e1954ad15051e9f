"""The routing list: which line applies, the proposal and why, the registry and the rota."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fengqiao.core.errors import Conflict, ValidationFailed
from fengqiao.disputes import registry, routing
from fengqiao.disputes.models import LawyerDuty
from fengqiao.disputes.tests.kit import id_number
from fengqiao.disputes.tests.routing_helpers import mediator, rule, triaged

pytestmark = pytest.mark.django_db


def test_the_most_specific_line_wins(j):
    d = triaged(j)  # type 0201 (class 02), community 0
    a = mediator(j, "甲")
    any_line = rule(j, [a])
    graded = rule(j, [a], grade=d.grade)
    assert routing.rule_for(d) == graded  # grade beats any grade
    here = rule(j, [a], community=j.communities[0])
    assert routing.rule_for(d) == here  # community beats grade
    klass = rule(j, [a], type_code="02")
    assert routing.rule_for(d) == klass  # a type class beats the community
    sub = rule(j, [a], type_code="0201")
    assert routing.rule_for(d) == sub  # the subtype beats the class
    both = rule(j, [a], type_code="0201", community=j.communities[0])
    assert routing.rule_for(d) == both
    # Lines that do not match the case never apply, however specific.
    rule(j, [a], type_code="0202", community=j.communities[0], grade=d.grade)
    rule(j, [a], type_code="0201", community=j.communities[1])
    assert routing.rule_for(d) == both
    both.active = False
    both.save()
    assert routing.rule_for(d) == sub
    assert any_line.pk < sub.pk


def test_a_major_dispute_goes_by_the_line_for_major_disputes_whatever_its_type(j):
    # given a family line and a line for every major dispute
    a, joint = mediator(j, "甲"), mediator(j, "联调组", kind="joint")
    family = rule(j, [a], type_code="0201")
    major = rule(j, [joint], grade="major", channel="joint")
    # a civil case of that type follows the type
    assert routing.rule_for(triaged(j)) == family
    # a major one goes to the joint group, unless a line names both its type and the grade
    serious = triaged(j, amount="150000", scale="major_group", people_count=30)
    assert serious.grade == "major"
    assert routing.rule_for(serious) == major
    both = rule(j, [a], type_code="0201", grade="major")
    assert routing.rule_for(serious) == both


def test_ties_go_to_the_oldest_line_and_other_stations_lines_never_apply(j, other):
    d = triaged(j)
    a = mediator(j, "甲")
    rule(other, [mediator(other, "他所")], type_code="0201")
    first = rule(j, [a])
    rule(j, [a])
    assert routing.rule_for(d) == first


def test_no_line_proposes_nothing_and_says_why(j):
    p = routing.proposal(triaged(j))
    assert p.rule is None and p.mediator is None
    assert "没有适用" in p.why[0]


def test_proposal_is_the_pool_member_with_fewest_open_cases(j):
    busy, idle, other_idle = mediator(j, "忙"), mediator(j, "闲"), mediator(j, "也闲")
    r = rule(j, [busy, idle, other_idle], channel="lawyer")
    for _ in range(2):
        c = triaged(j)
        routing.dispute_assign(actor=None, dispute=c, version=c.version, mediator_id=busy.pk)
    c = triaged(j)
    routing.dispute_assign(actor=None, dispute=c, version=c.version, mediator_id=other_idle.pk)
    p = routing.proposal(triaged(j))
    assert p.rule == r and p.channel == "lawyer"
    assert p.mediator == idle
    assert [c.open_cases for c in p.candidates] == [0, 1, 2]
    assert any("在办案件最少" in w for w in p.why)


def test_ties_go_to_the_lowest_id_and_inactive_members_are_left_out(j):
    a, b = mediator(j, "甲"), mediator(j, "乙")
    gone = mediator(j, "离岗", active=False)
    rule(j, [b, a, gone])
    p = routing.proposal(triaged(j))
    assert p.mediator == a
    assert gone.pk not in p.pool_ids


def test_the_lawyer_on_duty_joins_a_rota_line(j):
    community = mediator(j, "甲")
    lawyer = mediator(j, "律师", kind="lawyer")
    rule(j, [community], use_duty_rota=True, channel="lawyer")
    # Give the community mediator a case, so the idle lawyer is the proposal.
    c = triaged(j)
    routing.dispute_assign(actor=None, dispute=c, version=c.version, mediator_id=community.pk)
    today = timezone.localdate()
    LawyerDuty.objects.create(station=j.station, mediator=lawyer, day=today - timedelta(days=1))
    assert routing.proposal(triaged(j)).mediator == community
    LawyerDuty.objects.create(station=j.station, mediator=lawyer, day=today)
    p = routing.proposal(triaged(j))
    assert p.mediator == lawyer
    assert [c.on_duty for c in p.candidates if c.mediator == lawyer] == [True]


def test_registry_keeps_blind_indexes_and_refuses_bad_input(j, other):
    chief = j.user("chief")
    m = registry.mediator_create(
        actor=chief,
        station_id=j.station.pk,
        kind="lawyer",
        name="李律师",
        phone="13800000001",
        id_number=id_number(7),
        address="枫桥路2号",
        specialties=["01", "0903"],
    )
    assert m.phone_bidx and m.id_number_bidx and m.address_bidx and m.name_address_bidx
    with pytest.raises(ValidationFailed) as exc:
        registry.mediator_create(
            actor=chief,
            station_id=j.station.pk,
            kind="nobody",
            name="",
            phone="123",
            id_number="430102198001010000",
            specialties=["8877"],
            user_id=other.user("officer").pk,
        )
    assert set(exc.value.fields) == {"kind", "name", "phone", "id_number", "specialties", "user_id"}
    with pytest.raises(PermissionDenied):
        registry.mediator_create(
            actor=j.user("officer"), station_id=j.station.pk, kind="community", name="某"
        )
    with pytest.raises(PermissionDenied):
        registry.mediator_create(
            actor=other.user("chief"), station_id=j.station.pk, kind="community", name="某"
        )


def test_registry_edit_checks_the_version(j):
    chief = j.user("chief")
    m = registry.mediator_create(actor=chief, station_id=j.station.pk, kind="community", name="甲")
    m2 = registry.mediator_update(actor=chief, mediator=m, version=1, address="新地址1号")
    assert m2.version == 2 and m2.address_bidx
    with pytest.raises(Conflict):
        registry.mediator_update(actor=chief, mediator=m, version=1, name="乙")
    off = registry.mediator_set_active(actor=chief, mediator=m2, version=2, active=False)
    assert off.active is False


def test_a_pool_of_another_station_is_refused(j, other):
    chief = j.user("chief")
    theirs = mediator(other, "他所调解员")
    with pytest.raises(ValidationFailed) as exc:
        registry.rule_create(
            actor=chief, station_id=j.station.pk, channel="community", pool=[theirs.pk]
        )
    assert "不属于本所" in exc.value.fields["pool"][0]
    with pytest.raises(ValidationFailed) as exc:
        registry.rule_create(actor=chief, station_id=j.station.pk, channel="community", pool=[])
    assert "pool" in exc.value.fields
    mine = mediator(j, "甲")
    r = registry.rule_create(
        actor=chief, station_id=j.station.pk, channel="community", pool=[mine.pk], type_code="02"
    )
    r2 = registry.rule_update(actor=chief, rule=r, version=1, grade="civil")
    assert r2.version == 2 and r2.grade == "civil"
    with pytest.raises(Conflict):
        registry.rule_update(actor=chief, rule=r, version=1, grade="major")
    with pytest.raises(PermissionDenied):
        registry.rule_update(actor=j.user("officer"), rule=r2, version=2, grade="major")


def test_rota_days_are_added_once_and_removed(j):
    chief = j.user("chief")
    lawyer = mediator(j, "律师", kind="lawyer")
    day = timezone.localdate()
    duty = registry.duty_add(actor=chief, mediator_id=lawyer.pk, day=day.isoformat())
    with pytest.raises(ValidationFailed):
        registry.duty_add(actor=chief, mediator_id=lawyer.pk, day=day)
    assert registry.on_duty(station_id=j.station.pk, day=day) == [lawyer]
    first, last = registry.month_bounds(day.strftime("%Y-%m"), day)
    days = registry.rota_month(station_id=j.station.pk, first=first, last=last)
    assert [d.duties for d in days if d.day == day] == [[duty]]
    registry.duty_remove(actor=chief, duty=duty)
    assert registry.on_duty(station_id=j.station.pk, day=day) == []
