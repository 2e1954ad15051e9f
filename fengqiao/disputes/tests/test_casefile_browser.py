"""The case file in a real browser: record a follow-up visit and upload a photo on the case page."""

from __future__ import annotations

import pytest

from conftest import browser_login
from fengqiao.disputes.models import Attachment, Dispute, FollowUp
from fengqiao.disputes.tests.casefile_kit import agreed_case, png_bytes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_record_a_broken_agreement_and_upload_a_photo_on_the_case_page(page, j, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    officer = j.user("officer")
    d, _agreement, visits = agreed_case(j, officer, status="closed")
    browser_login(page, officer.username)
    page.wait_for_url("**/")
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"/disputes/{d.pk}/")

    item = page.locator(f"#followup-{visits[0].pk}")
    item.locator("summary", has_text="记录回访").click()
    item.locator("label", has_text="未履行").click()
    item.locator("label", has_text="2 不满意").click()
    item.locator("textarea[name=comment]").fill("李四至今未支付维修费")
    item.locator("button[type=submit]").click()
    page.wait_for_selector(".alert-warning")
    assert "案件已重新办理" in page.locator(".alert-warning").inner_text()
    assert page.locator("#case-status").inner_text() == "重新办理"
    assert Dispute.objects.get(pk=d.pk).status == "reopened"
    recorded = FollowUp.objects.get(pk=visits[0].pk)
    assert recorded.honoured is False and recorded.satisfaction == 2
    # the timeline in the section tells what happened
    timeline = page.locator("#case-timeline").inner_text()
    assert "记录回访" in timeline and "状态变更" in timeline

    page.locator("#case-attachments summary", has_text="上传附件").click()
    page.select_option("#att-kind", "photo")
    page.set_input_files(
        "#att-file", {"name": "门口漏水.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    page.fill("#att-description", "漏水处照片")
    page.locator("#attachment-upload-form button[type=submit]").click()
    page.wait_for_selector("#case-attachments [data-attachment]")
    assert "门口漏水.png" in page.locator("#case-attachments").inner_text()
    assert Attachment.objects.get(dispute=d).content_type == "image/png"
    # no horizontal scroll at 360 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
