"""The case page: what it shows, who reaches it, its forms (moves, override, threats, consent)."""

from __future__ import annotations

import pytest

from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Dispute, Party
from fengqiao.disputes.tests.kit import id_number, intake, person

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def case(j):
    return intake(
        j,
        j.user("officer"),
        narrative="两家因楼上漏水发生争执",
        amount="3000",
        parties=[
            person("张三", phone=PHONE, id_number=id_number(7)),
            person("李四", role="respondent"),
        ],
    )


def url(case: Dispute, action: str = "") -> str:
    return f"/disputes/{case.pk}/{action + '/' if action else ''}"


def test_the_case_page_shows_the_case_with_personal_data_masked(client, j, case):
    resp = login(client, j.user("officer")).get(url(case))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert case.case_number in html and "两家因楼上漏水发生争执" in html
    assert "张三" in html and "申请人" in html
    # masked, with the audited reveal buttons
    assert "138****5678" in html and PHONE not in html
    assert id_number(7) not in html and "430***********" in html
    assert "/pii/disputes.party/" in html
    # the triage and its reasons, the colour, the map
    for reason in case.reason_texts():
        assert reason in html
    assert f"colour-{case.colour}" in html
    assert 'id="case-map"' in html and 'id="case-grid"' in html
    # the moves this case may make now
    assert 'data-move="triaged"' in html and 'data-move="agreed"' not in html


def test_the_case_page_is_404_for_another_station(client, j, other, case):
    assert login(client, other.user("chief")).get(url(case)).status_code == 404
    assert login(client, other.user("chief")).get("/disputes/999999/").status_code == 404


def test_the_forms_are_404_for_another_station(client, j, other, case):
    c = login(client, other.user("chief"))
    before = Dispute.objects.get(pk=case.pk).version
    for action, data in (
        ("transition", {"to": "triaged", "version": case.version}),
        ("override", {"grade": "major", "colour": "red", "reason": "x", "version": case.version}),
        ("threat-review", {"decision": "confirm", "version": case.version}),
    ):
        assert c.post(url(case, action), data).status_code == 404
    party = case.parties.first()
    resp = c.post(f"{url(case)}parties/{party.pk}/consent/", {"consent": "declined"})
    assert resp.status_code == 404
    assert Dispute.objects.get(pk=case.pk).version == before


def test_the_overdue_marker_and_the_supervision_card(client, j, case):
    from datetime import timedelta

    from django.utils import timezone

    Dispute.objects.filter(pk=case.pk).update(
        deadline=timezone.localdate() - timedelta(days=2), supervision="red"
    )
    html = login(client, j.user("officer")).get(url(case)).content.decode()
    assert 'id="case-overdue"' in html and "红牌督办" in html


def test_a_status_move(client, j, case):
    c = login(client, j.user("officer"))
    resp = c.post(url(case, "transition"), {"to": "triaged", "version": case.version})
    assert resp.status_code == 302 and resp["Location"] == url(case)
    assert Dispute.objects.get(pk=case.pk).status == "triaged"
    assert "案件状态已变更为" in c.get(url(case)).content.decode()


def test_a_move_with_a_stale_version_says_someone_else_changed_it(client, j, case):
    # given the officer opened the page, then someone else moved the case
    c = login(client, j.user("officer"))
    stale = case.version
    c.post(url(case, "transition"), {"to": "triaged", "version": stale})
    # when the officer, still on the old page, terminates it with a reason
    resp = c.post(
        url(case, "transition"), {"to": "terminated", "reason": "当事人已和解", "version": stale}
    )
    # then the page says someone else changed it, keeps the reason, and nothing moved
    assert resp.status_code == 409
    html = resp.content.decode()
    assert "有人在您之前修改了本案件" in html
    assert "当事人已和解" in html
    current = Dispute.objects.get(pk=case.pk)
    assert current.status == "triaged"
    # and the form now carries the newest version, so a deliberate second submit goes through
    assert f'name="version" value="{current.version}"' in html


def test_a_move_that_needs_a_reason_asks_for_it(client, j, case):
    c = login(client, j.user("officer"))
    resp = c.post(url(case, "transition"), {"to": "withdrawn", "version": case.version})
    assert resp.status_code == 422
    assert "请说明理由" in resp.content.decode()
    assert Dispute.objects.get(pk=case.pk).status == "received"


def test_an_illegal_move_gets_the_reason(client, j, case):
    c = login(client, j.user("officer"))
    resp = c.post(url(case, "transition"), {"to": "agreed", "version": case.version})
    assert resp.status_code == 409
    assert "本案尚未进行调解，不能签订调解协议" in resp.content.decode()


def test_the_override_form(client, j, case):
    chief = j.user("chief")
    c = login(client, chief)
    assert 'id="case-override"' in c.get(url(case)).content.decode()
    # an officer sees no override form, and posting one is refused
    officer = login(client.__class__(), j.user("officer"))
    assert 'id="case-override"' not in officer.get(url(case)).content.decode()
    data = {"grade": "major", "colour": "red", "reason": "当事人情绪激动", "version": case.version}
    assert officer.post(url(case, "override"), data).status_code == 403
    # the chief overrides
    resp = c.post(url(case, "override"), data)
    assert resp.status_code == 302
    current = Dispute.objects.get(pk=case.pk)
    assert (current.grade, current.colour, current.override_reason) == (
        "major",
        "red",
        "当事人情绪激动",
    )
    assert AuditEntry.objects.filter(action="disputes.dispute.overridden").count() == 1


def test_an_override_with_a_stale_version_keeps_the_input(client, j, case):
    c = login(client, j.user("chief"))
    stale = case.version
    c.post(url(case, "transition"), {"to": "triaged", "version": stale})
    data = {"grade": "major", "colour": "orange", "reason": "多次上门争吵", "version": stale}
    resp = c.post(url(case, "override"), data)
    assert resp.status_code == 409
    html = resp.content.decode()
    assert "有人在您之前修改了本案件" in html and "多次上门争吵" in html
    assert Dispute.objects.get(pk=case.pk).overridden_at is None


def test_an_override_without_a_reason_is_refused_with_the_form_kept(client, j, case):
    c = login(client, j.user("chief"))
    resp = c.post(
        url(case, "override"), {"grade": "major", "colour": "red", "version": case.version}
    )
    assert resp.status_code == 422
    assert "请说明调整理由" in resp.content.decode()


def test_threat_words_are_confirmed_on_the_page(client, j):
    case = intake(j, narrative="对方扬言要弄死他")
    c = login(client, j.user("officer"))
    html = c.get(url(case)).content.decode()
    assert 'id="threat-review"' in html and "弄死" in html
    # an officer may confirm but not dismiss
    assert 'value="dismiss"' not in html
    resp = c.post(url(case, "threat-review"), {"decision": "confirm", "version": case.version})
    assert resp.status_code == 302
    assert Dispute.objects.get(pk=case.pk).threat_state == "confirmed"


def test_a_partys_refusal_is_recorded(client, j, case):
    party = case.parties.get(name="李四")
    c = login(client, j.user("officer"))
    resp = c.post(
        f"{url(case)}parties/{party.pk}/consent/", {"consent": "declined", "note": "不愿调解"}
    )
    assert resp.status_code == 302
    party = Party.objects.get(pk=party.pk)
    assert (party.consent, party.consent_note) == ("declined", "不愿调解")
    bad = c.post(f"{url(case)}parties/{party.pk}/consent/", {"consent": "maybe"})
    assert bad.status_code == 422 and "调解意愿应为同意、拒绝或未表态" in bad.content.decode()


def test_an_analyst_sees_the_case_but_no_forms(client, j, case):
    html = login(client, j.user("analyst")).get(url(case)).content.decode()
    assert case.case_number in html
    assert 'id="case-moves"' not in html and 'id="case-override"' not in html


def test_a_reason_typed_for_a_move_no_longer_possible_is_shown_back(client, j, case):
    # given two officers on the same page; the first withdraws the case
    c = login(client, j.user("officer"))
    stale = case.version
    c.post(url(case, "transition"), {"to": "withdrawn", "reason": "撤回", "version": stale})
    # when the second terminates it from the old page
    resp = c.post(
        url(case, "transition"), {"to": "terminated", "reason": "双方已自行和解", "version": stale}
    )
    # then they are told, and what they typed is on the page though the move is gone
    html = resp.content.decode()
    assert resp.status_code == 409 and "有人在您之前修改了本案件" in html
    assert 'id="kept-input"' in html and "双方已自行和解" in html


def test_sections_are_included_only_where_their_template_exists(client, j, case, monkeypatch):
    from fengqiao.disputes import views

    c = login(client, j.user("officer"))
    monkeypatch.setattr(views, "_template_exists", lambda name: False)
    resp = c.get(url(case))
    assert resp.status_code == 200 and resp.context["sections"] == {}
    monkeypatch.setattr(views, "_template_exists", lambda name: name.endswith("_routing.html"))
    resp = c.get(url(case))
    assert resp.status_code == 200
    assert list(resp.context["sections"]) == ["routing"]
    assert [t for t, _s in resp.context["section_list"]] == ["disputes/_section_routing.html"]


def test_the_reveal_button_shows_the_phone_and_is_audited(client, j, case):
    party = case.parties.get(name="张三")
    c = login(client, j.user("officer"))
    html = c.get(url(case)).content.decode()
    reveal = f"/pii/disputes.party/{party.pk}/phone/reveal"
    assert reveal in html
    resp = c.post(reveal)
    assert resp.status_code == 200 and PHONE in resp.content.decode()
    assert AuditEntry.objects.filter(action__endswith="pii_revealed").exists()
