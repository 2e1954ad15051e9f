"""Mediation pages: the case page's section, its forms, the printed agreement and referral."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fengqiao.core.models import AuditEntry
from fengqiao.disputes import sessions
from fengqiao.disputes.models import Agreement, Dispute, FollowUp, MediationSession
from fengqiao.disputes.tests.kit import id_number, mediator_for
from fengqiao.disputes.tests.mediation_kit import (
    MASKED_PHONE,
    PHONE,
    agreed,
    assigned,
    draft,
    mediating,
    schedule,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def page(c: Client, d: Dispute) -> str:
    resp = c.get(f"/disputes/{d.pk}/")
    assert resp.status_code == 200
    return resp.content.decode()


def item_rows(d: Dispute, *rows: dict, total: int = 3) -> dict:
    """Return the items formset's fields: the rows given, then blank ones up to `total`."""
    data = {
        "items-TOTAL_FORMS": str(total),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"items-{i}-{key}"] = value
    return data


def agreement_post(d: Dispute, **item) -> dict:
    zhang, li = d.parties.order_by("id")
    row = {
        "obligor": str(li.pk),
        "obligee": str(zhang.pk),
        "description": "支付维修费",
        "amount": "1500",
        "due_date": (timezone.localdate() + timedelta(days=12)).isoformat(),
    }
    row.update(item)
    return {
        "form": "written",
        "outcome": "success",
        "facts": "楼上漏水致楼下受损",
        "terms": "李四赔偿张三维修费",
        "performance": "现金支付",
        **item_rows(d, row),
    }


def test_schedule_record_agree_sign_close_through_the_pages(j):
    officer = j.user("officer")
    c = client_for(officer)
    d = assigned(j, officer)
    m = mediator_for(j, name="钱调解")
    html = page(c, d)
    assert 'id="mediation"' in html and "安排调解会" in html
    assert "本案尚未进行调解，不能签订调解协议。" in html
    zhang, li = d.parties.order_by("id")
    when = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    resp = c.post(
        f"/disputes/{d.pk}/sessions/",
        {
            "scheduled_at": when,
            "place": "社区调解室",
            "mediators": [str(m.pk)],
            "parties": [str(zhang.pk), str(li.pk)],
            "others": "王五，村干部",
        },
    )
    assert resp.status_code == 302 and resp["Location"].endswith(f"/disputes/{d.pk}/#mediation")
    s = MediationSession.objects.get(dispute=d)
    rows = list(s.attendance.order_by("id"))
    assert [(r.name, r.capacity) for r in rows[2:]] == [("王五", "村干部")]
    resp = c.post(
        f"/disputes/{d.pk}/sessions/{s.pk}/record/",
        {
            "minutes": "双方同意调解。",
            "version": "1",
            f"attended_{rows[0].pk}": "yes",
            f"attended_{rows[1].pk}": "yes",
            f"attended_{rows[2].pk}": "no",
        },
    )
    assert resp.status_code == 302
    d.refresh_from_db()
    assert d.status == "mediating"
    html = page(c, d)
    assert "双方同意调解。" in html and "起草调解协议" in html
    resp = c.post(f"/disputes/{d.pk}/agreements/", agreement_post(d))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    agreement = Agreement.objects.get(dispute=d)
    assert agreement.items.get().description == "支付维修费"
    for n, party in enumerate((zhang, li), start=1):
        resp = c.post(
            f"/disputes/{d.pk}/agreements/{agreement.pk}/sign/",
            {"party": str(party.pk), "state": "signed", "version": str(n)},
        )
        assert resp.status_code == 302
    d.refresh_from_db()
    assert d.status == "agreed"
    assert FollowUp.objects.filter(dispute=d).count() == 3
    html = page(c, d)
    assert 'id="agreement-concluded"' in html and 'data-action="close"' in html
    resp = c.post(f"/disputes/{d.pk}/close/", {"version": str(d.version)})
    assert resp.status_code == 302
    d.refresh_from_db()
    assert d.status == "closed" and d.outcome == "success"
    assert "调解成功" in page(c, d)


def test_bad_amounts_come_back_with_the_message_and_the_input_kept(j):
    officer = j.user("officer")
    c = client_for(officer)
    d = mediating(j, officer)
    resp = c.post(f"/disputes/{d.pk}/agreements/", agreement_post(d, amount="-300"))
    assert resp.status_code == 422
    html = resp.content.decode()
    assert "金额不能为负数。" in html
    assert 'value="-300"' in html and "楼上漏水致楼下受损" in html  # nothing lost
    resp = c.post(f"/disputes/{d.pk}/agreements/", agreement_post(d, amount="一千"))
    assert resp.status_code == 422 and "金额应为数字" in resp.content.decode()
    past = (timezone.localdate() - timedelta(days=3)).isoformat()
    resp = c.post(f"/disputes/{d.pk}/agreements/", agreement_post(d, due_date=past))
    assert resp.status_code == 422 and "履行期限不能早于今天。" in resp.content.decode()
    assert not Agreement.objects.exists()


def test_an_agreement_on_a_case_never_mediated_shows_the_reason(j):
    officer = j.user("officer")
    c = client_for(officer)
    d = assigned(j, officer)
    resp = c.post(f"/disputes/{d.pk}/agreements/", agreement_post(d))
    assert resp.status_code == 409
    assert "本案尚未进行调解，不能签订调解协议。" in resp.content.decode()
    assert not Agreement.objects.exists()


def test_a_stale_version_is_told_and_the_minutes_kept(j):
    officer = j.user("officer")
    c = client_for(officer)
    d = assigned(j, officer)
    s = schedule(officer, d)
    sessions.session_update(
        actor=officer, session=s, version=1, scheduled_at=s.scheduled_at, place="村委会"
    )
    resp = c.post(
        f"/disputes/{d.pk}/sessions/{s.pk}/record/", {"minutes": "我写的调解记录", "version": "1"}
    )
    assert resp.status_code == 409
    html = resp.content.decode()
    assert "已被他人修改" in html and "我写的调解记录" in html
    s.refresh_from_db()
    assert s.state == "scheduled"


def test_a_declined_signature_is_shown_and_the_case_may_go_on(j):
    officer = j.user("officer")
    c = client_for(officer)
    d = mediating(j, officer)
    agreement = draft(officer, d)
    li = d.parties.order_by("id").last()
    resp = c.post(
        f"/disputes/{d.pk}/agreements/{agreement.pk}/sign/",
        {"party": str(li.pk), "state": "declined", "note": "金额太少", "version": "1"},
    )
    assert resp.status_code == 302
    html = page(c, d)
    assert 'id="agreement-declined"' in html and "李四拒绝签署，协议不能生效" in html
    assert "金额太少" in html
    assert 'data-open="fail"' in html and 'data-open="withdraw"' in html


def test_the_printed_agreement_is_the_standard_layout_with_masked_data(j):
    officer = j.user("officer")
    d = agreed(j, officer)
    agreement = Agreement.objects.get(dispute=d)
    resp = client_for(officer).get(f"/disputes/{d.pk}/agreements/{agreement.pk}/print/")
    assert resp.status_code == 200
    html = resp.content.decode()
    for text in (
        "人民调解协议书",
        agreement.number,
        "当事人（申请人）：张三",
        "纠纷主要事实、争议事项",
        "经调解，自愿达成如下协议",
        "履行方式、时限",
        "本协议一式三份",
        "人民调解委员会（印）",
        "调解员（签名）",
        "1200.50",
        "@media print",
    ):
        assert text in html, text
    assert MASKED_PHONE in html and PHONE not in html and id_number(7) not in html
    assert "<nav" not in html  # nothing but the document when printed


def test_the_printed_agreement_stays_chinese_when_the_interface_is_english(j):
    officer = j.user("officer")
    d = agreed(j, officer)
    agreement = Agreement.objects.get(dispute=d)
    c = client_for(officer)
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Disputes" in c.get(f"/disputes/{d.pk}/").content.decode()  # the interface is English
    html = c.get(f"/disputes/{d.pk}/agreements/{agreement.pk}/print/").content.decode()
    assert "当事人（申请人）：张三" in html and "人民调解委员会（印）" in html
    assert "Applicant" not in html and "Mediation Committee" not in html


def test_fail_refer_print_and_download_through_the_pages(j):
    officer = j.user("officer")
    c = client_for(officer)
    d = mediating(j, officer)
    resp = c.post(f"/disputes/{d.pk}/fail/", {"reason": "", "version": str(d.version)})
    assert resp.status_code == 422 and "请说明理由。" in resp.content.decode()
    resp = c.post(f"/disputes/{d.pk}/fail/", {"reason": "分歧过大", "version": str(d.version)})
    assert resp.status_code == 302
    d.refresh_from_db()
    resp = c.post(
        f"/disputes/{d.pk}/referrals/",
        {
            "target": "litigation",
            "receiver": "区人民法院",
            "reason": "引导诉讼",
            "version": str(d.version),
        },
    )
    assert resp.status_code == 302
    referral = d.referrals.get()
    html = page(c, d)
    assert "下载移送材料包" in html and "区人民法院" in html
    resp = c.get(f"/disputes/{d.pk}/referrals/{referral.pk}/print/")
    assert resp.status_code == 200 and "矛盾纠纷移送函" in resp.content.decode()
    assert PHONE not in resp.content.decode()
    resp = c.get(f"/disputes/{d.pk}/referrals/{referral.pk}/package.zip")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/zip"
    members = zipfile.ZipFile(io.BytesIO(resp.content)).namelist()
    assert {"summary.html", "parties.csv", "timeline.csv"} <= set(members)
    assert AuditEntry.objects.filter(action="disputes.referral.package_downloaded").count() == 1
    resp = c.post(
        f"/disputes/{d.pk}/referrals/{referral.pk}/outcome/", {"outcome": "accepted", "note": ""}
    )
    assert resp.status_code == 302
    referral.refresh_from_db()
    assert referral.outcome == "accepted"


def test_withdraw_by_a_party_through_the_page(j):
    officer = j.user("officer")
    c = client_for(officer)
    d = assigned(j, officer)
    zhang = d.parties.order_by("id").first()
    resp = c.post(
        f"/disputes/{d.pk}/withdraw/",
        {"party": str(zhang.pk), "reason": "不愿调解", "version": str(d.version)},
    )
    assert resp.status_code == 302
    d.refresh_from_db()
    assert d.status == "withdrawn"
    html = page(c, d)
    assert 'id="mediation-declined"' in html and "不愿调解" in html


@pytest.mark.parametrize("role", ["volunteer", "other_officer"])
def test_strangers_cannot_act(j, other, role):
    officer = j.user("officer")
    d = assigned(j, officer)
    user = other.user("officer") if role == "other_officer" else j.user(role)
    resp = client_for(user).post(
        f"/disputes/{d.pk}/sessions/", {"scheduled_at": "2030-01-01T10:00", "place": "室"}
    )
    assert resp.status_code in (403, 404)
    assert not MediationSession.objects.exists()


def test_an_analyst_sees_the_section_without_forms(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    analyst = client_for(j.user("analyst"))
    html = page(analyst, d)
    assert 'id="mediation"' in html and "双方陈述了各自的意见" in html
    assert 'data-form="schedule"' not in html and 'data-form="record"' not in html
    # the section alone, on its own page
    resp = analyst.get(f"/disputes/{d.pk}/mediation/")
    assert resp.status_code == 200 and "双方陈述了各自的意见" in resp.content.decode()
