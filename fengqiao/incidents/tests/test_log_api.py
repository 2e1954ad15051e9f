"""The incident log's API: permission matrices, intake, the moves, errors, list filters."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Dispute
from fengqiao.factories import api_client, assert_api_error
from fengqiao.incidents.models import Incident, StationIncidentConfig
from fengqiao.incidents.tests.test_log_services import ago, log

pytestmark = pytest.mark.django_db
BASE = "/api/v1/incidents"
ROLES = ["anonymous", "volunteer", "other_officer", "officer", "chief"]


def post(client, url, body, **headers):
    return client.post(
        url, json.dumps(body, default=str), content_type="application/json", **headers
    )


def body_for(j, **extra):
    grid = j.grids[0]
    values = {
        "station_id": j.station.pk,
        "source": "phone",
        "category_code": "200100",
        "reported_at": ago(1).isoformat(),
        "occurred_at": ago(1.5).isoformat(),
        "narrative": "小区门口两人打架",
        "lat": grid.centroid_lat,
        "lng": grid.centroid_lng,
        "address": "枫桥路1号",
        "caller_name": "王小五",
        "caller_phone": "13800138000",
    }
    values.update(extra)
    return values


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("volunteer", 403),
        ("other_officer", 404),
        ("officer", 201),
        ("chief", 201),
    ],
)
def test_intake_matrix(j, as_role, role, status):
    resp = post(as_role(role), BASE, body_for(j))
    assert resp.status_code == status, resp.content
    assert Incident.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        data = resp.json()
        assert data["caller_phone"] == "138****8000" and data["caller_name"] == "王**"
        assert "13800138000" not in resp.content.decode()
        assert data["status"] == "received" and data["next_statuses"] == ["closed", "dispatched"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 200),
        ("chief", 200),
    ],
)
def test_detail_and_list_matrix(j, as_role, role, status):
    i = log(j, None)
    client = as_role(role)
    assert client.get(f"{BASE}/{i.pk}").status_code == status
    resp = client.get(BASE)
    if role == "anonymous":
        assert resp.status_code == 401
    else:
        ids = [row["id"] for row in resp.json()["items"]]
        assert ids == ([i.pk] if status == 200 else [])


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 200),
        ("chief", 200),
    ],
)
def test_dispatch_arrive_close_matrix(j, as_role, role, status):
    i = log(j, None)
    client = as_role(role)
    resp = post(client, f"{BASE}/{i.pk}/dispatch", {"team": "巡逻一组"})
    assert resp.status_code == status
    fresh = Incident.objects.get(pk=i.pk)
    if status != 200:
        assert (fresh.status, fresh.version) == ("received", 1)
        assert not AuditEntry.objects.filter(action="incidents.incident.dispatched").exists()
        return
    assert fresh.status == "dispatched"
    assert post(client, f"{BASE}/{i.pk}/arrive", {}).status_code == 200
    resp = post(client, f"{BASE}/{i.pk}/close", {"disposition": "referred", "linkage": "120"})
    assert resp.status_code == 200 and resp.json()["linkage"] == "120"
    assert resp.json()["response"]["response_minutes"] is not None


def test_an_analyst_sees_but_may_not_move(j):
    i = log(j, None)
    client = api_client(j.user("analyst"))
    assert client.get(f"{BASE}/{i.pk}").status_code == 200
    assert_api_error(post(client, f"{BASE}/{i.pk}/dispatch", {"team": "一组"}), 403, "forbidden")
    assert Incident.objects.get(pk=i.pk).status == "received"


def test_intake_errors_are_422_with_fields(j):
    client = api_client(j.user("officer"))
    body = assert_api_error(
        post(client, BASE, body_for(j, category_code="999999")), 422, "validation_error"
    )
    assert body["fields"]["category_code"] == ["未知的警情类别编码：999999"]
    later = (timezone.now() - timedelta(minutes=5)).isoformat()
    body = assert_api_error(
        post(client, BASE, body_for(j, occurred_at=later)), 422, "validation_error"
    )
    assert "occurred_at" in body["fields"]
    body = assert_api_error(
        post(client, BASE, body_for(j, lat=30.5, lng=114.3)), 422, "validation_error"
    )
    assert "location" in body["fields"]
    assert_api_error(post(client, BASE, body_for(j, source="fax")), 422, "validation_error")
    assert not Incident.objects.exists()


def test_intake_is_idempotent_with_the_header(j):
    client = api_client(j.user("officer"))
    first = post(client, BASE, body_for(j), HTTP_IDEMPOTENCY_KEY="abc-1")
    again = post(client, BASE, body_for(j), HTTP_IDEMPOTENCY_KEY="abc-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Incident.objects.count() == 1


def test_a_move_out_of_order_is_409_with_the_reason(j):
    officer = j.user("officer")
    client = api_client(officer)
    i = log(j, officer)
    assert post(client, f"{BASE}/{i.pk}/close", {"disposition": "on_spot"}).status_code == 200
    body = assert_api_error(
        post(client, f"{BASE}/{i.pk}/dispatch", {"team": "一组"}), 409, "illegal_transition"
    )
    assert body["message"] == "警情已处结，不能再派警。"
    body = assert_api_error(
        post(client, f"{BASE}/{i.pk}/close", {"disposition": "dispute"}), 409, "illegal_transition"
    )


def test_close_with_dispute_is_refused_and_convert_links_one_dispute(j):
    officer = j.user("officer")
    client = api_client(officer)
    i = log(j, officer)
    assert_api_error(
        post(client, f"{BASE}/{i.pk}/close", {"disposition": "dispute"}), 422, "validation_error"
    )
    payload = {
        "type_code": "0201",
        "scale": "individual",
        "parties": [{"role": "applicant", "name": "张三"}, {"role": "respondent", "name": "李四"}],
    }
    resp = post(client, f"{BASE}/{i.pk}/convert", payload)
    assert resp.status_code == 200, resp.content
    data = resp.json()
    d = Dispute.objects.get()
    assert data["dispute_id"] == d.pk and data["dispute_case_number"] == d.case_number
    assert data["disposition"] == "dispute" and data["status"] == "closed"
    assert post(client, f"{BASE}/{i.pk}/convert", payload).status_code == 200
    assert Dispute.objects.count() == 1


def test_patch_with_a_stale_version_is_409(j):
    officer = j.user("officer")
    client = api_client(officer)
    i = log(j, officer)
    resp = client.patch(
        f"{BASE}/{i.pk}",
        json.dumps({"version": 1, "narrative": "更正"}),
        content_type="application/json",
    )
    assert resp.status_code == 200 and resp.json()["version"] == 2
    resp = client.patch(
        f"{BASE}/{i.pk}",
        json.dumps({"version": 1, "narrative": "再改"}),
        content_type="application/json",
    )
    assert_api_error(resp, 409, "conflict")
    assert Incident.objects.get(pk=i.pk).narrative == "更正"


def test_list_filters_and_pages_with_few_queries(j, other):
    officer = j.user("officer")
    base = timezone.now() - timedelta(days=5)
    for n in range(12):
        log(
            j,
            None,
            reported_at=base + timedelta(hours=n),
            occurred_at=base,
            category_code="100101" if n % 2 else "200100",
            narrative=f"第{n}起 电瓶车被盗" if n % 2 else "打架",
        )
    log(other, None, category_code="100101")
    client = api_client(officer)
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(BASE, {"limit": 5})
    page = resp.json()
    assert len(page["items"]) == 5 and page["next_cursor"]
    assert len(ctx.captured_queries) <= 8, [q["sql"] for q in ctx.captured_queries]
    second = client.get(BASE, {"limit": 5, "cursor": page["next_cursor"]}).json()
    assert {r["id"] for r in second["items"]}.isdisjoint({r["id"] for r in page["items"]})
    assert len(client.get(BASE, {"category": "100000"}).json()["items"]) == 6
    assert len(client.get(BASE, {"category": "100100"}).json()["items"]) == 6
    assert len(client.get(BASE, {"category": "100101"}).json()["items"]) == 6
    assert len(client.get(BASE, {"q": "电瓶車"}).json()["items"]) == 6
    assert len(client.get(BASE, {"status": "closed"}).json()["items"]) == 0
    assert (
        len(client.get(BASE, {"grid": j.grids[0].pk, "source": "dispatch_110"}).json()["items"])
        == 12
    )
    assert_api_error(client.get(BASE, {"cursor": "zzz"}), 422, "validation_error")
    assert_api_error(
        client.get(BASE, {"reported_from": "2026-03-02", "reported_to": "2026-03-01"}),
        422,
        "validation_error",
    )


def test_categories_tree(j):
    resp = api_client(j.user("officer")).get(f"{BASE}/categories")
    tree = resp.json()
    criminal = next(n for n in tree if n["code"] == "100000")
    theft = next(n for n in criminal["children"] if n["code"] == "100100")
    assert any(n["code"] == "100101" for n in theft["children"])
    assert api_client(None).get(f"{BASE}/categories").status_code == 401


@pytest.mark.parametrize(
    ("role", "get", "put"),
    [
        ("anonymous", 401, 401),
        ("volunteer", 404, 403),
        ("other_officer", 404, 404),
        ("officer", 200, 403),
        ("chief", 200, 200),
    ],
)
def test_settings_matrix(j, as_role, role, get, put):
    client = as_role(role)
    url = f"{BASE}/settings/{j.station.pk}"
    assert client.get(url).status_code == get
    resp = client.put(
        url, json.dumps({"repeat_min": 4, "briefing_hour": 6}), content_type="application/json"
    )
    assert resp.status_code == put, resp.content
    cfg = StationIncidentConfig.objects.filter(station=j.station).first()
    if put == 200:
        assert (cfg.repeat_min, cfg.briefing_hour) == (4, 6)
        assert client.get(url).json()["repeat_min"] == 4
    else:
        assert cfg is None


def test_settings_refuse_out_of_range(j):
    client = api_client(j.user("chief"))
    resp = client.put(
        f"{BASE}/settings/{j.station.pk}",
        json.dumps({"hotspot_resolution": 13}),
        content_type="application/json",
    )
    body = assert_api_error(resp, 422, "validation_error")
    assert "hotspot_resolution" in body["fields"]


def test_staff_and_timeline(j):
    officer = j.user("officer")
    client = api_client(officer)
    staff = client.get(f"{BASE}/staff/{j.station.pk}").json()
    assert officer.pk in [s["id"] for s in staff]
    i = log(j, officer, caller_phone="13800138000")
    post(client, f"{BASE}/{i.pk}/dispatch", {"officer_id": officer.pk})
    steps = client.get(f"{BASE}/{i.pk}/timeline").json()
    assert [s["label"] for s in steps][:2] == ["派警", "接警登记"]
    assert "13800138000" not in json.dumps(steps)
