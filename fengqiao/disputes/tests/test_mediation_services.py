"""Mediation services: sessions, the agreement and its signatures, outcomes and referral."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.utils import timezone

from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.disputes import agreements, outcomes, sessions
from fengqiao.disputes.models import (
    Agreement,
    AgreementSignature,
    Attachment,
    Dispute,
    FollowUp,
    MediationSession,
    Party,
)
from fengqiao.disputes.referral_package import package_download
from fengqiao.disputes.tests.kit import id_number, intake, mediator_for
from fengqiao.disputes.tests.mediation_kit import (
    MASKED_PHONE,
    PHONE,
    agreed,
    assigned,
    case,
    draft,
    held,
    mediating,
    move,
    schedule,
    sign_all,
)

pytestmark = pytest.mark.django_db

NEVER_MEDIATED = "本案尚未进行调解，不能签订调解协议。"


def actions(d: Dispute) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="disputes.dispute", object_id=str(d.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


# --- the whole way ---


def test_the_whole_path_from_sessions_to_agreement_follow_ups_and_close(j):
    officer = j.user("officer")
    mediator_user = j.user("mediator")
    d = assigned(j, officer, mediator_user)
    registry = mediator_for(j, mediator_user)
    lawyer = mediator_for(j, name="赵律师", kind="lawyer")
    # a session with two mediators, the parties by default, and a village cadre
    s = schedule(
        mediator_user,
        d,
        mediator_ids=[registry.pk, lawyer.pk],
        others=[{"name": "王五", "capacity": "村干部"}],
        scheduled_at=timezone.now() + timedelta(days=400),  # far ahead is fine
    )
    rows = list(s.attendance.order_by("id"))
    assert [r.party.name if r.party else r.name for r in rows] == ["张三", "李四", "王五"]
    assert set(s.mediators.values_list("name", flat=True)) == {registry.name, "赵律师"}
    d.refresh_from_db()
    assert d.status == "assigned"  # scheduling alone does not start the mediation
    # recording it held moves the case to mediating
    s = sessions.session_record(
        actor=mediator_user,
        session=s,
        version=s.version,
        minutes="双方陈述意见，李四同意赔偿。",
        attendance={rows[0].pk: True, rows[1].pk: True, rows[2].pk: False},
        notes={rows[2].pk: "临时有事"},
    )
    assert s.state == "held" and s.held_at is not None and s.version == 2
    assert [a.attended for a in s.attendance.order_by("id")] == [True, True, False]
    d.refresh_from_db()
    assert d.status == "mediating"
    # a second session is scheduled and cancelled; a third held: still mediating
    second = schedule(officer, d)
    sessions.session_cancel(actor=officer, session=second, version=1, reason="当事人外出")
    held(officer, d, minutes="第二次调解，达成一致。")
    assert d.sessions.count() == 3
    d.refresh_from_db()
    assert d.status == "mediating"
    # the agreement: drafted, numbered per station, one signature row per party
    agreement = draft(mediator_user, d)
    assert agreement.number.startswith("XY-") and agreement.concluded_at is None
    item = agreement.items.get()
    assert item.amount == Decimal("1200.50")
    assert agreement.signatures.filter(state="pending").count() == 2
    zhang, li = d.parties.order_by("id")
    agreement = agreements.agreement_sign(
        actor=mediator_user, agreement=agreement, party=zhang, state="signed", version=1
    )
    assert agreement.concluded_at is None
    d.refresh_from_db()
    assert d.status == "mediating"
    agreement = agreements.agreement_sign(
        actor=mediator_user, agreement=agreement, party=li.pk, state="signed", version=2
    )
    # every party signed: in effect, the case agreed, the visits scheduled, in one go
    assert agreement.concluded_at is not None
    d.refresh_from_db()
    assert d.status == "agreed"
    visits = list(FollowUp.objects.filter(agreement=agreement).order_by("due_date"))
    kinds = sorted(v.kind for v in visits)
    assert kinds == ["days_30", "days_7", "item_due"]
    assert any(v.item_id == item.pk and v.due_date == item.due_date for v in visits)
    # closing: the case takes the agreement's outcome
    d = agreements.dispute_close(actor=officer, dispute=d, version=d.version)
    assert d.status == "closed" and d.outcome == "success" and d.closed_at is not None
    trail = actions(d)
    for step in (
        "disputes.session.scheduled",
        "disputes.session.held",
        "disputes.session.cancelled",
        "disputes.agreement.drafted",
        "disputes.agreement.signed",
        "disputes.agreement.concluded",
        "disputes.followup.scheduled",
    ):
        assert step in trail, step
    statuses = [
        e.changes["status"]
        for e in AuditEntry.objects.filter(
            action="disputes.dispute.status_changed", object_id=str(d.pk)
        ).order_by("seq")
    ]
    assert statuses[-3:] == [
        ["assigned", "mediating"],
        ["mediating", "agreed"],
        ["agreed", "closed"],
    ]


def test_a_partial_agreement_closes_as_partial_and_reopening_clears_the_outcome(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    sign_all(officer, draft(officer, d, outcome="partial", form="oral", items=[]))
    d.refresh_from_db()
    d = agreements.dispute_close(actor=officer, dispute=d, version=d.version)
    assert d.outcome == "partial"
    d = move(officer, d, "reopened", reason="回访发现未履行")
    assert d.outcome == "" and d.status == "reopened"
    # a reopened case is mediated again: its first new record moves it to mediating
    held(officer, d)
    d.refresh_from_db()
    assert d.status == "mediating"


def test_a_second_draft_is_refused_while_one_is_open(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    draft(officer, d)
    with pytest.raises(IllegalTransition) as exc:
        draft(officer, d)
    assert "尚未生效" in exc.value.message
    assert Agreement.objects.filter(dispute=d).count() == 1


# --- illegal moves ---


def test_an_agreement_on_a_case_never_mediated_is_refused_with_the_reason(j):
    officer = j.user("officer")
    d = assigned(j, officer)
    before = d.version
    with pytest.raises(IllegalTransition) as exc:
        draft(officer, d)
    assert exc.value.message == NEVER_MEDIATED and exc.value.status == 409
    assert not Agreement.objects.filter(dispute=d).exists()
    d.refresh_from_db()
    assert d.version == before


def test_signing_on_a_case_never_mediated_is_refused(j):
    officer = j.user("officer")
    d = assigned(j, officer)
    # an agreement row that somehow exists on a case never mediated (an import, a bug)
    agreement = Agreement.objects.create(
        dispute=d, station=j.station, number="XY-TEST-1", form="written", facts="f", terms="t"
    )
    party = d.parties.first()
    with pytest.raises(IllegalTransition) as exc:
        agreements.agreement_sign(
            actor=officer, agreement=agreement, party=party, state="signed", version=1
        )
    assert exc.value.message == NEVER_MEDIATED and exc.value.status == 409
    assert not AgreementSignature.objects.filter(agreement=agreement).exists()
    d.refresh_from_db()
    assert d.status == "assigned"


@pytest.mark.parametrize("status", ["received", "triaged"])
def test_sessions_need_an_assigned_case(j, status):
    officer = j.user("officer")
    d = case(j, officer)
    if status == "triaged":
        d = move(officer, d, "triaged")
    with pytest.raises(IllegalTransition) as exc:
        schedule(officer, d)
    assert "才能安排或记录调解会" in exc.value.message
    assert not MediationSession.objects.exists()


def test_closing_needs_an_agreement_in_effect(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    draft(officer, d)
    with pytest.raises(IllegalTransition) as exc:
        agreements.dispute_close(actor=officer, dispute=d, version=d.version)
    assert "只有已达成协议的案件才能结案" in exc.value.message


# --- bad input ---


def _item(d: Dispute, **change) -> dict:
    zhang, li = d.parties.order_by("id")
    item = {
        "obligor_id": li.pk,
        "obligee_id": zhang.pk,
        "description": "赔偿",
        "amount": "100",
        "due_date": (timezone.localdate() + timedelta(days=3)).isoformat(),
    }
    item.update(change)
    return item


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"amount": "-5"}, "items.0.amount", "金额不能为负数。"),
        ({"amount": "很多"}, "items.0.amount", "金额应为数字"),
        ({"amount": "1.234"}, "items.0.amount", "两位小数"),
        ({"amount": "NaN"}, "items.0.amount", "金额应为数字"),
        ({"due_date": "yesterday"}, "items.0.due_date", "履行期限格式不正确"),
        ({"description": "  "}, "items.0.description", "请填写履行内容。"),
        ({"obligor_id": None}, "items.0.obligor_id", "请选择履行方。"),
    ],
)
def test_bad_items_are_refused_per_field(j, change, field, message):
    officer = j.user("officer")
    d = mediating(j, officer)
    with pytest.raises(ValidationFailed) as exc:
        draft(officer, d, items=[_item(d, **change)])
    assert field in exc.value.fields
    assert message in exc.value.fields[field][0]
    assert not Agreement.objects.filter(dispute=d).exists()


def test_a_due_date_in_the_past_is_refused(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    yesterday = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ValidationFailed) as exc:
        draft(officer, d, items=[_item(d, due_date=yesterday)])
    assert exc.value.fields["items.0.due_date"] == ["履行期限不能早于今天。"]
    # today is fine
    draft(officer, d, items=[_item(d, due_date=timezone.localdate())])


def test_a_party_of_another_case_is_refused(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    stranger = intake(j, officer, narrative="另一起纠纷").parties.first()
    assert stranger is not None
    with pytest.raises(ValidationFailed) as exc:
        draft(
            officer, d, items=[_item(d, obligor_id=stranger.pk), _item(d, obligee_id=stranger.pk)]
        )
    assert exc.value.fields["items.0.obligor_id"] == ["履行方必须是本案的当事人。"]
    assert exc.value.fields["items.1.obligee_id"] == ["权利方必须是本案的当事人。"]
    agreement = draft(officer, d)
    with pytest.raises(ValidationFailed) as exc:
        agreements.agreement_sign(
            actor=officer, agreement=agreement, party=stranger, state="signed", version=1
        )
    assert "party_id" in exc.value.fields


def test_session_input_is_checked(j, other):
    officer = j.user("officer")
    d = assigned(j, officer)
    foreign = mediator_for(other, name="外所调解员")
    with pytest.raises(ValidationFailed) as exc:
        schedule(officer, d, place=" ", scheduled_at="下周", mediator_ids=[foreign.pk])
    assert set(exc.value.fields) == {"place", "scheduled_at", "mediator_ids"}
    s = schedule(officer, d)
    with pytest.raises(ValidationFailed) as exc:
        sessions.session_record(actor=officer, session=s, version=1, minutes="  ")
    assert exc.value.fields == {"minutes": ["请填写调解记录。"]}
    with pytest.raises(ValidationFailed) as exc:
        sessions.session_record(
            actor=officer,
            session=s,
            version=1,
            minutes="记录",
            held_at=timezone.now() + timedelta(days=2),
        )
    assert exc.value.fields == {"held_at": ["召开时间不能晚于现在。"]}
    s.refresh_from_db()
    d.refresh_from_db()
    assert s.state == "scheduled" and d.status == "assigned"


def test_stale_versions_are_conflicts_and_nothing_is_lost(j):
    officer, colleague = j.user("officer"), j.user("officer")
    d = mediating(j, officer)
    s = schedule(officer, d)
    sessions.session_update(
        actor=colleague, session=s, version=1, scheduled_at=s.scheduled_at, place="村委会"
    )
    with pytest.raises(Conflict) as exc:
        sessions.session_update(
            actor=officer, session=s, version=1, scheduled_at=s.scheduled_at, place="派出所"
        )
    assert exc.value.status == 409 and "已被他人修改" in exc.value.message
    s.refresh_from_db()
    assert s.place == "村委会"
    agreement = draft(officer, d)
    agreements.agreement_update(
        actor=colleague,
        agreement=agreement,
        version=1,
        form="written",
        facts="事实",
        terms="新的协议内容",
    )
    with pytest.raises(Conflict):
        agreements.agreement_update(
            actor=officer, agreement=agreement, version=1, form="oral", facts="x", terms="y"
        )
    with pytest.raises(Conflict):
        agreements.agreement_sign(
            actor=officer, agreement=agreement, party=d.parties.first(), state="signed", version=1
        )
    agreement.refresh_from_db()
    assert agreement.terms == "新的协议内容" and agreement.form == "written"
    assert not agreement.signatures.exclude(state="pending").exists()


# --- refusals are recorded, never blocking ---


def test_a_declined_signature_is_recorded_and_stops_the_agreement_not_the_case(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    agreement = draft(officer, d)
    zhang, li = d.parties.order_by("id")
    agreement = agreements.agreement_sign(
        actor=officer, agreement=agreement, party=zhang, state="signed", version=1
    )
    agreement = agreements.agreement_sign(
        actor=officer, agreement=agreement, party=li, state="declined", version=2, note="赔偿太少"
    )
    assert agreement.concluded_at is None
    sig = agreement.signatures.get(party=li)
    assert (sig.state, sig.note) == ("declined", "赔偿太少") and sig.at is not None
    d.refresh_from_db()
    assert d.status == "mediating" and not FollowUp.objects.filter(dispute=d).exists()
    assert "disputes.agreement.signature_declined" in actions(d)
    # the text is changed: everyone is asked again; then both sign and it takes effect
    agreement = agreements.agreement_update(
        actor=officer,
        agreement=agreement,
        version=3,
        form="written",
        facts=agreement.facts,
        terms="李四赔偿张三2000元。",
        items=[_item(d, amount="2000")],
    )
    assert not agreement.signatures.exclude(state="pending").exists()
    sign_all(officer, agreement)
    d.refresh_from_db()
    assert d.status == "agreed"


def test_the_case_may_fail_after_a_refusal(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    agreement = draft(officer, d)
    agreements.agreement_sign(
        actor=officer, agreement=agreement, party=d.parties.last(), state="declined", version=1
    )
    d.refresh_from_db()
    d = outcomes.dispute_fail(actor=officer, dispute=d, version=d.version, reason="一方拒签")
    assert d.status == "failed" and d.outcome == "failed"


@pytest.mark.parametrize("status", ["received", "triaged", "assigned", "mediating", "agreed"])
def test_withdrawal_is_open_in_every_state_the_table_allows(j, status):
    officer = j.user("officer")
    if status in ("received", "triaged"):
        d = case(j, officer)
        if status == "triaged":
            d = move(officer, d, "triaged")
    elif status == "assigned":
        d = assigned(j, officer)
        schedule(officer, d)
    elif status == "mediating":
        d = mediating(j, officer)
        schedule(officer, d)
    else:
        d = agreed(j, officer)
    assert d.status == status
    party = d.parties.order_by("id").last()
    d = outcomes.dispute_withdraw(
        actor=officer, dispute=d, version=d.version, reason="双方已私下和解", party=party
    )
    assert d.status == "withdrawn" and d.outcome == "withdrawn" and d.finished
    party.refresh_from_db()
    assert party.consent == "declined" and party.consent_note == "双方已私下和解"
    # sessions still scheduled are cancelled with the case
    assert not d.sessions.filter(state="scheduled").exists()
    last = AuditEntry.objects.filter(
        action="disputes.dispute.status_changed", object_id=str(d.pk)
    ).latest("seq")
    assert last.changes["reason"] == "李四撤回：双方已私下和解"


def test_withdrawal_and_termination_need_a_reason_and_a_legal_state(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    with pytest.raises(ValidationFailed):
        outcomes.dispute_withdraw(actor=officer, dispute=d, version=d.version, reason=" ")
    d = outcomes.dispute_fail(actor=officer, dispute=d, version=d.version, reason="分歧大")
    with pytest.raises(IllegalTransition):
        outcomes.dispute_withdraw(actor=officer, dispute=d, version=d.version, reason="撤回")
    d = outcomes.dispute_terminate(actor=officer, dispute=d, version=d.version, reason="无法联系")
    assert d.status == "terminated" and d.outcome == "terminated"


# --- failure and referral ---


def test_fail_refer_and_the_package(j, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    officer = j.user("officer")
    d = mediating(j, officer)
    draft(officer, d)  # an agreement that never took effect goes in the package too
    Attachment.objects.create(
        dispute=d,
        station=j.station,
        kind="photo",
        file=ContentFile(b"\x89PNG fake", name="x.png"),
        name="现场照片.png",
        content_type="image/png",
        size=9,
        sha256="0" * 64,
    )
    d.refresh_from_db()
    d = outcomes.dispute_fail(actor=officer, dispute=d, version=d.version, reason="分歧过大")
    with pytest.raises(ValidationFailed) as exc:
        outcomes.referral_create(
            actor=officer, dispute=d, version=d.version, target="moon", receiver="", reason=""
        )
    assert set(exc.value.fields) == {"target", "receiver", "reason"}
    referral = outcomes.referral_create(
        actor=officer,
        dispute=d,
        version=d.version,
        target="litigation",
        receiver="某区人民法院",
        reason="引导申请人起诉",
    )
    d.refresh_from_db()
    assert d.status == "referred" and d.outcome == "failed"
    assert referral.outcome == "pending"
    name, data = package_download(actor=officer, referral=referral)
    assert name.endswith(".zip") and d.case_number in name
    zf = zipfile.ZipFile(io.BytesIO(data))
    members = zf.namelist()
    assert {"summary.html", "parties.csv", "timeline.csv"} <= set(members)
    assert any(m.startswith("minutes/01-") for m in members)
    assert any(m.startswith("agreements/XY-") for m in members)
    assert any(m.startswith("attachments/") and m.endswith("现场照片.png") for m in members)
    photo = next(m for m in members if m.endswith("现场照片.png"))
    assert zf.read(photo) == b"\x89PNG fake"
    parties = zf.read("parties.csv").decode("utf-8-sig")
    assert MASKED_PHONE in parties and PHONE not in parties
    assert id_number(7) not in parties and id_number(7)[-4:] in parties
    for m in members:
        if not m.startswith("attachments/"):
            text = zf.read(m).decode("utf-8-sig")
            assert PHONE not in text and id_number(7) not in text, m
    timeline = zf.read("timeline.csv").decode("utf-8-sig")
    assert "disputes.referral.created" in timeline and "disputes.session.held" in timeline
    summary = zf.read("summary.html").decode()
    assert "某区人民法院" in summary and "引导申请人起诉" in summary
    # the download is an audited read
    entry = AuditEntry.objects.filter(action="disputes.referral.package_downloaded").get()
    assert entry.object_id == str(d.pk) and entry.actor == officer
    assert "parties.csv" in entry.changes["files"]
    # later, the receiving body answers
    referral = outcomes.referral_outcome_record(
        actor=officer, referral=referral, outcome="accepted", note="已立案"
    )
    assert referral.outcome == "accepted" and referral.outcome_at is not None
    with pytest.raises(ValidationFailed):
        outcomes.referral_outcome_record(actor=officer, referral=referral, outcome="pending")


def test_referral_needs_a_failed_case(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    with pytest.raises(IllegalTransition) as exc:
        outcomes.referral_create(
            actor=officer,
            dispute=d,
            version=d.version,
            target="labour",
            receiver="劳动监察大队",
            reason="欠薪",
        )
    assert exc.value.message == "只有调解不成的案件才能移送。"
    assert not d.referrals.exists()


# --- who may ---


@pytest.mark.parametrize("role", ["volunteer", "analyst", "other_officer"])
def test_only_handlers_of_the_station_may_mediate(j, other, role):
    officer = j.user("officer")
    d = mediating(j, officer)
    user = other.user("officer") if role == "other_officer" else j.user(role)
    before = AuditEntry.objects.count()
    with pytest.raises(PermissionDenied):
        schedule(user, d)
    with pytest.raises(PermissionDenied):
        draft(user, d)
    with pytest.raises(PermissionDenied):
        outcomes.dispute_withdraw(actor=user, dispute=d, version=d.version, reason="撤回")
    assert AuditEntry.objects.count() == before
    assert MediationSession.objects.filter(dispute=d).count() == 1
    assert Party.objects.filter(dispute=d, consent="declined").count() == 0


def test_a_double_clicked_submit_saves_once(j):
    officer = j.user("officer")
    d = assigned(j, officer)
    when = timezone.now() + timedelta(days=2)
    first = schedule(officer, d, scheduled_at=when)
    again = schedule(officer, d, scheduled_at=when)
    assert again.pk == first.pk and d.sessions.count() == 1
    for _click in range(2):
        s = sessions.session_record(actor=officer, session=first, version=1, minutes="记录")
    assert s.version == 2
    assert actions(d).count("disputes.session.held") == 1
    agreement = draft(officer, d)
    zhang, li = d.parties.order_by("id")
    for _click in range(2):
        agreements.agreement_sign(
            actor=officer, agreement=agreement, party=zhang, state="signed", version=1
        )
    for _click in range(2):  # the last signature, twice: in effect once, no error
        agreement = agreements.agreement_sign(
            actor=officer, agreement=agreement, party=li, state="signed", version=2
        )
    assert agreement.concluded_at is not None
    assert actions(d).count("disputes.agreement.signed") == 2
    assert actions(d).count("disputes.agreement.concluded") == 1
    assert FollowUp.objects.filter(dispute=d).count() == 3
