"""The edit page and its service: re-triage, re-index, audit, version conflict, finished cases."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from fengqiao.core.audit import REDACTED
from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.core.pii import blind_index
from fengqiao.core.search import search_filter
from fengqiao.disputes.editing import dispute_update
from fengqiao.disputes.models import Dispute, DisputeLink, Party
from fengqiao.disputes.services import dispute_transition
from fengqiao.disputes.tests.kit import ago, id_number, intake, person

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def edit_data(d: Dispute, **extra: Any) -> dict[str, Any]:
    """Return the edit form as the page shows it for `d`, with changes."""
    parties = list(d.parties.order_by("id"))
    data: dict[str, Any] = {
        "version": str(d.version),
        "narrative": d.narrative,
        "occurred_at": "2026-01-05T09:30",
        "type_class": d.type.code[:2],
        "type_code": d.type.code,
        "scale": d.scale,
        "people_count": str(d.people_count),
        "amount": str(d.amount),
        "channels_involved": str(d.channels_involved),
        "lat": "" if d.lat is None else f"{d.lat:.6f}",
        "lng": "" if d.lng is None else f"{d.lng:.6f}",
        "address": d.address,
        "grid_id": "",
        "parties-TOTAL_FORMS": str(len(parties)),
        "parties-INITIAL_FORMS": str(len(parties)),
        "parties-MIN_NUM_FORMS": "0",
        "parties-MAX_NUM_FORMS": "1000",
    }
    for i, p in enumerate(parties):
        data.update(
            {
                f"parties-{i}-id": str(p.pk),
                f"parties-{i}-kind": p.kind,
                f"parties-{i}-role": p.role,
                f"parties-{i}-name": p.name,
                f"parties-{i}-phone": "",  # masked on the page: blank keeps it
                f"parties-{i}-id_number": "",
                f"parties-{i}-address": p.address,
            }
        )
    data.update(extra)
    return data


def test_the_edit_page_changes_facts_and_parties_and_re_runs_the_rules(j):
    officer = j.user("officer")
    d = intake(j, officer, parties=[person("张三", phone=PHONE), person("李四", role="respondent")])
    assert d.colour == "blue"
    url = f"/disputes/{d.pk}/edit/"
    page = client_for(officer).get(url)
    assert page.status_code == 200
    assert "138****5678" in page.content.decode() and PHONE not in page.content.decode()
    card = id_number(9)
    data = edit_data(
        d,
        narrative="邻居持刀威胁，扬言要砍死他",
        violence="on",
        amount="60000",
        people_count="3",
        **{
            "parties-1-name": "李四光",
            "parties-1-id_number": card,
            "parties-TOTAL_FORMS": "3",
            "parties-2-kind": "person",
            "parties-2-role": "other",
            "parties-2-name": "王五",
            "parties-2-address": "枫桥路9号",
            "parties-2-consent": "undecided",
        },
    )
    resp = client_for(officer).post(url, data)
    assert resp.status_code == 302, resp.context and resp.context["form"].errors
    d.refresh_from_db()
    assert d.version == 2 and d.violence and d.amount == 60000
    assert d.colour in ("orange", "red") and d.threat_state == "pending" and d.threat_words
    zhang, li, wang = d.parties.order_by("id")
    assert zhang.phone == PHONE  # a blank phone on the page keeps the stored one
    assert li.name == "李四光" and li.id_number == card
    assert li.id_number_bidx == blind_index("party_id", card)
    assert wang.name == "王五" and wang.name_address_bidx
    # search finds the new name; the audit has the changes without personal data
    found = search_filter(Dispute.objects.all(), label="disputes.dispute", query="李四光")
    assert found.filter(pk=d.pk).exists()
    entry = AuditEntry.objects.get(action="disputes.dispute.updated", object_id=str(d.pk))
    assert entry.actor == officer and entry.changes["violence"] == [False, True]
    lines = entry.changes["parties"]
    assert any(line.get("id_number") == [REDACTED, REDACTED] for line in lines)
    assert card not in str(entry.changes)
    assert AuditEntry.objects.filter(
        action="disputes.dispute.triaged", object_id=str(d.pk), changes__cause="edit"
    ).exists()


def test_the_second_editor_is_told_and_keeps_their_input(j):
    officer = j.user("officer")
    d = intake(j, officer)
    first = edit_data(d, narrative="第一人的修改")
    second = edit_data(d, narrative="第二人的修改，内容较长")
    assert client_for(officer).post(f"/disputes/{d.pk}/edit/", first).status_code == 302
    other_officer = j.user("officer")
    resp = client_for(other_officer).post(f"/disputes/{d.pk}/edit/", second)
    assert resp.status_code == 409
    html = resp.content.decode()
    assert "该案件已被他人修改" in html and "第二人的修改，内容较长" in html
    assert "最新保存的内容" in html and "第一人的修改" in html
    assert resp.context["form"]["version"].value() == "2"  # saving again is deliberate
    d.refresh_from_db()
    assert d.narrative == "第一人的修改" and d.version == 2


def test_errors_on_the_edit_page_keep_the_input(j):
    officer = j.user("officer")
    d = intake(j, officer)
    resp = client_for(officer).post(
        f"/disputes/{d.pk}/edit/", edit_data(d, amount="abc", **{"parties-0-name": ""})
    )
    assert resp.status_code == 422
    assert resp.context["form"].errors["amount"]
    assert resp.context["formset"].forms[0].errors["name"]
    assert 'value="abc"' in resp.content.decode()
    d.refresh_from_db()
    assert d.version == 1


def test_a_finished_case_cannot_be_edited(j):
    officer = j.user("officer")
    d = intake(j, officer)
    d = dispute_transition(actor=officer, dispute=d, to="withdrawn", version=1, reason="撤回")
    resp = client_for(officer).get(f"/disputes/{d.pk}/edit/")
    assert resp.status_code == 302
    with pytest.raises(IllegalTransition):
        dispute_update(actor=officer, dispute=d, version=d.version, narrative="改")


def test_who_may_edit(j, other):
    d = intake(j, j.user("officer"))
    assert client_for(j.user("analyst")).get(f"/disputes/{d.pk}/edit/").status_code == 403
    assert client_for(other.user("officer")).get(f"/disputes/{d.pk}/edit/").status_code == 404
    with pytest.raises(PermissionDenied):
        dispute_update(actor=j.user("mediator"), dispute=d, version=1, narrative="改")


def test_moving_the_point_moves_the_case_and_its_parties(j):
    officer = j.user("officer")
    d = intake(j, officer)
    g = j.grids[3]
    dispute_update(actor=officer, dispute=d, version=1, lat=g.centroid_lat, lng=g.centroid_lng)
    d.refresh_from_db()
    assert d.area == g and d.community == j.communities[1]
    assert set(Party.objects.filter(dispute=d).values_list("area_id", flat=True)) == {g.pk}


def test_a_party_of_another_case_cannot_be_edited_through_this_one(j):
    officer = j.user("officer")
    d, e = intake(j, officer), intake(j, officer)
    stranger = e.parties.first()
    with pytest.raises(ValidationFailed) as exc:
        dispute_update(
            actor=officer, dispute=d, version=1, parties=[{"id": stranger.pk, "name": "改"}]
        )
    assert "parties.0" in exc.value.fields


def test_a_stale_version_is_a_conflict(j):
    officer = j.user("officer")
    d = intake(j, officer)
    dispute_update(actor=officer, dispute=d, version=1, narrative="改一次")
    with pytest.raises(Conflict):
        dispute_update(actor=officer, dispute=d, version=1, narrative="改两次")


def test_an_added_party_links_a_repeat(j):
    officer = j.user("officer")
    card = id_number(4)
    earlier = intake(j, officer, occurred_at=ago(20), parties=[person("陈七", id_number=card)])
    d = intake(j, officer, parties=[person("周八")])
    dispute_update(
        actor=officer,
        dispute=d,
        version=1,
        parties=[{"role": "respondent", "name": "陈七", "id_number": card}],
    )
    assert DisputeLink.objects.filter(dispute=d, other=earlier).exists()


def test_party_personal_data_is_revealed_only_through_the_audited_reveal(j, other):
    officer = j.user("officer")
    d = intake(j, officer, parties=[person("张三", phone=PHONE, id_number=id_number(2))])
    party = d.parties.get()
    url = f"/pii/disputes.party/{party.pk}/phone/reveal"
    resp = client_for(officer).post(url)
    assert resp.status_code == 200 and PHONE in resp.content.decode()
    entry = AuditEntry.objects.get(action="disputes.party.pii_revealed")
    assert entry.actor == officer and entry.changes == {"field": "phone"}
    # an auxiliary sees the case but may not reveal; another station's officer: not found
    assert client_for(j.user("auxiliary")).post(url).status_code == 403
    assert client_for(other.user("officer")).post(url).status_code == 404
    bad = f"/pii/disputes.party/{party.pk}/name/reveal"
    assert client_for(officer).post(bad).status_code == 404
    assert AuditEntry.objects.filter(action="disputes.party.pii_revealed").count() == 1


def test_mediator_personal_data_is_revealed_through_the_audited_reveal(j, other):
    from fengqiao.disputes.tests.kit import mediator_for

    m = mediator_for(j, phone=PHONE)
    url = f"/pii/disputes.mediator/{m.pk}/phone/reveal"
    chief = j.user("chief")
    resp = client_for(chief).post(url)
    assert resp.status_code == 200 and PHONE in resp.content.decode()
    assert AuditEntry.objects.filter(action="disputes.mediator.pii_revealed").count() == 1
    assert client_for(other.user("chief")).post(url).status_code == 404
