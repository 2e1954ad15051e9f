"""Mediation in a real browser: minute a session, draft and sign the agreement, print it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import browser_login
from fengqiao.disputes.models import Agreement, Dispute, FollowUp, MediationSession
from fengqiao.disputes.tests.mediation_kit import MASKED_PHONE, PHONE, assigned, schedule

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_record_a_session_sign_the_agreement_and_print_it(page, j):
    officer = j.user("officer")
    d = assigned(j, officer)
    session = schedule(officer, d, others=[{"name": "王五", "capacity": "村干部"}])
    zhang, li = d.parties.order_by("id")
    browser_login(page, officer.username)
    page.wait_for_url("**/")
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"/disputes/{d.pk}/")

    # the session: attendance and minutes; the case starts mediating
    card = page.locator(f"#session-{session.pk}")
    card.locator("summary", has_text="记录调解会").click()
    rows = list(session.attendance.order_by("id"))
    card.locator(f"select[name=attended_{rows[0].pk}]").select_option("yes")
    card.locator(f"select[name=attended_{rows[1].pk}]").select_option("yes")
    card.locator(f"select[name=attended_{rows[2].pk}]").select_option("no")
    card.locator("textarea[name=minutes]").fill("双方陈述意见，李四同意赔偿维修费。")
    card.locator("button[type=submit]", has_text="保存调解记录").click()
    page.wait_for_selector(".alert-success")
    assert page.locator("#case-status").inner_text() == "调解中"
    assert "李四同意赔偿维修费" in page.locator(f"#session-{session.pk}").inner_text()
    assert MediationSession.objects.get(pk=session.pk).state == "held"

    # the agreement, with one item
    page.locator("summary[data-open=agreement]").click()
    form = page.locator("form[data-form=agreement]")
    form.locator("textarea[name=facts]").fill("楼上漏水致楼下天花板受损。")
    form.locator("textarea[name=terms]").fill("李四赔偿张三维修费。")
    form.locator("select[name=items-0-obligor]").select_option(str(li.pk))
    form.locator("select[name=items-0-obligee]").select_option(str(zhang.pk))
    form.locator("input[name=items-0-description]").fill("支付维修费")
    form.locator("input[name=items-0-amount]").fill("1800")
    due = (timezone.localdate() + timedelta(days=20)).isoformat()
    form.locator("input[name=items-0-due_date]").fill(due)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".alert-success")
    agreement = Agreement.objects.get(dispute=d)

    # each party signs, one after the other
    for party in (zhang, li):
        page.locator(f"button[data-sign='{party.pk}']").click()
        page.wait_for_selector(f"#signer-{agreement.pk}-{party.pk}[data-signature=signed]")
    page.wait_for_selector("#agreement-concluded")
    assert page.locator("#case-status").inner_text() == "已达成协议"
    assert Dispute.objects.get(pk=d.pk).status == "agreed"
    assert FollowUp.objects.filter(agreement=agreement).count() == 3
    width = page.evaluate("document.getElementById('mediation').scrollWidth")
    assert width <= 360

    # the printed agreement
    href = page.locator("#mediation a[data-link=print]").get_attribute("href")
    assert href is not None
    page.goto(href)
    text = page.locator("#agreement-document").inner_text()
    assert "人民调解协议书" in text and agreement.number in text
    assert "支付维修费" in text and "1800.00" in text
    assert MASKED_PHONE in text and PHONE not in page.content()
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()
    assert page.locator("#agreement-document").is_visible()
