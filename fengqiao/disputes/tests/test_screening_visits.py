"""Screening visits: record, list, who sees what, and opening a dispute from a visit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.utils import timezone

from fengqiao.core.errors import IllegalTransition, ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Dispute, ScreeningVisit
from fengqiao.disputes.screening import (
    screening_visit_create,
    screening_visit_open_dispute,
    visit_page,
)
from fengqiao.disputes.tests.kit import ago, ensure_codes, person
from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db

API = "/api/v1/disputes/screening-visits"


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def visit(j: Any, actor: Any, grid: int = 0, **extra: Any) -> ScreeningVisit:
    g = j.grids[grid]
    values: dict[str, Any] = {
        "station_id": j.station.pk,
        "visited_at": ago(0, 2),
        "visited": "枫桥路5号住户",
        "address": "枫桥路5号",
        "findings": "两户因排水管堵塞互相指责",
        "result": "dispute",
        "lat": g.centroid_lat,
        "lng": g.centroid_lng,
    }
    values.update(extra)
    return screening_visit_create(actor=actor, **values)


def test_a_visit_is_located_recorded_and_audited(j):
    aux = j.user("auxiliary")
    v = visit(j, aux, grid=2)
    assert (v.area, v.community, v.visitor) == (j.grids[2], j.communities[1], aux)
    assert AuditEntry.objects.filter(
        action="disputes.screeningvisit.created", object_id=str(v.pk)
    ).exists()


def test_a_visit_by_address_and_grid(j):
    v = visit(j, j.user("officer"), lat=None, lng=None, grid_id=j.grids[1].pk)
    assert v.area == j.grids[1] and v.lat is None


def test_bad_visits_are_refused_field_by_field(j):
    with pytest.raises(ValidationFailed) as exc:
        visit(
            j,
            j.user("officer"),
            visited="",
            findings="",
            result="maybe",
            visited_at=timezone.now() + timedelta(hours=3),
        )
    assert {"visited", "findings", "result", "visited_at"} <= set(exc.value.fields)
    assert ScreeningVisit.objects.count() == 0


def test_who_may_record_visits(j, other):
    for role in ("volunteer", "mediator", "analyst"):
        with pytest.raises(PermissionDenied):
            visit(j, j.user(role))
    with pytest.raises(Http404):
        visit(j, other.user("officer"))
    aux = j.user("auxiliary", area=j.grids[0])
    assert visit(j, aux).area == j.grids[0]
    with pytest.raises(PermissionDenied):
        visit(j, aux, grid=3)


def test_the_list_shows_only_what_the_user_may_see_and_filters(j, other):
    officer = j.user("officer")
    a = visit(j, officer, grid=0, result="nothing")
    b = visit(j, officer, grid=3, visited_at=ago(3))
    visit(other, other.user("officer"))
    assert [v.pk for v in visit_page(user=officer).items] == [a.pk, b.pk]
    assert [v.pk for v in visit_page(user=officer, grid_id=j.grids[3].pk).items] == [b.pk]
    assert [v.pk for v in visit_page(user=officer, result="nothing").items] == [a.pk]
    today = timezone.localdate()
    assert [v.pk for v in visit_page(user=officer, date_from=today).items] == [a.pk]
    assert [v.pk for v in visit_page(user=j.user("volunteer")).items] == []
    grid_aux = j.user("auxiliary", area=j.grids[0])
    assert [v.pk for v in visit_page(user=grid_aux).items] == [a.pk]


def test_the_list_pages_by_keys(j):
    officer = j.user("officer")
    made = [visit(j, officer, visited_at=ago(i)) for i in range(5)]
    first = visit_page(user=officer, size=2)
    second = visit_page(user=officer, size=2, cursor=first.next_cursor)
    third = visit_page(user=officer, size=2, cursor=second.next_cursor)
    seen = [v.pk for p in (first, second, third) for v in p.items]
    assert seen == [v.pk for v in made] and third.next_cursor is None


def test_the_pages_record_and_list_visits(j):
    officer = j.user("officer")
    c = client_for(officer)
    g = j.grids[1]
    resp = c.post(
        "/disputes/screening/new/",
        {
            "station": str(j.station.pk),
            "visited_at": "2026-01-05T10:00",
            "visited": "张家",
            "address": "桥东路1号",
            "lat": f"{g.centroid_lat:.6f}",
            "lng": f"{g.centroid_lng:.6f}",
            "findings": "张家与物业因停车位争吵",
            "result": "dispute",
        },
    )
    v = ScreeningVisit.objects.get()
    # a visit that found a dispute goes on to the intake page, prefilled
    assert resp.status_code == 302 and resp["Location"] == f"/disputes/new/?visit={v.pk}"
    page = c.get(resp["Location"])
    form = page.context["form"]
    assert form.initial["source"] == "screening"
    assert form.initial["narrative"] == "张家与物业因停车位争吵"
    assert form.initial["lat"] == f"{v.lat:.6f}" and form.initial["visit"] == v.pk
    listing = c.get("/disputes/screening/")
    assert listing.status_code == 200 and "张家" in listing.content.decode()
    assert f"/disputes/new/?visit={v.pk}" in listing.content.decode()  # 登记纠纷
    bad = c.post("/disputes/screening/new/", {"station": str(j.station.pk), "visited": "李家"})
    assert bad.status_code == 422 and 'value="李家"' in bad.content.decode()
    assert client_for(j.user("volunteer")).get("/disputes/screening/").status_code == 403


def test_the_intake_page_opens_the_dispute_of_a_visit_and_links_it(j, other):
    officer = j.user("officer")
    v = visit(j, officer)
    from fengqiao.disputes.tests.test_intake_page_create import form_data

    data = form_data(j, visit=str(v.pk), source="screening")
    c = client_for(officer)
    resp = c.post("/disputes/new/", data)
    assert resp.status_code == 302
    d = Dispute.objects.get()
    v.refresh_from_db()
    assert v.dispute == d and d.source == "screening"
    assert (d.origin_label, d.origin_id) == ("disputes.screeningvisit", v.pk)
    # a second submit of the same visit makes no second case
    c.post("/disputes/new/", {**data, "intake_token": "another"})
    assert Dispute.objects.count() == 1
    html = c.get(f"/disputes/{d.pk}/").content.decode()
    assert "排查走访" in html and v.visited in html
    # another station's officer cannot open the visit's intake page
    assert client_for(other.user("officer")).get(f"/disputes/new/?visit={v.pk}").status_code == 404


def test_only_a_visit_that_found_a_dispute_opens_one(j):
    officer = j.user("officer")
    v = visit(j, officer, result="nothing")
    with pytest.raises(IllegalTransition):
        screening_visit_open_dispute(
            actor=officer,
            visit=v,
            narrative="x",
            occurred_at=ago(1),
            type_code="0201",
            scale="individual",
            parties=[person()],
            lat=v.lat,
            lng=v.lng,
        )


def test_the_api_lists_creates_and_opens_a_dispute(j, other):
    ensure_codes()
    officer = j.user("officer")
    c = api_client(officer)
    g = j.grids[0]
    body = {
        "station_id": j.station.pk,
        "visited_at": ago(1).isoformat(),
        "visited": "王家",
        "address": "枫桥路7号",
        "findings": "王家兄弟分家产争吵",
        "result": "dispute",
        "lat": g.centroid_lat,
        "lng": g.centroid_lng,
    }
    resp = c.post(API, body, content_type="application/json")
    assert resp.status_code == 201, resp.content
    vid = resp.json()["id"]
    assert resp.json()["grid_id"] == g.pk and resp.json()["dispute_id"] is None
    listed = c.get(API, {"result": "dispute"}).json()
    assert [v["id"] for v in listed["items"]] == [vid]
    assert api_client(other.user("officer")).get(API).json()["items"] == []
    assert_api_error(api_client(other.user("officer")).get(f"{API}/{vid}"), 404, "not_found")
    assert_api_error(
        api_client(j.user("volunteer")).post(API, body, content_type="application/json"),
        403,
        "forbidden",
    )
    open_body = {
        "type_code": "0101",
        "scale": "individual",
        "parties": [person("王大"), person("王二", role="respondent")],
    }
    opened = c.post(f"{API}/{vid}/dispute", open_body, content_type="application/json")
    assert opened.status_code == 201, opened.content
    out = opened.json()
    assert out["source"] == "screening" and out["narrative"] == "王家兄弟分家产争吵"
    again = c.post(f"{API}/{vid}/dispute", open_body, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == out["id"]
    assert Dispute.objects.count() == 1
    assert c.get(f"{API}/{vid}").json()["dispute_id"] == out["id"]
    assert_api_error(c.get(API, {"cursor": "garbage"}), 422, "validation_error")
