"""A chief's override of the triage, and the human review of threat words; both audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Dispute
from fengqiao.disputes.services import (
    dispute_threat_review,
    dispute_transition,
    dispute_triage_override,
)
from fengqiao.disputes.tests.kit import intake

pytestmark = pytest.mark.django_db


def override(actor, d: Dispute, **extra) -> Dispute:
    values = {"grade": "major", "colour": "red", "reason": "当事人情绪激动，有激化风险"}
    values.update(extra)
    return dispute_triage_override(actor=actor, dispute=d, version=d.version, **values)


def test_the_chief_overrides_with_a_reason_and_it_is_audited(j):
    chief = j.user("chief")
    d = intake(j, j.user("officer"))
    d = override(chief, d)
    assert (d.grade, d.colour) == ("major", "red")
    assert (d.grade_auto, d.colour_auto) == ("trivia", "blue")  # what the rules said stays
    assert d.overridden and d.overridden_by == chief and d.version == 2
    entry = AuditEntry.objects.get(action="disputes.dispute.overridden")
    assert entry.actor == chief and entry.object_id == str(d.pk)
    assert entry.changes["colour"] == ["blue", "red"]
    assert entry.changes["grade"] == ["trivia", "major"]
    assert entry.changes["override_reason"] == ["", "当事人情绪激动，有激化风险"]


@pytest.mark.parametrize("role", ["officer", "auxiliary", "mediator", "analyst", "other_chief"])
def test_only_a_chief_of_the_station_may_override(j, other, role):
    d = intake(j, j.user("officer"))
    user = other.user("chief") if role == "other_chief" else j.user(role)
    with pytest.raises(PermissionDenied) as exc:
        override(user, d)
    assert "只有所长或指挥室" in str(exc.value)
    d.refresh_from_db()
    assert d.colour == "blue" and d.version == 1
    assert not AuditEntry.objects.filter(action="disputes.dispute.overridden").exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"reason": " "}, "reason"), ({"colour": "purple"}, "colour"), ({"grade": "x"}, "grade")],
)
def test_an_override_needs_valid_values_and_a_reason(j, extra, field):
    d = intake(j, j.user("officer"))
    with pytest.raises(ValidationFailed) as exc:
        override(j.user("chief"), d, **extra)
    assert field in exc.value.fields


def test_an_override_that_changes_nothing_is_refused(j):
    d = intake(j, j.user("officer"))
    with pytest.raises(ValidationFailed):
        override(j.user("chief"), d, grade="trivia", colour="blue")


def test_an_override_on_a_stale_version_is_a_conflict(j):
    chief, officer = j.user("chief"), j.user("officer")
    d = intake(j, officer)
    stale = Dispute.objects.get(pk=d.pk)
    dispute_transition(actor=officer, dispute=d, to="triaged", version=1)
    with pytest.raises(Conflict):
        override(chief, stale)


def test_a_finished_case_is_not_overridden(j):
    officer = j.user("officer")
    d = intake(j, officer)
    d = dispute_transition(actor=officer, dispute=d, to="withdrawn", reason="撤回", version=1)
    with pytest.raises(IllegalTransition):
        override(j.user("chief"), d)


def test_confirming_threat_words_keeps_the_case_red_and_lets_triage_finish(j):
    officer = j.user("officer")
    d = intake(j, officer, narrative="对方说要砍死他")
    d = dispute_threat_review(actor=officer, dispute=d, confirmed=True, version=1, note="已核实")
    assert d.threat_state == "confirmed" and d.threat_reviewed_by == officer
    assert d.colour == "red" and d.colour_reasons[0]["rule"] == "threat_confirmed"
    assert d.version == 2  # one action, one version, whatever it changed
    entry = AuditEntry.objects.get(action="disputes.dispute.threat_confirmed")
    assert entry.changes["threat_words"] == ["砍死"] and entry.changes["note"] == "已核实"
    d = dispute_transition(actor=officer, dispute=d, to="triaged", version=d.version)
    assert d.status == "triaged"


def test_dismissing_threat_words_is_for_a_chief_and_lowers_the_colour(j):
    officer, chief = j.user("officer"), j.user("chief")
    d = intake(j, officer, narrative="他开玩笑说要炸了这个破手机")
    assert d.colour == "red"
    with pytest.raises(PermissionDenied):
        dispute_threat_review(actor=officer, dispute=d, confirmed=False, version=1)
    d = dispute_threat_review(actor=chief, dispute=d, confirmed=False, version=1, note="玩笑话")
    assert d.threat_state == "dismissed" and d.colour == "blue" and d.grade == "trivia"
    triaged = AuditEntry.objects.filter(action="disputes.dispute.triaged").first()
    assert triaged is not None and triaged.changes["cause"] == "threat_review"
    assert AuditEntry.objects.filter(action="disputes.dispute.threat_dismissed").exists()


def test_only_pending_words_can_be_reviewed(j):
    officer = j.user("officer")
    d = intake(j, officer)
    with pytest.raises(IllegalTransition) as exc:
        dispute_threat_review(actor=officer, dispute=d, confirmed=True, version=1)
    assert exc.value.code == "no_pending_threat"


def test_an_override_stands_when_the_rules_give_no_higher_colour(j):
    # given words of threat, and a chief who overrides the red to orange
    chief = j.user("chief")
    d = intake(j, j.user("officer"), narrative="他说要报复")
    d = override(chief, d, grade="civil", colour="orange", reason="对方已道歉")
    # when the chief dismisses the words, the rules give blue: the override still stands
    d = dispute_threat_review(actor=chief, dispute=d, confirmed=False, version=d.version)
    assert d.colour_auto == "blue" and d.colour == "orange" and d.overridden
