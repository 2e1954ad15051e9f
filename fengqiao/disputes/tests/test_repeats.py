"""Repeat disputes between the same parties within 90 days: matched, linked, coloured red."""

from __future__ import annotations

import pytest

from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Dispute, DisputeLink
from fengqiao.disputes.services import dispute_transition, dispute_triage_override
from fengqiao.disputes.tests.kit import ago, id_number, intake, person

pytestmark = pytest.mark.django_db

ZHANG = {"name": "张三", "id_number": id_number(1), "phone": "13800000001", "address": "枫桥路1号"}
LI = {"name": "李四", "id_number": id_number(2), "phone": "13800000002", "address": "枫桥路3号"}
WANG = {"name": "王五", "id_number": id_number(3), "phone": "13800000003", "address": "枫桥路5号"}


def pair(a: dict, b: dict, **override: str) -> list[dict]:
    return [person(**{**a, **override}), person(**{**b, "role": "respondent"})]


@pytest.mark.parametrize(
    ("key", "first", "second"),
    [
        # the same ID number, everything else different
        ("id_number", {"id_number": ZHANG["id_number"]}, {"id_number": ZHANG["id_number"]}),
        # the same phone, written differently
        ("phone", {"phone": "13800000001"}, {"phone": "+86 138 0000 0001"}),
        # the same name and address, in traditional characters and with spaces
        (
            "name_address",
            {"name": "张三", "address": "枫桥路1号"},
            {"name": "張三", "address": "楓橋路 1號"},
        ),
    ],
)
def test_a_repeat_is_found_by_each_key(j, key, first, second):
    officer = j.user("officer")
    earlier = intake(j, officer, occurred_at=ago(30), parties=[person(**{"name": "张三", **first})])
    later = intake(j, officer, occurred_at=ago(1), parties=[person(**{"name": "张三", **second})])
    link = DisputeLink.objects.get()
    assert (link.dispute, link.other) == (later, earlier)
    assert link.matched_on == [key] and link.days_apart == 29
    assert earlier.case_number in link.reason and "相隔29天" in link.reason
    assert later.colour == "red" and later.grade == "major"
    assert "repeat" in [r["rule"] for r in later.colour_reasons]
    assert list(later.repeats.all()) == [earlier]


@pytest.mark.parametrize(("days", "linked"), [(89, True), (90, True), (91, False)])
def test_the_window_is_90_days(j, days, linked):
    officer = j.user("officer")
    intake(j, officer, occurred_at=ago(days + 1, hours=0), parties=pair(ZHANG, LI))
    later = intake(j, officer, occurred_at=ago(1, hours=0), parties=pair(ZHANG, LI))
    assert DisputeLink.objects.exists() is linked
    assert (later.colour == "red") is linked


def test_an_earlier_case_registered_later_is_linked_too(j):
    # given a dispute of last week, and then one of two months ago entered after it
    officer = j.user("officer")
    recent = intake(j, officer, occurred_at=ago(7), parties=pair(ZHANG, LI))
    backdated = intake(j, officer, occurred_at=ago(60), parties=pair(LI, ZHANG))
    link = DisputeLink.objects.get()
    assert (link.dispute, link.other, link.days_apart) == (backdated, recent, 53)


def test_not_across_stations(j, other):
    intake(j, j.user("officer"), occurred_at=ago(10), parties=pair(ZHANG, LI))
    elsewhere = intake(other, other.user("officer"), occurred_at=ago(1), parties=pair(ZHANG, LI))
    assert not DisputeLink.objects.exists()
    assert elsewhere.colour == "blue"


def test_the_same_parties_means_both_sides_when_both_cases_have_two(j):
    officer = j.user("officer")
    intake(j, officer, occurred_at=ago(10), parties=pair(ZHANG, LI))
    # Zhang against someone else is not a repeat of Zhang against Li
    against_wang = intake(j, officer, occurred_at=ago(5), parties=pair(ZHANG, WANG))
    assert not DisputeLink.objects.exists() and against_wang.colour == "blue"
    # Li against Zhang (roles swapped) is
    swapped = intake(j, officer, occurred_at=ago(1), parties=pair(LI, ZHANG))
    assert [link.dispute for link in DisputeLink.objects.all()] == [swapped]


def test_one_known_party_is_enough_when_a_case_lists_only_one(j):
    officer = j.user("officer")
    earlier = intake(j, officer, occurred_at=ago(10), parties=[person(**ZHANG)])
    later = intake(j, officer, occurred_at=ago(1), parties=pair(ZHANG, LI))
    assert DisputeLink.objects.get().other == earlier and later.colour == "red"


def test_no_keys_no_match(j):
    # parties with a name but no ID, phone or address cannot be matched, only homonyms
    officer = j.user("officer")
    intake(j, officer, occurred_at=ago(10), parties=[person("张三")])
    intake(j, officer, occurred_at=ago(1), parties=[person("张三")])
    assert not DisputeLink.objects.exists()


def test_linking_is_audited_on_both_cases_and_the_open_earlier_case_turns_red(j):
    officer = j.user("officer")
    earlier = intake(j, officer, occurred_at=ago(10), parties=pair(ZHANG, LI))
    assert earlier.colour == "blue"
    later = intake(j, officer, occurred_at=ago(1), parties=pair(ZHANG, LI))
    earlier.refresh_from_db()
    assert earlier.colour == "red" and earlier.version == 2
    assert earlier.colour_reasons[0]["params"] == {"days": 9}
    for case, other_case in ((later, earlier), (earlier, later)):
        entry = AuditEntry.objects.get(action="disputes.dispute.linked", object_id=str(case.pk))
        assert entry.changes["other"] == other_case.case_number
        assert entry.changes["matched_on"] == ["id_number", "phone", "name_address"]
    retriaged = AuditEntry.objects.filter(
        action="disputes.dispute.triaged", object_id=str(earlier.pk)
    ).first()
    assert retriaged is not None and retriaged.changes["cause"] == "repeat"


def test_a_finished_earlier_case_is_linked_but_left_alone(j):
    officer = j.user("officer")
    earlier = intake(j, officer, occurred_at=ago(10), parties=pair(ZHANG, LI))
    earlier = dispute_transition(
        actor=officer, dispute=earlier, to="withdrawn", reason="申请人撤回", version=1
    )
    intake(j, officer, occurred_at=ago(1), parties=pair(ZHANG, LI))
    earlier.refresh_from_db()
    assert DisputeLink.objects.get().other == earlier
    assert earlier.colour == "blue" and earlier.version == 2


def test_a_repeat_lifts_a_milder_override(j):
    # given a chief who judged an earlier case to be blue although its amount made it orange
    officer, chief = j.user("officer"), j.user("chief")
    earlier = intake(j, officer, occurred_at=ago(10), parties=pair(ZHANG, LI), amount=20000)
    earlier = dispute_triage_override(
        actor=chief,
        dispute=earlier,
        grade="trivia",
        colour="blue",
        reason="金额已当场结清",
        version=1,
    )
    # when a repeat between the same parties comes in
    intake(j, officer, occurred_at=ago(1), parties=pair(ZHANG, LI))
    # then the rules' red is not hidden behind the override, which is cleared and audited
    earlier = Dispute.objects.get(pk=earlier.pk)
    assert earlier.colour == "red" and not earlier.overridden and earlier.override_reason == ""
    entry = AuditEntry.objects.filter(
        action="disputes.dispute.triaged", object_id=str(earlier.pk)
    ).first()
    assert entry is not None and entry.changes["override_lifted"] is True
