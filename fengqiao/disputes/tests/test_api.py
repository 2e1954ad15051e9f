"""The disputes API: intake, list, detail and the moves on a case; each with its matrix."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Dispute, Party
from fengqiao.disputes.tests.kit import ago, ensure_codes, id_number, intake, person
from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "volunteer", "other_officer", "officer", "chief")
PHONE = "13812345678"
MASKED_PHONE = "138****5678"
URL = "/api/v1/disputes"


@pytest.fixture
def case(j):
    """A received case in grid 0 whose applicant has a phone and an ID number."""
    return intake(
        j,
        j.user("officer"),
        parties=[
            person("张三", phone=PHONE, id_number=id_number(7)),
            person("李四", role="respondent"),
        ],
    )


def state() -> tuple[list[dict], list[dict], int]:
    """Return every case and party row and the audit length: a denial leaves them untouched."""
    return (
        list(Dispute.objects.order_by("pk").values()),
        list(Party.objects.order_by("pk").values("pk", "consent", "consent_note")),
        AuditEntry.objects.count(),
    )


def new_case(j, **extra) -> dict:
    grid = j.grids[0]
    body = {
        "station_id": j.station.pk,
        "narrative": "两家因楼上漏水发生争执",
        "occurred_at": ago(1).isoformat(),
        "source": "application",
        "type_code": "0201",
        "scale": "individual",
        "lat": grid.centroid_lat,
        "lng": grid.centroid_lng,
        "address": "枫桥路1号",
        "parties": [
            {"role": "applicant", "name": "张三", "phone": PHONE},
            {"role": "respondent", "name": "李四"},
        ],
    }
    body.update(extra)
    return body


# --- intake ---


@pytest.mark.parametrize("role", ROLES)
def test_intake_matrix(j, as_role, role):
    ensure_codes()
    before = state()
    resp = as_role(role).post(URL, new_case(j), content_type="application/json")
    if role in ("officer", "chief"):
        assert resp.status_code == 201, resp.content
        body = resp.json()
        assert body["case_number"].startswith("MD-")
        assert Dispute.objects.filter(pk=body["id"], station=j.station).exists()
        return
    expected = {
        "anonymous": (401, "unauthorized"),
        "volunteer": (403, "forbidden"),
        # Not their station: 404 as for any case of another station, which is not disclosed.
        "other_officer": (404, "not_found"),
    }[role]
    assert_api_error(resp, *expected)
    assert state() == before


def test_intake_answers_case_number_grade_colour_and_reasons(j):
    ensure_codes()
    body = new_case(j, narrative="对方扬言要砍死他", violence=True)
    resp = api_client(j.user("officer")).post(URL, body, content_type="application/json")
    assert resp.status_code == 201, resp.content
    out = resp.json()
    d = Dispute.objects.get(pk=out["id"])
    assert out["case_number"] == d.case_number
    assert (out["grade"], out["colour"]) == (d.grade, d.colour)
    assert out["colour_reasons"] == d.reason_texts() != []
    assert out["threat_words"] and out["threat_state"] == "pending"
    assert out["status"] == "received"
    assert out["parties"][0]["phone"] == MASKED_PHONE
    assert PHONE not in resp.content.decode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"parties": [{"role": "applicant", "name": ""}]}, "parties.0.name"),
        ({"parties": [{"role": "applicant"}]}, "parties.0.name"),
        ({"parties": [{"role": "applicant", "name": "张三", "phone": "123"}]}, "parties.0.phone"),
        (
            {"parties": [{"role": "applicant", "name": "张三", "id_number": "430102198001010010"}]},
            "parties.0.id_number",
        ),
        ({"parties": []}, "parties"),
        ({"amount": -5}, "amount"),
        ({"amount": "很多"}, "amount"),
        ({"type_code": "7777"}, "type_code"),
        ({"occurred_at": "昨天"}, "occurred_at"),
        ({"scale": "huge"}, "scale"),
        ({"station_id": "x"}, "station_id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_intake_bad_input_is_422_per_field_in_chinese(j, change, field):
    ensure_codes()
    before = state()
    body = new_case(j)
    body.update(change)
    resp = api_client(j.user("officer")).post(URL, body, content_type="application/json")
    err = assert_api_error(resp, 422, "validation_error")
    assert field in err["fields"], err
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in err["fields"][field])
    assert state() == before


# --- list ---


@pytest.mark.parametrize("role", ROLES)
def test_list_matrix(j, as_role, case, role):
    resp = as_role(role).get(URL)
    if role == "anonymous":
        assert_api_error(resp, 401, "unauthorized")
        return
    assert resp.status_code == 200, resp.content
    ids = [d["id"] for d in resp.json()["items"]]
    assert ids == ([case.pk] if role in ("officer", "chief") else [])


def test_list_never_shows_plain_personal_data(j, case):
    resp = api_client(j.user("chief")).get(URL)
    text = resp.content.decode()
    assert PHONE not in text and id_number(7) not in text
    party = resp.json()["items"][0]["parties"][0]
    assert party["phone"] == MASKED_PHONE
    assert party["id_number"] == "430***********" + id_number(7)[-4:]


def test_list_filters(j):
    officer = j.user("officer")
    leak = intake(j, officer, narrative="楼上漏水")
    threat = intake(j, officer, narrative="对方扬言要砍死他", violence=True, grid=3)
    wages = intake(j, officer, narrative="拖欠工资", type_code="0301", grid=2)
    client = api_client(officer)

    def ids(**params) -> list[int]:
        resp = client.get(URL, params)
        assert resp.status_code == 200, resp.content
        return [d["id"] for d in resp.json()["items"]]

    assert ids() == [wages.pk, threat.pk, leak.pk]
    assert ids(colour=threat.colour) == [
        d.pk for d in (wages, threat, leak) if d.colour == threat.colour
    ]
    assert ids(grade=leak.grade) == [d.pk for d in (wages, threat, leak) if d.grade == leak.grade]
    assert ids(status="received") == [wages.pk, threat.pk, leak.pk]
    assert ids(status="closed") == []
    assert ids(grid=j.grids[0].pk) == [leak.pk]
    assert ids(community=j.communities[1].pk) == [wages.pk, threat.pk]
    assert ids(type="0301") == [wages.pk]
    assert ids(type="03") == [wages.pk]  # a class takes its subtypes
    assert ids(q="工资") == [wages.pk]
    assert ids(q="漏水", grid=j.grids[0].pk) == [leak.pk]
    assert ids(q=leak.case_number) == [leak.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"status": "lost"}, "status"),
        ({"colour": "green"}, "colour"),
        ({"grid": -1}, "grid"),
        ({"cursor": "!!!"}, "cursor"),
        ({"type": "7777"}, "type"),
    ],
)
def test_list_bad_filters_are_422(j, case, params, field):
    resp = api_client(j.user("officer")).get(URL, params)
    err = assert_api_error(resp, 422, "validation_error")
    assert field in err["fields"]


def test_list_refuses_another_stations_grid(j, other, case):
    resp = api_client(j.user("officer")).get(URL, {"grid": other.grids[0].pk})
    assert "grid" in assert_api_error(resp, 422, "validation_error")["fields"]


def test_keyset_pagination_walks_every_row_once(j):
    officer = j.user("officer")
    made = [intake(j, officer, narrative=f"第{i}起纠纷").pk for i in range(7)]
    client = api_client(officer)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get(URL, params).json()
        seen += [d["id"] for d in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(made, reverse=True)


def test_list_query_count_is_constant(j):
    officer = j.user("officer")
    client = api_client(officer)
    intake(j, officer)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx)

    count()  # the first call also records the token's use
    few = count()
    for i in range(6):
        intake(j, officer, grid=i % 4, parties=[person(f"甲{i}"), person(f"乙{i}", role="other")])
    assert count() == few


# --- detail ---


@pytest.mark.parametrize("role", ROLES)
def test_detail_matrix(j, as_role, case, role):
    resp = as_role(role).get(f"{URL}/{case.pk}")
    expected = {"anonymous": (401, "unauthorized")}.get(role, (404, "not_found"))
    if role in ("officer", "chief"):
        assert resp.status_code == 200, resp.content
        assert resp.json()["case_number"] == case.case_number
    else:
        assert_api_error(resp, *expected)


def test_detail_masks_parties_and_shows_reasons_and_links(j):
    officer = j.user("officer")
    first = intake(j, officer, parties=[person("张三", phone=PHONE), person("李四", role="other")])
    again = intake(j, officer, occurred_at=ago(0), parties=[person("张三", phone=PHONE)])
    resp = api_client(j.user("chief")).get(f"{URL}/{again.pk}")
    assert resp.status_code == 200, resp.content
    assert PHONE not in resp.content.decode()
    out = resp.json()
    assert out["parties"][0]["phone"] == MASKED_PHONE
    assert out["colour_reasons"] == again.reason_texts()
    assert out["links"][0]["case_number"] == first.case_number
    assert out["links"][0]["matched_on"] == ["phone"]
    back = api_client(j.user("chief")).get(f"{URL}/{first.pk}").json()
    assert back["links"][0]["direction"] == "later"
    assert back["links"][0]["dispute_id"] == again.pk


def test_missing_case_is_404(j):
    assert_api_error(api_client(j.user("chief")).get(f"{URL}/987654"), 404, "not_found")


# --- moves ---


@pytest.mark.parametrize("role", ROLES)
def test_transition_matrix(j, as_role, case, role):
    before = state()
    resp = as_role(role).post(
        f"{URL}/{case.pk}/transition",
        {"to": "triaged", "version": case.version},
        content_type="application/json",
    )
    if role in ("officer", "chief"):
        assert resp.status_code == 200, resp.content
        assert resp.json()["status"] == "triaged"
        return
    expected = {"anonymous": (401, "unauthorized")}.get(role, (404, "not_found"))
    assert_api_error(resp, *expected)
    assert state() == before


def test_illegal_transition_is_409_with_the_reason(j, case):
    before = state()
    resp = api_client(j.user("officer")).post(
        f"{URL}/{case.pk}/transition",
        {"to": "agreed", "version": case.version},
        content_type="application/json",
    )
    body = assert_api_error(resp, 409, "illegal_transition")
    assert "尚未进行调解" in body["message"]
    assert state() == before


def test_stale_version_is_409_conflict_and_nothing_lost(j, case):
    client = api_client(j.user("officer"))
    url = f"{URL}/{case.pk}/transition"
    first = client.post(url, {"to": "triaged", "version": case.version}, "application/json")
    assert first.status_code == 200
    before = state()
    second = client.post(
        url,
        {"to": "withdrawn", "reason": "撤回", "version": case.version},
        content_type="application/json",
    )
    assert "已被他人修改" in assert_api_error(second, 409, "conflict")["message"]
    assert state() == before
    assert Dispute.objects.get(pk=case.pk).status == "triaged"


def test_transition_reason_required_is_422(j, case):
    resp = api_client(j.user("officer")).post(
        f"{URL}/{case.pk}/transition",
        {"to": "withdrawn", "version": case.version},
        content_type="application/json",
    )
    assert "reason" in assert_api_error(resp, 422, "validation_error")["fields"]


@pytest.mark.parametrize("role", ROLES)
def test_override_matrix(j, as_role, case, role):
    before = state()
    body = {"grade": "major", "colour": "red", "reason": "所长研判", "version": case.version}
    resp = as_role(role).post(f"{URL}/{case.pk}/override", body, content_type="application/json")
    if role == "chief":
        assert resp.status_code == 200, resp.content
        out = resp.json()
        assert (out["grade"], out["colour"], out["overridden"]) == ("major", "red", True)
        return
    expected = {
        "anonymous": (401, "unauthorized"),
        "officer": (403, "forbidden"),
    }.get(role, (404, "not_found"))
    body = assert_api_error(resp, *expected)
    if role == "officer":
        assert "所长" in body["message"]
    assert state() == before


def test_threat_review_confirm_then_nothing_pending(j):
    officer = j.user("officer")
    d = intake(j, officer, narrative="对方扬言要砍死他")
    client = api_client(officer)
    url = f"{URL}/{d.pk}/threat-review"
    resp = client.post(url, {"decision": "confirm", "version": d.version}, "application/json")
    assert resp.status_code == 200, resp.content
    out = resp.json()
    assert out["threat_state"] == "confirmed"
    again = client.post(url, {"decision": "confirm", "version": out["version"]}, "application/json")
    assert_api_error(again, 409, "no_pending_threat")
    dismiss = client.post(
        url, {"decision": "dismiss", "version": out["version"]}, "application/json"
    )
    assert_api_error(dismiss, 403, "forbidden")  # dismissing lowers the risk: chiefs only


@pytest.mark.parametrize("role", ROLES)
def test_consent_matrix(j, as_role, case, role):
    party = case.parties.order_by("pk").first()
    before = state()
    resp = as_role(role).post(
        f"{URL}/{case.pk}/parties/{party.pk}/consent",
        {"consent": "agreed", "note": "愿意调解"},
        content_type="application/json",
    )
    if role in ("officer", "chief"):
        assert resp.status_code == 200, resp.content
        out = resp.json()
        assert (out["consent"], out["phone"]) == ("agreed", MASKED_PHONE)
        return
    expected = {"anonymous": (401, "unauthorized")}.get(role, (404, "not_found"))
    assert_api_error(resp, *expected)
    assert state() == before


def test_consent_for_a_party_of_another_case_is_404(j, case):
    other_case = intake(j, j.user("officer"))
    stranger = other_case.parties.first()
    resp = api_client(j.user("officer")).post(
        f"{URL}/{case.pk}/parties/{stranger.pk}/consent",
        {"consent": "agreed"},
        content_type="application/json",
    )
    assert_api_error(resp, 404, "not_found")


def test_openapi_lists_the_dispute_endpoints(j):
    spec = api_client(j.user("officer")).get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/disputes"])
    assert "get" in paths["/api/v1/disputes/{dispute_id}"]
    for tail in ("transition", "override", "threat-review"):
        assert "post" in paths[f"/api/v1/disputes/{{dispute_id}}/{tail}"]
    assert "post" in paths["/api/v1/disputes/{dispute_id}/parties/{party_id}/consent"]
