"""The mediation API: the same services, 409 with the reason, 422 per field, conflicts."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Agreement, Dispute, FollowUp, MediationSession
from fengqiao.disputes.tests.kit import intake, mediator_for
from fengqiao.disputes.tests.mediation_kit import (
    MASKED_PHONE,
    PHONE,
    agreed,
    assigned,
    case,
    mediating,
)
from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/disputes"


def post(client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def put(client, url: str, body: dict):
    return client.put(url, body, content_type="application/json")


def soon(days: int = 1) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def agreement_body(d: Dispute, **item) -> dict:
    zhang, li = d.parties.order_by("id")
    row = {
        "obligor_id": li.pk,
        "obligee_id": zhang.pk,
        "description": "支付维修费",
        "amount": "800.00",
        "due_date": (timezone.localdate() + timedelta(days=5)).isoformat(),
    }
    row.update(item)
    return {"form": "written", "facts": "漏水", "terms": "赔偿维修费", "items": [row]}


def test_the_whole_path_through_the_api(j):
    officer = j.user("officer")
    client = api_client(officer)
    d = assigned(j, officer)
    m = mediator_for(j, name="王调解")
    # schedule
    resp = post(
        client,
        f"{URL}/{d.pk}/sessions",
        {
            "scheduled_at": soon(),
            "place": "调解室",
            "mediator_ids": [m.pk],
            "others": [{"name": "王五", "capacity": "村干部"}],
        },
    )
    assert resp.status_code == 201, resp.content
    s = resp.json()
    assert s["state"] == "scheduled" and s["mediator_names"] == ["王调解"]
    assert [a["name"] for a in s["attendance"]] == ["张三", "李四", "王五"]
    # list
    resp = client.get(f"{URL}/{d.pk}/sessions")
    assert [x["id"] for x in resp.json()["items"]] == [s["id"]]
    # record: the case starts mediating
    resp = post(
        client,
        f"{URL}/{d.pk}/sessions/{s['id']}/record",
        {
            "minutes": "双方陈述意见。",
            "attendance": [
                {"id": a["id"], "attended": a["name"] != "王五"} for a in s["attendance"]
            ],
            "version": s["version"],
        },
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["state"] == "held"
    assert [a["attended"] for a in resp.json()["attendance"]] == [True, True, False]
    d.refresh_from_db()
    assert d.status == "mediating"
    # the agreement
    resp = post(client, f"{URL}/{d.pk}/agreements", agreement_body(d))
    assert resp.status_code == 201, resp.content
    a = resp.json()
    assert a["number"].startswith("XY-") and a["items"][0]["amount"] == "800.00"
    assert [s["state"] for s in a["signatures"]] == ["pending", "pending"]
    version = a["version"]
    for sig in a["signatures"]:
        resp = post(
            client,
            f"{URL}/{d.pk}/agreements/{a['id']}/sign",
            {"party_id": sig["party_id"], "state": "signed", "version": version},
        )
        assert resp.status_code == 200, resp.content
        version = resp.json()["version"]
    assert resp.json()["concluded_at"] is not None
    assert FollowUp.objects.filter(agreement_id=a["id"]).count() == 3
    resp = client.get(f"{URL}/{d.pk}/agreements/{a['id']}")
    assert resp.json()["concluded_at"] is not None
    d.refresh_from_db()
    assert d.status == "agreed"
    # close
    resp = post(client, f"{URL}/{d.pk}/close", {"version": d.version})
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "closed"
    d.refresh_from_db()
    assert d.outcome == "success"


def test_an_agreement_on_a_case_never_mediated_is_409_with_the_reason(j):
    officer = j.user("officer")
    d = assigned(j, officer)
    resp = post(api_client(officer), f"{URL}/{d.pk}/agreements", agreement_body(d))
    err = assert_api_error(resp, 409, "illegal_transition")
    assert err["message"] == "本案尚未进行调解，不能签订调解协议。"
    assert not Agreement.objects.exists()


def test_signing_on_a_case_never_mediated_is_409(j):
    officer = j.user("officer")
    d = assigned(j, officer)
    agreement = Agreement.objects.create(
        dispute=d, station=j.station, number="XY-T-1", form="written", facts="f", terms="t"
    )
    resp = post(
        api_client(officer),
        f"{URL}/{d.pk}/agreements/{agreement.pk}/sign",
        {"party_id": d.parties.first().pk, "state": "signed", "version": 1},
    )
    err = assert_api_error(resp, 409, "illegal_transition")
    assert err["message"] == "本案尚未进行调解，不能签订调解协议。"


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"amount": "-1"}, "items.0.amount"),
        ({"amount": "很多"}, "items.0.amount"),
        ({"amount": "Infinity"}, "items.0.amount"),
        ({"due_date": "2001-01-01"}, "items.0.due_date"),
        ({"due_date": "明天"}, "items.0.due_date"),
        ({"description": ""}, "items.0.description"),
        ({"obligor_id": 999999}, "items.0.obligor_id"),
    ],
)
def test_bad_amounts_dates_and_names_are_422(j, item, field):
    officer = j.user("officer")
    d = mediating(j, officer)
    resp = post(api_client(officer), f"{URL}/{d.pk}/agreements", agreement_body(d, **item))
    err = assert_api_error(resp, 422, "validation_error")
    assert field in err["fields"], err
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in err["fields"][field])
    assert not Agreement.objects.exists()


def test_a_party_of_another_case_is_422(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    stranger = intake(j, officer, narrative="另案").parties.first()
    resp = post(
        api_client(officer), f"{URL}/{d.pk}/agreements", agreement_body(d, obligee_id=stranger.pk)
    )
    err = assert_api_error(resp, 422, "validation_error")
    assert err["fields"]["items.0.obligee_id"] == ["权利方必须是本案的当事人。"]


def test_a_stale_version_is_409_conflict(j):
    officer = j.user("officer")
    client = api_client(officer)
    d = mediating(j, officer)
    a = post(client, f"{URL}/{d.pk}/agreements", agreement_body(d)).json()
    body = {**agreement_body(d), "terms": "第一人修改", "version": 1}
    assert put(client, f"{URL}/{d.pk}/agreements/{a['id']}", body).status_code == 200
    resp = put(client, f"{URL}/{d.pk}/agreements/{a['id']}", {**body, "terms": "第二人修改"})
    err = assert_api_error(resp, 409, "conflict")
    assert "已被他人修改" in err["message"]
    assert Agreement.objects.get().terms == "第一人修改"
    # a move on the case with a stale version, too
    resp = post(client, f"{URL}/{d.pk}/fail", {"reason": "分歧", "version": d.version - 1})
    assert_api_error(resp, 409, "conflict")


def test_declining_is_recorded_through_the_api(j):
    officer = j.user("officer")
    client = api_client(officer)
    d = mediating(j, officer)
    a = post(client, f"{URL}/{d.pk}/agreements", agreement_body(d)).json()
    party = a["signatures"][1]["party_id"]
    resp = post(
        client,
        f"{URL}/{d.pk}/agreements/{a['id']}/sign",
        {"party_id": party, "state": "declined", "note": "不同意金额", "version": 1},
    )
    assert resp.status_code == 200
    out = resp.json()
    assert out["concluded_at"] is None
    assert (
        out["signatures"][1]["state"] == "declined" and out["signatures"][1]["note"] == "不同意金额"
    )
    resp = post(
        client,
        f"{URL}/{d.pk}/agreements/{a['id']}/sign",
        {"party_id": party, "state": "maybe", "version": 2},
    )
    assert_api_error(resp, 422, "validation_error")


def test_fail_refer_outcome_and_package_through_the_api(j):
    officer = j.user("officer")
    client = api_client(officer)
    d = mediating(j, officer)
    # refer before failing: 409 with the reason
    resp = post(
        client,
        f"{URL}/{d.pk}/referrals",
        {"target": "labour", "receiver": "劳动监察大队", "reason": "欠薪", "version": d.version},
    )
    assert assert_api_error(resp, 409, "illegal_transition")["message"] == (
        "只有调解不成的案件才能移送。"
    )
    resp = post(client, f"{URL}/{d.pk}/fail", {"reason": "分歧过大", "version": d.version})
    assert resp.status_code == 200 and resp.json()["status"] == "failed"
    version = resp.json()["version"]
    resp = post(
        client,
        f"{URL}/{d.pk}/referrals",
        {"target": "labour", "receiver": "劳动监察大队", "reason": "欠薪", "version": version},
    )
    assert resp.status_code == 201, resp.content
    r = resp.json()
    assert r["outcome"] == "pending"
    d.refresh_from_db()
    assert d.status == "referred"
    resp = client.get(f"{URL}/{d.pk}/referrals/{r['id']}/package")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(resp.content))
    assert {"summary.html", "parties.csv", "timeline.csv"} <= set(zf.namelist())
    parties = zf.read("parties.csv").decode("utf-8-sig")
    assert MASKED_PHONE in parties and PHONE not in parties
    assert AuditEntry.objects.filter(action="disputes.referral.package_downloaded").count() == 1
    resp = post(
        client, f"{URL}/{d.pk}/referrals/{r['id']}/outcome", {"outcome": "resolved", "note": "已结"}
    )
    assert resp.status_code == 200 and resp.json()["outcome"] == "resolved"
    assert client.get(f"{URL}/{d.pk}/referrals").json()[0]["outcome"] == "resolved"


@pytest.mark.parametrize("status", ["received", "assigned", "agreed"])
def test_withdraw_through_the_api(j, status):
    officer = j.user("officer")
    d = {"received": case, "assigned": assigned, "agreed": agreed}[status](j, officer)
    party = d.parties.first()
    resp = post(
        api_client(officer),
        f"{URL}/{d.pk}/withdraw",
        {"reason": "不再调解", "party_id": party.pk, "version": d.version},
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "withdrawn"
    assert resp.json()["parties"][0]["consent"] == "declined"


def test_terminate_needs_a_reason(j):
    officer = j.user("officer")
    d = mediating(j, officer)
    client = api_client(officer)
    resp = post(client, f"{URL}/{d.pk}/terminate", {"version": d.version})
    assert assert_api_error(resp, 422, "validation_error")["fields"] == {"reason": ["请说明理由。"]}
    resp = post(client, f"{URL}/{d.pk}/terminate", {"reason": "失联", "version": d.version})
    assert resp.status_code == 200 and resp.json()["status"] == "terminated"


def test_session_errors_through_the_api(j):
    officer = j.user("officer")
    client = api_client(officer)
    d = case(j, officer)
    resp = post(client, f"{URL}/{d.pk}/sessions", {"scheduled_at": soon(), "place": "调解室"})
    err = assert_api_error(resp, 409, "session_not_allowed")
    assert "才能安排或记录调解会" in err["message"]
    d = assigned(j, officer)
    resp = post(client, f"{URL}/{d.pk}/sessions", {"scheduled_at": soon(900), "place": "调解室"})
    assert resp.status_code == 201  # far ahead is fine
    s = resp.json()
    resp = post(client, f"{URL}/{d.pk}/sessions/{s['id']}/record", {"minutes": "", "version": 1})
    assert assert_api_error(resp, 422, "validation_error")["fields"] == {
        "minutes": ["请填写调解记录。"]
    }
    resp = put(
        client,
        f"{URL}/{d.pk}/sessions/{s['id']}",
        {"scheduled_at": soon(2), "place": "村委会", "version": 1},
    )
    assert resp.status_code == 200 and resp.json()["place"] == "村委会"
    resp = post(client, f"{URL}/{d.pk}/sessions/{s['id']}/cancel", {"version": 1})
    assert_api_error(resp, 409, "conflict")
    resp = post(client, f"{URL}/{d.pk}/sessions/{s['id']}/cancel", {"version": 2})
    assert resp.status_code == 200 and resp.json()["state"] == "cancelled"


@pytest.mark.parametrize("role", ["anonymous", "volunteer", "other_officer", "officer", "chief"])
def test_schedule_matrix(j, as_role, role):
    officer = j.user("officer")
    d = assigned(j, officer)
    before = AuditEntry.objects.count()
    resp = post(as_role(role), f"{URL}/{d.pk}/sessions", {"scheduled_at": soon(), "place": "室"})
    if role in ("officer", "chief"):
        assert resp.status_code == 201, resp.content
        return
    expected = {
        "anonymous": (401, "unauthorized"),
        "volunteer": (404, "not_found"),
        "other_officer": (404, "not_found"),
    }[role]
    assert_api_error(resp, *expected)
    assert AuditEntry.objects.count() == before
    assert not MediationSession.objects.exists()


def test_the_package_is_refused_to_who_may_not_see_the_case(j, other):
    officer = j.user("officer")
    d = mediating(j, officer)
    client = api_client(officer)
    version = post(client, f"{URL}/{d.pk}/fail", {"reason": "x", "version": d.version}).json()[
        "version"
    ]
    r = post(
        client,
        f"{URL}/{d.pk}/referrals",
        {"target": "petition", "receiver": "信访局", "reason": "上访", "version": version},
    ).json()
    resp = api_client(other.user("officer")).get(f"{URL}/{d.pk}/referrals/{r['id']}/package")
    assert_api_error(resp, 404, "not_found")
    resp = api_client(j.user("analyst")).get(f"{URL}/{d.pk}/referrals/{r['id']}/package")
    assert_api_error(resp, 403, "forbidden")
    assert not AuditEntry.objects.filter(action="disputes.referral.package_downloaded").exists()


def test_the_session_list_pages_by_keys_in_constant_queries(j):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fengqiao.disputes.tests.mediation_kit import schedule

    officer = j.user("officer")
    client = api_client(officer)
    d = assigned(j, officer)
    schedule(officer, d, place="一")
    client.get(f"{URL}/{d.pk}/sessions")  # warm: the first request of a client does more
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(f"{URL}/{d.pk}/sessions").json()["items"]) == 1
    for n in range(4):
        schedule(officer, d, place=f"室{n}")
    with CaptureQueriesContext(connection) as five:
        first = client.get(f"{URL}/{d.pk}/sessions", {"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    assert len(five.captured_queries) == len(one.captured_queries)
    rest = client.get(f"{URL}/{d.pk}/sessions", {"limit": 3, "cursor": first["next_cursor"]})
    assert [s["place"] for s in rest.json()["items"]] == ["室2", "室3"]
    resp = client.get(f"{URL}/{d.pk}/sessions", {"cursor": "!!!"})
    assert "cursor" in assert_api_error(resp, 422, "validation_error")["fields"]
