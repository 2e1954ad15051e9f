"""Intake through the API with an idempotency key, PATCH, and intake from other modules."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from fengqiao.core.errors import ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.disputes.editing import dispute_open_from
from fengqiao.disputes.models import Dispute, Party
from fengqiao.disputes.services import dispute_intake
from fengqiao.disputes.tests.kit import ago, ensure_codes, intake, person
from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/disputes"
PHONE = "13812345678"


def new_case(j: Any, **extra: Any) -> dict[str, Any]:
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
        "parties": [person("张三", phone=PHONE), person("李四", role="respondent")],
    }
    body.update(extra)
    return body


def test_a_repeat_with_the_same_idempotency_key_header_returns_the_first_case(j):
    ensure_codes()
    c = api_client(j.user("officer"))
    first = c.post(URL, new_case(j), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = c.post(URL, new_case(j), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Dispute.objects.count() == 1 and Party.objects.count() == 2
    other = c.post(URL, new_case(j), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 201 and Dispute.objects.count() == 2
    # no key: every request is a new case
    assert c.post(URL, new_case(j), content_type="application/json").status_code == 201
    assert Dispute.objects.count() == 3


def test_the_key_may_come_in_the_body(j):
    ensure_codes()
    c = api_client(j.user("officer"))
    body = new_case(j, idempotency_key="body-key")
    assert c.post(URL, body, content_type="application/json").status_code == 201
    assert c.post(URL, body, content_type="application/json").status_code == 200
    assert Dispute.objects.get().intake_key == "body-key"


def test_a_too_long_key_is_refused(j):
    ensure_codes()
    resp = api_client(j.user("officer")).post(
        URL, new_case(j), content_type="application/json", HTTP_IDEMPOTENCY_KEY="x" * 65
    )
    assert_api_error(resp, 422, "validation_error")
    assert Dispute.objects.count() == 0


def test_the_service_returns_the_existing_case_for_a_known_key(j):
    officer = j.user("officer")
    first = intake(j, officer, intake_key="abc")
    again = intake(j, officer, intake_key="abc", narrative="完全不同的叙述")
    assert again.pk == first.pk and getattr(again, "replayed", False)
    assert Dispute.objects.count() == 1


def test_intake_on_an_unknown_station_is_not_found(j):
    ensure_codes()
    resp = api_client(j.user("officer")).post(
        URL, new_case(j, station_id=987654), content_type="application/json"
    )
    assert_api_error(resp, 404, "not_found")


# --- PATCH ---


def test_patch_corrects_the_case_and_answers_the_new_version(j):
    officer = j.user("officer")
    d = intake(j, officer)
    party = d.parties.order_by("id").first()
    resp = api_client(officer).patch(
        f"{URL}/{d.pk}",
        {
            "version": 1,
            "amount": "250000",
            "parties": [{"id": party.pk, "phone": PHONE}, {"role": "other", "name": "王五"}],
        },
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    out = resp.json()
    assert out["version"] == 2 and out["amount"] == "250000.00"
    assert out["grade"] == "major"  # 200,000 yuan or more is a major dispute
    assert [p["name"] for p in out["parties"]] == ["张三", "李四", "王五"]
    assert out["parties"][0]["phone"] == "138****5678" and PHONE not in resp.content.decode()
    party.refresh_from_db()
    assert party.phone == PHONE


def test_patch_with_a_stale_version_is_409_and_changes_nothing(j):
    officer = j.user("officer")
    d = intake(j, officer)
    c = api_client(officer)
    assert (
        c.patch(
            f"{URL}/{d.pk}", {"version": 1, "narrative": "一"}, content_type="application/json"
        ).status_code
        == 200
    )
    resp = c.patch(
        f"{URL}/{d.pk}", {"version": 1, "narrative": "二"}, content_type="application/json"
    )
    assert_api_error(resp, 409, "conflict")
    d.refresh_from_db()
    assert d.narrative == "一"


def test_patch_bad_input_and_access(j, other):
    officer = j.user("officer")
    d = intake(j, officer)
    c = api_client(officer)
    resp = c.patch(
        f"{URL}/{d.pk}",
        {"version": 1, "amount": "-1", "parties": [{"name": ""}]},
        content_type="application/json",
    )
    assert_api_error(resp, 422, "validation_error")
    assert {"amount", "parties.0.name"} <= set(resp.json()["fields"])
    resp = api_client(other.user("officer")).patch(
        f"{URL}/{d.pk}", {"version": 1, "narrative": "改"}, content_type="application/json"
    )
    assert_api_error(resp, 404, "not_found")
    resp = api_client(j.user("analyst")).patch(
        f"{URL}/{d.pk}", {"version": 1, "narrative": "改"}, content_type="application/json"
    )
    assert_api_error(resp, 403, "forbidden")
    resp = c.patch(
        f"{URL}/{d.pk}", {"version": 1, "status": "closed"}, content_type="application/json"
    )
    assert_api_error(resp, 422, "validation_error")


# --- other modules ---


def origin_case(j: Any, actor: Any, origin_id: int = 41, **extra: Any) -> Dispute:
    ensure_codes()
    grid = j.grids[0]
    values: dict[str, Any] = {
        "station_id": j.station.pk,
        "narrative": "警情转入：邻里争吵",
        "occurred_at": ago(1),
        "source": "police_call",
        "type_code": "0201",
        "scale": "individual",
        "lat": grid.centroid_lat,
        "lng": grid.centroid_lng,
        "parties": [person("张三")],
    }
    values.update(extra)
    return dispute_open_from(
        actor=actor, origin_label="incidents.incident", origin_id=origin_id, **values
    )


def test_dispute_open_from_keeps_the_origin_and_opens_once(j):
    officer = j.user("officer")
    d = origin_case(j, officer)
    assert (d.origin_label, d.origin_id) == ("incidents.incident", 41)
    again = origin_case(j, officer, narrative="再次转入")
    assert again.pk == d.pk and getattr(again, "replayed", False)
    assert Dispute.objects.count() == 1
    assert AuditEntry.objects.filter(action="disputes.dispute.created").count() == 1
    assert origin_case(j, officer, origin_id=42).pk != d.pk
    # the case page names where the case came from
    from django.test import Client

    c = Client()
    c.force_login(officer)
    html = c.get(f"/disputes/{d.pk}/").content.decode()
    assert "incidents.incident" in html


def test_dispute_open_from_races_to_one_case(j):
    # The origin look-up misses (as for a call racing the first): the origin is also the
    # intake key, so the intake itself still returns the first case.
    officer = j.user("officer")
    d = origin_case(j, officer)
    Dispute.objects.filter(pk=d.pk).update(origin_label="", origin_id=None)
    again = origin_case(j, officer)
    assert again.pk == d.pk and Dispute.objects.count() == 1


def test_dispute_open_from_refuses_a_bad_origin_and_hides_other_stations(j, other):
    officer = j.user("officer")
    with pytest.raises(ValidationFailed):
        dispute_open_from(actor=officer, origin_label="", origin_id=1)
    origin_case(j, officer)
    with pytest.raises(Http404):
        origin_case(other, other.user("officer"))


def test_the_intake_key_race_returns_the_winner(j, monkeypatch):
    # Simulate the race: the look-up before saving finds nothing, the insert then collides.
    from fengqiao.disputes import services

    officer = j.user("officer")
    first = intake(j, officer, intake_key="race")
    real = services._intake_replay
    calls = {"n": 0}

    def miss_once(station_id: int, key: str) -> Dispute | None:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(station_id, key)

    monkeypatch.setattr(services, "_intake_replay", miss_once)
    again = intake(j, officer, intake_key="race")
    assert again.pk == first.pk and calls["n"] == 2
    assert Dispute.objects.count() == 1


def test_system_intake_needs_no_actor(j):
    ensure_codes()
    grid = j.grids[0]
    d = dispute_intake(
        actor=None,
        station_id=j.station.pk,
        narrative="系统导入",
        occurred_at=ago(2),
        source="tip",
        type_code="0201",
        scale="individual",
        lat=grid.centroid_lat,
        lng=grid.centroid_lng,
        parties=[person("甲")],
        intake_key="import-1",
    )
    assert d.intake_key == "import-1"
