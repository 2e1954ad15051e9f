"""The routing pages: the case section and its actions, registry, rota, routing list, queues."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from fengqiao.accounts.models import Notification
from fengqiao.disputes import routing
from fengqiao.disputes.models import Extension, LawyerDuty, Mediator, RoutingRule
from fengqiao.disputes.tests.kit import id_number, person
from fengqiao.disputes.tests.routing_helpers import fresh, mediator, rule, triaged

pytestmark = pytest.mark.django_db


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_section_shows_proposal_and_conflicts_and_assigns(j):
    party = person("张三", id_number=id_number(5), address="枫桥路9号")
    barred = mediator(j, "赵调解", id_number=id_number(5))
    ok = mediator(j, "钱调解")
    rule(j, [barred, ok], channel="lawyer")
    d = triaged(j, parties=[party, person("李四", role="respondent")])
    chief = client(j.user("chief"))
    page = chief.get(f"/disputes/{d.pk}/routing/").content.decode()
    assert "钱调解" in page and "须回避" in page and "身份证号码相同" in page
    resp = chief.post(f"/disputes/{d.pk}/routing/assign/", {"version": d.version})
    assert resp.status_code == 302
    d = fresh(d)
    assert d.mediator == ok and d.status == "assigned"
    page = chief.get(f"/disputes/{d.pk}/routing/").content.decode()
    assert "律师调解" in page and "改派" in page


def test_a_refused_action_says_why_and_keeps_the_input(j, other):
    a = mediator(j, "甲")
    rule(j, [a])
    d = triaged(j)
    routing.dispute_assign(actor=None, dispute=d, version=d.version)
    d = fresh(d)
    officer = client(j.user("officer"))
    resp = officer.post(
        f"/disputes/{d.pk}/routing/extension/", {"days": "45", "reason": "当事人外出务工"}
    )
    assert resp.status_code == 422
    body = resp.content.decode()
    assert "1 到 30" in body and "当事人外出务工" in body
    assert not Extension.objects.exists()
    stale = officer.post(f"/disputes/{d.pk}/routing/release/", {"version": 1, "reason": "忙"})
    assert stale.status_code in (403, 409)
    assert fresh(d).mediator == a
    # Another station's chief does not even see the case.
    assert client(other.user("chief")).get(f"/disputes/{d.pk}/routing/").status_code == 404


def test_extension_request_and_the_chiefs_queue(j):
    chief_user = j.user("chief")
    a = mediator(j, "甲")
    rule(j, [a])
    d = triaged(j)
    routing.dispute_assign(actor=None, dispute=d, version=d.version)
    officer = client(j.user("officer"))
    resp = officer.post(f"/disputes/{d.pk}/routing/extension/", {"days": "7", "reason": "鉴定"})
    assert resp.status_code == 302
    chief = client(chief_user)
    queue = chief.get("/disputes/extensions/").content.decode()
    assert d.case_number in queue and "鉴定" in queue
    assert officer.get("/disputes/extensions/").status_code == 403
    ext = Extension.objects.get()
    resp = chief.post(
        f"/disputes/extensions/{ext.pk}/decide/", {"decision": "reject", "next": "queue"}
    )
    assert resp.status_code == 302
    ext.refresh_from_db()
    assert ext.state == "pending"  # a rejection needs a note
    chief.post(f"/disputes/extensions/{ext.pk}/decide/", {"decision": "approve", "next": "queue"})
    ext.refresh_from_db()
    assert ext.state == "approved" and fresh(d).extended_days == 7
    notes = chief.get("/accounts/notifications/").content.decode()
    assert "申请延期7天" in notes
    note = Notification.objects.get(user=chief_user)
    resp = chief.post("/accounts/notifications/read", {"pk": note.pk})
    assert resp.status_code == 302 and resp["Location"] == f"/disputes/{d.pk}/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_mediator_registry_pages(j, other):
    chief = client(j.user("chief"))
    resp = chief.post(
        f"/disputes/mediators/new/?station={j.station.pk}",
        {"kind": "lawyer", "name": "李律师", "phone": "13812345678", "active": "on"},
    )
    assert resp.status_code == 302
    m = Mediator.objects.get()
    assert m.phone == "13812345678" and m.phone_bidx
    listing = chief.get("/disputes/mediators/").content.decode()
    assert "138****5678" in listing and "13812345678" not in listing
    bad = chief.post("/disputes/mediators/new/", {"kind": "lawyer", "name": "", "phone": "12"})
    assert bad.status_code == 200 and "请填写调解员姓名" in bad.content.decode()
    edit = chief.get(f"/disputes/mediators/{m.pk}/edit/").content.decode()
    assert "138****5678" in edit and "13812345678" not in edit
    resp = chief.post(
        f"/disputes/mediators/{m.pk}/edit/",
        {"kind": "lawyer", "name": "李大律师", "phone": "", "version": 1, "active": "on"},
    )
    assert resp.status_code == 302
    m.refresh_from_db()
    assert m.name == "李大律师" and m.phone == "13812345678"  # blank keeps the phone
    stale = chief.post(
        f"/disputes/mediators/{m.pk}/edit/",
        {"kind": "lawyer", "name": "又改", "version": 1, "active": "on"},
    )
    assert stale.status_code == 200 and "又改" in stale.content.decode()
    assert client(j.user("officer")).get("/disputes/mediators/").status_code == 403
    assert client(other.user("chief")).get(f"/disputes/mediators/{m.pk}/edit/").status_code == 404


def test_rota_and_routing_list_pages(j):
    chief = client(j.user("chief"))
    lawyer = mediator(j, "律师", kind="lawyer")
    today = timezone.localdate().isoformat()
    chief.post(
        "/disputes/rota/add/", {"station": j.station.pk, "mediator_id": lawyer.pk, "day": today}
    )
    duty = LawyerDuty.objects.get()
    page = chief.get(f"/disputes/rota/?month={today[:7]}").content.decode()
    assert "律师" in page and f'data-day="{today}"' in page
    chief.post(f"/disputes/rota/{duty.pk}/remove/")
    assert not LawyerDuty.objects.exists()
    resp = chief.post(
        "/disputes/routing-list/new/",
        {
            "type_code": "02",
            "grade": "",
            "channel": "lawyer",
            "pool": [str(lawyer.pk)],
            "active": "on",
        },
    )
    assert resp.status_code == 302, resp.content.decode()
    r = RoutingRule.objects.get()
    assert list(r.pool.all()) == [lawyer]
    assert "邻里纠纷" in chief.get("/disputes/routing-list/").content.decode()
    empty = chief.post("/disputes/routing-list/new/", {"channel": "lawyer", "active": "on"})
    assert "请至少选择一名调解员" in empty.content.decode()
    assert client(j.user("officer")).get("/disputes/routing-list/").status_code == 403
