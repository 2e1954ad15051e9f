"""The demo's disputes: two years of cases, the seeds among them, every state, a second run."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from fengqiao.accounts.models import User
from fengqiao.areas.models import Area
from fengqiao.core.audit import audit_verify
from fengqiao.core.models import AuditEntry
from fengqiao.core.pii import validate_id_number, validate_phone
from fengqiao.core.search import search_filter
from fengqiao.demo.dispute_texts import SCENARIOS
from fengqiao.demo.disputes import KEY_PREFIX, load_disputes
from fengqiao.demo.plan import LEIFENG
from fengqiao.demo.tests.kit import ensure_code_lists
from fengqiao.disputes.choices import (
    Channel,
    Colour,
    FollowUpState,
    Grade,
    MediatorKind,
    Status,
    Supervision,
    ThreatState,
)
from fengqiao.disputes.models import (
    FINISHED,
    Agreement,
    Dispute,
    DisputeLink,
    Extension,
    FollowUp,
    LawyerDuty,
    MediationSession,
    Mediator,
    Party,
    RoutingRule,
)
from fengqiao.disputes.services import dispute_intake
from fengqiao.disputes.triage import Facts, threat_words, triage

pytestmark = pytest.mark.django_db  # each test runs in a savepoint inside the module's load


@pytest.fixture(scope="module")
def station(django_db_setup: None, django_db_blocker: Any) -> Iterator[Area]:
    """Load the whole demo once for the module, in a transaction rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        ensure_code_lists()
        call_command("demo_load", stdout=io.StringIO())
        yield Area.objects.get(code=LEIFENG.code)
        transaction.set_rollback(True)


def _cases(station: Area) -> Any:
    return Dispute.objects.filter(station=station)


def _seed(station: Area, key: str) -> Dispute:
    return _cases(station).select_related("type").get(intake_key=f"{KEY_PREFIX}seed-{key}")


def test_two_years_of_about_700_cases_a_year(station: Area) -> None:
    cases = _cases(station)
    assert 1300 <= cases.count() <= 1500
    year_ago = timezone.now() - timedelta(days=365)
    assert 550 <= cases.filter(reported_at__gte=year_ago).count() <= 850
    oldest = cases.order_by("reported_at").first()
    assert oldest is not None
    assert 700 <= (timezone.now() - oldest.reported_at).days <= 731
    # A realistic mix: neighbours and families lead, and no class takes over.
    classes = Counter(code[:2] for code in cases.values_list("type__code", flat=True))
    assert {"01", "02", "03", "04", "05", "06", "07", "08", "09"} <= set(classes)
    assert classes["02"] == max(classes.values())
    assert max(classes.values()) < 0.4 * cases.count()
    # Wages peak in the months before the Spring Festival.
    wages = Counter(
        d.month for d in cases.filter(type__code="0703").values_list("reported_at", flat=True)
    )
    assert wages[12] + wages[1] > 2 * (wages[6] + wages[7])
    # Parties look real: valid phones and ID numbers, stored encrypted.
    parties = list(Party.objects.filter(station=station, kind="person")[:200])
    assert all(validate_phone(p.phone) == p.phone for p in parties)
    assert all(validate_id_number(p.id_number) == p.id_number for p in parties)


def test_every_state_has_cases_and_the_open_ones_are_few(station: Area) -> None:
    cases = _cases(station)
    states = Counter(cases.values_list("status", flat=True))
    assert set(states) == set(Status.values)
    open_cases = cases.open()
    assert 25 <= open_cases.count() <= 60
    # Overdue running cases carry their cards; finished cases none.
    assert open_cases.filter(supervision=Supervision.YELLOW).exists()
    assert open_cases.filter(supervision=Supervision.RED).exists()
    assert not cases.filter(status__in=sorted(FINISHED)).exclude(supervision="none").exists()
    carded = open_cases.exclude(supervision="none")
    assert all(d.deadline < timezone.localdate() for d in carded)
    # Late cases had their deadline extended by the chief.
    approved = Extension.objects.filter(station=station, state="approved")
    assert approved.exists()
    assert all(e.dispute.extended_days == e.days for e in approved.select_related("dispute"))
    # A threat not yet reviewed waits on a case just received.
    assert cases.filter(threat_state=ThreatState.PENDING).exists()
    assert not cases.filter(threat_state=ThreatState.PENDING).exclude(status="received").exists()
    # Every open case past intake has its mediator; every assigned one its deadline.
    assert not cases.filter(status__in=["assigned", "mediating"], mediator=None).exists()
    assert not cases.exclude(mediator=None).filter(deadline=None).exists()


def test_most_mediations_succeed_and_are_followed_up(station: Area) -> None:
    cases = _cases(station)
    succeeded = cases.filter(outcome__in=["success", "partial"], status="closed").count()
    failed = cases.filter(outcome="failed").count()
    assert 0.8 <= succeeded / (succeeded + failed) <= 0.92
    assert cases.filter(status="withdrawn").exists() and cases.filter(status="terminated").exists()
    assert Agreement.objects.filter(station=station, concluded_at__isnull=False).count() >= 1000
    visits = FollowUp.objects.filter(station=station, state=FollowUpState.DONE)
    scores = Counter(visits.values_list("satisfaction", flat=True))
    assert (scores[4] + scores[5]) / sum(scores.values()) > 0.85
    broken = visits.filter(honoured=False, reopened=True)
    assert broken.exists()
    assert all(
        AuditEntry.objects.filter(
            object_type="disputes.dispute",
            object_id=str(f.dispute_id),
            action="disputes.dispute.status_changed",
            changes__status=["closed", "reopened"],
        ).exists()
        for f in broken
    )
    # Every case's timeline tells its story from the first step, and the chain still holds.
    timeline = AuditEntry.objects.filter(object_type="disputes.dispute").values_list(
        "object_id", flat=True
    )
    steps = Counter(timeline)
    assert all(steps[str(pk)] >= 2 for pk in cases.values_list("pk", flat=True))
    assert audit_verify().ok


def test_colours_and_grades_are_the_rules_own(station: Area) -> None:
    repeats = {
        link.dispute_id: link.days_apart for link in DisputeLink.objects.filter(station=station)
    }
    assert len(repeats) >= 3
    for d in _cases(station).select_related("type"):
        result = triage(
            Facts(
                type_code=d.type.code,
                scale=d.scale,
                people_count=d.people_count,
                amount=Decimal(d.amount),
                violence=d.violence,
                death=d.death,
                special_groups=d.special_groups,
                difficult=d.difficult,
                channels_involved=d.channels_involved,
                threat_words=tuple(d.threat_words),
                threat_state=d.threat_state,
                repeat_days=repeats.get(d.pk),
            )
        )
        assert (d.grade, d.colour) == (result.grade, result.colour) == (d.grade_auto, d.colour_auto)
        assert d.colour_reasons == result.reasons_json()
        assert d.threat_words == threat_words(d.narrative)
    colours = Counter(_cases(station).values_list("colour", flat=True))
    assert all(colours[c] > 0 for c in Colour.values)
    assert colours[Colour.BLUE] == max(colours.values())


def test_the_seeds_own_cases_are_there_as_told(station: Area) -> None:
    mil = _seed(station, "mil")
    assert "婆媳" in mil.narrative and "育儿" in mil.narrative
    assert mil.type.code.startswith("01") and mil.status == Status.CLOSED
    assert mil.channel == Channel.COMMUNITY
    session = MediationSession.objects.get(dispute=mil, state="held")
    kinds = {m.kind for m in session.mediators.all()}
    assert kinds == {MediatorKind.COMMUNITY, MediatorKind.POLICE}
    assert "解开心结" in session.minutes

    fight = _seed(station, "fight")
    assert {"威胁", "报复"} <= set(fight.threat_words)
    assert fight.threat_state == ThreatState.CONFIRMED and fight.violence
    assert (fight.colour, fight.grade) == (Colour.RED, Grade.MAJOR)
    assert fight.status == Status.CLOSED and fight.outcome == "success"
    assert "握手言和" in MediationSession.objects.get(dispute=fight).minutes

    wages = _seed(station, "wages")
    assert wages.amount == Decimal(120000) and wages.people_count == 18
    assert (wages.colour, wages.grade, wages.channel) == (Colour.RED, Grade.MAJOR, Channel.JOINT)
    assert wages.closed_at is not None
    assert timezone.localdate(wages.closed_at) == timezone.localdate(wages.reported_at)
    assert "司法所" in wages.narrative and "劳动监察" in wages.narrative
    agreement = Agreement.objects.get(dispute=wages)
    assert [i.amount for i in agreement.items.all()] == [Decimal(120000)]
    session = MediationSession.objects.get(dispute=wages)
    assert {m.kind for m in session.mediators.all()} >= {
        MediatorKind.JOINT,
        MediatorKind.JUDICIAL,
        MediatorKind.POLICE,
    }


def test_search_finds_a_seed_by_a_traditional_word(station: Area) -> None:
    chief = User.objects.get(username="lf_chief")
    found = search_filter(
        Dispute.objects.visible_to(chief), label="disputes.dispute", query="薪資 物業"
    )
    assert _seed(station, "wages") in list(found)
    found = search_filter(
        Dispute.objects.visible_to(chief), label="disputes.dispute", query="婆媳 育兒"
    )
    assert list(found) == [_seed(station, "mil")]


def test_the_registry_routing_list_and_rota(station: Area) -> None:
    mediators = Mediator.objects.filter(station=station)
    kinds = Counter(mediators.values_list("kind", flat=True))
    assert kinds[MediatorKind.COMMUNITY] >= 12 and kinds[MediatorKind.LAWYER] >= 6
    assert kinds[MediatorKind.JUDICIAL] >= 2 and kinds[MediatorKind.JOINT] >= 3
    # The demo's mediator accounts are in the registry, so they find their own queue.
    accounts = User.objects.filter(username__startswith="lf_mediator")
    assert accounts.exists()
    assert all(Mediator.objects.filter(station=station, user=u).exists() for u in accounts)
    today = timezone.localdate()
    rota = LawyerDuty.objects.filter(station=station, day__gte=today)
    assert rota.filter(day__lte=today + timedelta(days=14)).count() >= 8
    assert {d.mediator.kind for d in rota} == {MediatorKind.LAWYER}
    rules = RoutingRule.objects.filter(station=station)
    assert {r.grade for r in rules.filter(type=None)} == {"trivia", "civil", "major"}
    labour = rules.filter(type__code="07")
    assert {r.channel for r in labour} == {Channel.JUDICIAL, Channel.JOINT}
    assert rules.get(type__code="01").channel == Channel.COMMUNITY
    assert all(r.pool.exists() for r in rules)
    # Cases follow the list: labour civil cases went to the judicial office.
    labour_civil = (
        _cases(station).filter(type__parent__code="07", grade="civil").exclude(channel="")
    )
    assert set(labour_civil.values_list("channel", flat=True)) == {Channel.JUDICIAL}


def test_a_later_intake_continues_the_case_numbers(station: Area) -> None:
    year = timezone.localdate().year
    numbers = sorted(
        _cases(station)
        .filter(case_number__startswith=f"MD-{year}-")
        .values_list("case_number", flat=True)
    )
    assert numbers == [f"MD-{year}-{i:06d}" for i in range(1, len(numbers) + 1)]
    grid = Area.objects.filter(station=station, kind="grid").first()
    assert grid is not None
    d = dispute_intake(
        actor=None,
        station_id=station.pk,
        narrative="两家因楼上漏水发生争执",
        occurred_at=timezone.now() - timedelta(hours=2),
        source="application",
        type_code="0201",
        scale="individual",
        lat=grid.centroid_lat,
        lng=grid.centroid_lng,
        parties=[{"kind": "person", "role": "applicant", "name": "张三"}],
    )
    assert d.case_number == f"MD-{year}-{len(numbers) + 1:06d}"


def test_a_second_load_adds_nothing(station: Area) -> None:
    before = (
        _cases(station).count(),
        Mediator.objects.count(),
        RoutingRule.objects.count(),
        LawyerDuty.objects.count(),
        AuditEntry.objects.count(),
    )
    assert load_disputes(station=station) == {}
    after = (
        _cases(station).count(),
        Mediator.objects.count(),
        RoutingRule.objects.count(),
        LawyerDuty.objects.count(),
        AuditEntry.objects.count(),
    )
    assert after == before


def test_only_the_violent_scenarios_speak_of_violence() -> None:
    for s in SCENARIOS:
        found = [w for text in s.narratives for w in threat_words(text)]
        assert bool(found) == s.violent, s.key
