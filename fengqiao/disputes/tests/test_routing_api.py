"""The routing API: mediators, rota, routing list, proposal, moves, extensions, notifications."""

from __future__ import annotations

import pytest
from django.utils import timezone

from fengqiao.accounts.models import Notification
from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Dispute, Mediator
from fengqiao.disputes.tests.kit import id_number
from fengqiao.disputes.tests.routing_helpers import fresh, mediator, rule, triaged
from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/disputes"


def post(client, path, body):
    return client.post(f"{URL}{path}", body, content_type="application/json")


def test_mediator_crud_masks_personal_data(j):
    chief = api_client(j.user("chief"))
    body = {
        "station_id": j.station.pk,
        "kind": "lawyer",
        "name": "李律师",
        "phone": "13812345678",
        "id_number": id_number(3),
        "specialties": ["01"],
    }
    resp = post(chief, "/mediators", body)
    assert resp.status_code == 201, resp.content
    out = resp.json()
    assert out["phone"] == "138****5678" and "13812345678" not in resp.content.decode()
    mid = out["id"]
    listed = chief.get(f"{URL}/mediators").json()
    assert [m["id"] for m in listed["items"]] == [mid]
    patch = chief.patch(
        f"{URL}/mediators/{mid}",
        {"version": 1, "name": "李大律师"},
        content_type="application/json",
    )
    assert patch.status_code == 200 and patch.json()["version"] == 2
    stale = chief.patch(
        f"{URL}/mediators/{mid}", {"version": 1, "name": "又改"}, content_type="application/json"
    )
    assert_api_error(stale, 409, "conflict")
    off = post(chief, f"/mediators/{mid}/deactivate", {"version": 2})
    assert off.status_code == 200 and off.json()["active"] is False


def test_mediator_api_errors(j, other):
    bad = post(
        api_client(j.user("chief")),
        "/mediators",
        {"station_id": j.station.pk, "kind": "lawyer", "name": "某", "phone": "12"},
    )
    body = assert_api_error(bad, 422, "validation_error")
    assert "phone" in body["fields"]
    denied = post(
        api_client(j.user("officer")),
        "/mediators",
        {"station_id": j.station.pk, "kind": "lawyer", "name": "某"},
    )
    assert_api_error(denied, 403, "forbidden")
    theirs = mediator(other, "他所")
    assert_api_error(
        api_client(j.user("chief")).get(f"{URL}/mediators/{theirs.pk}"), 404, "not_found"
    )
    assert_api_error(
        api_client(j.user("chief")).get(f"{URL}/mediators?station_id={other.station.pk}"),
        404,
        "not_found",
    )
    assert Mediator.objects.filter(station=j.station).count() == 0


def test_rota_and_rules_through_the_api(j, other):
    chief = api_client(j.user("chief"))
    lawyer = mediator(j, "律师", kind="lawyer")
    today = timezone.localdate().isoformat()
    added = post(chief, "/rota", {"mediator_id": lawyer.pk, "day": today})
    assert added.status_code == 201
    assert_api_error(
        post(chief, "/rota", {"mediator_id": lawyer.pk, "day": today}), 422, "validation_error"
    )
    month = chief.get(f"{URL}/rota?month={today[:7]}").json()
    assert [d["mediator_id"] for d in month] == [lawyer.pk]
    assert chief.delete(f"{URL}/rota/{added.json()['id']}").status_code == 204
    made = post(
        chief,
        "/routing-rules",
        {"station_id": j.station.pk, "channel": "lawyer", "type_code": "02", "pool": [lawyer.pk]},
    )
    assert made.status_code == 201, made.content
    rid = made.json()["id"]
    foreign = post(
        chief,
        "/routing-rules",
        {"station_id": j.station.pk, "channel": "lawyer", "pool": [mediator(other, "他所").pk]},
    )
    assert "pool" in assert_api_error(foreign, 422, "validation_error")["fields"]
    changed = chief.patch(
        f"{URL}/routing-rules/{rid}",
        {"version": 1, "grade": "civil"},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["grade"] == "civil"
    assert_api_error(api_client(j.user("officer")).get(f"{URL}/routing-rules"), 403, "forbidden")


def test_proposal_assign_and_the_errors_of_the_moves(j, other):
    a = mediator(j, "甲")
    rule(j, [a])
    d = triaged(j)
    officer = api_client(j.user("officer"))
    prop = officer.get(f"{URL}/{d.pk}/proposal").json()
    assert prop["mediator_id"] == a.pk and prop["why"]
    # 404 for a case of another station, 422 for a bad body, 409 for a stale version.
    assert_api_error(
        api_client(other.user("chief")).post(
            f"{URL}/{d.pk}/assign", {"version": d.version}, content_type="application/json"
        ),
        404,
        "not_found",
    )
    assert_api_error(post(officer, f"/{d.pk}/assign", {"version": "x"}), 422, "validation_error")
    assert_api_error(post(officer, f"/{d.pk}/assign", {"version": d.version + 5}), 409, "conflict")
    theirs = mediator(other, "他所")
    refused = post(
        api_client(j.user("chief")),
        f"/{d.pk}/assign",
        {"version": d.version, "mediator_id": theirs.pk},
    )
    assert "其他派出所" in assert_api_error(refused, 422, "validation_error")["message"]
    ok = post(officer, f"/{d.pk}/assign", {"version": d.version})
    assert ok.status_code == 200, ok.content
    assert ok.json()["mediator_id"] == a.pk and ok.json()["status"] == "assigned"
    again = post(officer, f"/{d.pk}/assign", {"version": ok.json()["version"]})
    assert "改派" in assert_api_error(again, 409, "already_assigned")["message"]
    reassign = post(
        officer,
        f"/{d.pk}/reassign",
        {"version": ok.json()["version"], "mediator_id": a.pk, "reason": "x"},
    )
    assert_api_error(reassign, 403, "forbidden")


def test_claim_release_through_the_api(j):
    u = j.user("mediator")
    m = mediator(j, "认领人", user=u)
    d = triaged(j)  # before the routing list had a line for it
    rule(j, [m])
    officer = api_client(j.user("officer"))
    me = api_client(u)
    assert_api_error(me.get(f"{URL}/{d.pk}/proposal"), 404, "not_found")  # not in my queue yet
    routed = post(officer, f"/{d.pk}/route", {"version": d.version})
    assert routed.status_code == 200
    claimed = post(me, f"/{d.pk}/claim", {"version": routed.json()["version"]})
    assert claimed.status_code == 200 and claimed.json()["mediator_id"] == m.pk
    assert_api_error(
        post(me, f"/{d.pk}/release", {"version": claimed.json()["version"], "reason": ""}),
        422,
        "validation_error",
    )
    released = post(
        me, f"/{d.pk}/release", {"version": claimed.json()["version"], "reason": "回避"}
    )
    assert released.status_code == 200 and released.json()["mediator_id"] is None


def test_extensions_and_notifications_through_the_api(j):
    chief_user = j.user("chief")
    a = mediator(j)
    rule(j, [a])
    d = triaged(j)
    officer = api_client(j.user("officer"))
    post(officer, f"/{d.pk}/assign", {"version": d.version})
    assert_api_error(
        post(officer, f"/{d.pk}/extensions", {"days": 31, "reason": "久"}), 422, "validation_error"
    )
    made = post(officer, f"/{d.pk}/extensions", {"days": 5, "reason": "当事人住院"})
    assert made.status_code == 201, made.content
    assert_api_error(
        post(officer, f"/{d.pk}/extensions", {"days": 5, "reason": "再次"}),
        409,
        "extension_pending",
    )
    chief = api_client(chief_user)
    queue = chief.get(f"{URL}/extensions").json()
    assert [e["id"] for e in queue["items"]] == [made.json()["id"]]
    notes = chief.get(f"{URL}/notifications").json()["items"]
    assert len(notes) == 1 and notes[0]["kind"] == "disputes.extension"
    eid = made.json()["id"]
    assert_api_error(
        post(officer, f"/extensions/{eid}/decide", {"decision": "approve"}), 403, "forbidden"
    )
    assert_api_error(
        post(chief, f"/extensions/{eid}/decide", {"decision": "maybe"}), 422, "validation_error"
    )
    ok = post(chief, f"/extensions/{eid}/decide", {"decision": "approve"})
    assert ok.status_code == 200 and ok.json()["state"] == "approved"
    assert_api_error(
        post(chief, f"/extensions/{eid}/decide", {"decision": "reject", "note": "x"}),
        409,
        "already_decided",
    )
    assert fresh(d).extended_days == 5
    assert_api_error(
        post(chief, "/extensions/987654/decide", {"decision": "approve"}), 404, "not_found"
    )
    assert Notification.objects.filter(user=chief_user).count() == 1
    assert AuditEntry.objects.filter(
        object_id=str(d.pk), action="disputes.extension.approved"
    ).exists()
    assert Dispute.objects.get(pk=d.pk).version > d.version


def test_anonymous_callers_are_refused(j):
    d = triaged(j)
    anonymous = api_client(None)
    for path in ("/mediators", "/routing-rules", "/extensions", "/notifications"):
        assert anonymous.get(f"{URL}{path}").status_code == 401
    assert post(anonymous, f"/{d.pk}/assign", {"version": 1}).status_code == 401
    assert fresh(d).mediator is None
