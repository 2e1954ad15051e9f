"""Consent to mediate: recorded per party with its time, audited, never blocking the case."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from fengqiao.core.errors import ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.disputes.services import dispute_transition, party_consent_record
from fengqiao.disputes.tests.kit import intake, person

pytestmark = pytest.mark.django_db


def test_consent_given_at_intake_is_recorded_with_its_time(j):
    d = intake(
        j,
        j.user("officer"),
        parties=[person("张三", consent="agreed"), person("李四", role="respondent")],
    )
    zhang, li = d.parties.order_by("id")
    assert zhang.consent == "agreed" and zhang.consent_at is not None
    assert li.consent == "undecided" and li.consent_at is None


def test_declining_is_recorded_audited_and_blocks_nothing(j):
    officer = j.user("officer")
    d = intake(j, officer)
    li = d.parties.get(name="李四")
    # when the respondent declines mediation
    li = party_consent_record(actor=officer, party=li, consent="declined", note="不愿调解")
    assert li.consent == "declined" and li.consent_at is not None
    assert li.consent_note == "不愿调解"
    # then it is on the case's timeline, without touching the case itself
    entry = AuditEntry.objects.get(action="disputes.party.consent_recorded")
    assert entry.object_type == "disputes.dispute" and entry.object_id == str(d.pk)
    assert entry.changes["party"] == "李四"
    assert entry.changes["consent"] == ["undecided", "declined"]
    d.refresh_from_db()
    assert d.version == 1
    # and the case still moves on
    assert dispute_transition(actor=officer, dispute=d, to="triaged", version=1).status == "triaged"


def test_a_party_may_change_their_mind(j):
    officer = j.user("officer")
    li = intake(j, officer).parties.get(name="李四")
    party_consent_record(actor=officer, party=li, consent="declined")
    li = party_consent_record(actor=officer, party=li, consent="agreed")
    assert li.consent == "agreed"
    assert AuditEntry.objects.filter(action="disputes.party.consent_recorded").count() == 2
    # the same answer again writes nothing
    party_consent_record(actor=officer, party=li, consent="agreed")
    assert AuditEntry.objects.filter(action="disputes.party.consent_recorded").count() == 2


def test_a_mediator_records_consent(j):
    li = intake(j, j.user("officer")).parties.get(name="李四")
    assert party_consent_record(actor=j.user("mediator"), party=li, consent="agreed").consent == (
        "agreed"
    )


def test_an_unknown_answer_is_refused(j):
    officer = j.user("officer")
    li = intake(j, officer).parties.get(name="李四")
    with pytest.raises(ValidationFailed) as exc:
        party_consent_record(actor=officer, party=li, consent="maybe")
    assert "consent" in exc.value.fields


@pytest.mark.parametrize("role", ["volunteer", "analyst", "other_officer"])
def test_only_handlers_of_the_station_record_consent(j, other, role):
    li = intake(j, j.user("officer")).parties.get(name="李四")
    user = other.user("officer") if role == "other_officer" else j.user(role)
    with pytest.raises(PermissionDenied):
        party_consent_record(actor=user, party=li, consent="declined")
    li.refresh_from_db()
    assert li.consent == "undecided"
