"""The incident log's pages: permission matrices, intake, moves, corrections, reveal, settings."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Dispute
from fengqiao.incidents.models import Incident, IncidentCategory, StationIncidentConfig
from fengqiao.incidents.tests.test_log_services import ago, log

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "volunteer", "other_officer", "officer", "chief"]


def as_user(j, other, role) -> Client:
    c = Client()
    if role == "other_officer":
        c.force_login(other.user("officer"))
    elif role != "anonymous":
        c.force_login(j.user(role))
    return c


def listed(resp) -> list[int]:
    assert resp.status_code == 200, resp.content[:500]
    return [int(x) for x in re.findall(r'<tr data-id="(\d+)"', resp.content.decode())]


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def intake_data(j, **extra):
    grid = j.grids[0]
    data = {
        "station": str(j.station.pk),
        "intake_token": "tok-1",
        "source": "walk_in",
        "category_class": "100000",
        "category_code": "100103",
        "reported_at": local(ago(1)),
        "occurred_at": local(ago(3)),
        "narrative": "电动车在楼下被盗",
        "lat": f"{grid.centroid_lat:.6f}",
        "lng": f"{grid.centroid_lng:.6f}",
        "address": "枫桥路3号",
        "grid_id": "",
        "caller_name": "赵六",
        "caller_phone": "13900139000",
        "external_id": "",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("volunteer", 403),
        ("other_officer", 200),
        ("officer", 200),
        ("chief", 200),
    ],
)
def test_list_matrix_and_scope(j, other, role, status):
    mine = log(j, None)
    theirs = log(other, None)
    resp = as_user(j, other, role).get("/incidents/")
    assert resp.status_code == status
    if status == 200:
        expected = [theirs.pk] if role == "other_officer" else [mine.pk]
        assert listed(resp) == expected


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 200),
        ("chief", 200),
    ],
)
def test_detail_matrix_masks_the_caller(j, other, role, status):
    i = log(j, None, caller_name="王小五", caller_phone="13800138000")
    resp = as_user(j, other, role).get(f"/incidents/{i.pk}/")
    assert resp.status_code == status
    if status == 200:
        html = resp.content.decode()
        assert "138****8000" in html and "王**" in html
        assert "13800138000" not in html and "王小五" not in html
        assert 'id="move-dispatch"' in html


def test_list_filters_search_and_queries(client, j):
    chief = j.user("chief")
    client.force_login(chief)
    base = timezone.now() - timedelta(days=3)
    theft = [
        log(
            j,
            None,
            category_code="100103",
            reported_at=base + timedelta(hours=n),
            occurred_at=base,
            narrative="电动车被盗",
        )
        for n in range(4)
    ]
    fights = [
        log(j, None, reported_at=base + timedelta(hours=n), occurred_at=base) for n in range(3)
    ]
    assert sorted(listed(client.get("/incidents/", {"category": "100000"}))) == sorted(
        t.pk for t in theft
    )
    assert sorted(listed(client.get("/incidents/", {"q": "電動車"}))) == sorted(t.pk for t in theft)
    # Seven at one address within hours, four of them in pairs at the same minute: from the
    # second pair on, each has three or more in its window (the rule is 3 in 30 days).
    assert len(listed(client.get("/incidents/", {"repeat": "on"}))) == 5
    assert listed(client.get("/incidents/", {"status": "closed"})) == []
    resp = client.get("/incidents/", {"reported_from": "2026-03-02", "reported_to": "2026-03-01"})
    assert listed(resp) == [] and "结束日期不能早于开始日期" in resp.content.decode()
    assert listed(client.get("/incidents/", {"source": "nonsense"})) == []
    client.get("/incidents/")  # warm the per-process caches
    with CaptureQueriesContext(connection) as few:
        client.get("/incidents/")
    for n in range(10):
        log(j, None, reported_at=base + timedelta(minutes=n), occurred_at=base)
    with CaptureQueriesContext(connection) as many:
        resp = client.get("/incidents/")
    assert len(listed(resp)) == len(theft) + len(fights) + 10
    assert len(many.captured_queries) == len(few.captured_queries) <= 16


def test_intake_page_logs_an_incident_and_is_idempotent(client, j):
    officer = j.user("officer")
    client.force_login(officer)
    assert client.get("/incidents/new/").status_code == 200
    resp = client.post("/incidents/new/", intake_data(j))
    i = Incident.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/incidents/{i.pk}/"
    assert i.category.code == "100103" and i.area == j.grids[0] and i.caller_phone == "13900139000"
    again = client.post("/incidents/new/", intake_data(j))
    assert again.status_code == 302 and Incident.objects.count() == 1


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"category_code": "999999"}, "未知的警情类别编码：999999"),
        ({"occurred_at": local(timezone.now() - timedelta(minutes=5))}, "发生时间不能晚于报警时间"),
        ({"lat": "30.5", "lng": "114.3"}, "不在本所辖区"),
        ({"caller_phone": "123"}, "电话号码格式不正确"),
    ],
)
def test_intake_page_shows_the_message_and_keeps_the_input(client, j, extra, words):
    client.force_login(j.user("officer"))
    resp = client.post("/incidents/new/", intake_data(j, **extra))
    html = resp.content.decode()
    assert resp.status_code == 422 and words in html
    assert "电动车在楼下被盗" in html and "枫桥路3号" in html
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("volunteer", 403),
        ("other_officer", 404),
        ("officer", 302),
        ("chief", 302),
    ],
)
def test_intake_page_matrix(j, other, role, status):
    resp = as_user(j, other, role).post("/incidents/new/", intake_data(j))
    assert resp.status_code == status
    if role in ("officer", "chief"):
        assert Incident.objects.count() == 1
    else:
        assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("volunteer", 404),
        ("other_officer", 404),
        ("analyst", 403),
        ("officer", 302),
        ("chief", 302),
    ],
)
def test_move_matrix(j, other, role, status):
    i = log(j, None)
    c = as_user(j, other, role)
    resp = c.post(f"/incidents/{i.pk}/dispatch/", {"team": "巡逻一组", "version": "1"})
    assert resp.status_code == status
    fresh = Incident.objects.get(pk=i.pk)
    if role in ("officer", "chief"):
        assert fresh.status == "dispatched"
    else:
        assert (fresh.status, fresh.version) == ("received", 1)


def test_moves_on_the_page_and_their_refusals(client, j):
    officer = j.user("officer")
    client.force_login(officer)
    i = log(j, None, reported_at=ago(2), occurred_at=ago(3))
    resp = client.post(
        f"/incidents/{i.pk}/dispatch/", {"officer_id": str(officer.pk), "version": "1"}
    )
    assert resp.status_code == 302
    # A stale page: the version moved on.
    resp = client.post(f"/incidents/{i.pk}/arrive/", {"version": "1"})
    assert resp.status_code == 409 and "已被他人修改" in resp.content.decode()
    assert client.post(f"/incidents/{i.pk}/arrive/", {"version": "2"}).status_code == 302
    resp = client.post(
        f"/incidents/{i.pk}/close/", {"disposition": "referred", "note": "交120", "version": "3"}
    )
    html = resp.content.decode()
    assert resp.status_code == 422 and "移交联动单位时请选择联动单位" in html and "交120" in html
    resp = client.post(
        f"/incidents/{i.pk}/close/", {"disposition": "referred", "linkage": "120", "version": "3"}
    )
    assert resp.status_code == 302
    resp = client.post(f"/incidents/{i.pk}/dispatch/", {"team": "二组", "version": "4"})
    assert resp.status_code == 409 and "警情已处结，不能再派警。" in resp.content.decode()
    page = client.get(f"/incidents/{i.pk}/").content.decode()
    assert 'id="response-time"' in page and "分钟" in page
    assert 'id="move-dispatch"' not in page
    assert client.post(f"/incidents/{i.pk}/fly/", {}).status_code == 404


def test_convert_on_the_page_links_one_dispute(client, j):
    officer = j.user("officer")
    client.force_login(officer)
    i = log(j, None)
    data = {
        "type_class": "02",
        "type_code": "0201",
        "scale": "individual",
        "applicant": "张三",
        "respondent": "李四",
        "version": "1",
    }
    resp = client.post(f"/incidents/{i.pk}/convert/", {**data, "applicant": ""})
    assert resp.status_code == 422 and not Dispute.objects.exists()
    resp = client.post(f"/incidents/{i.pk}/convert/", data)
    assert resp.status_code == 302
    d = Dispute.objects.get()
    page = client.get(f"/incidents/{i.pk}/").content.decode()
    assert f"/disputes/{d.pk}/" in page and d.case_number in page


def test_edit_page_corrects_keeps_the_caller_and_refuses_a_stale_version(client, j):
    officer = j.user("officer")
    client.force_login(officer)
    i = log(j, None, caller_phone="13800138000")
    form = client.get(f"/incidents/{i.pk}/edit/").content.decode()
    assert "138****8000" in form and "13800138000" not in form
    data = intake_data(
        j,
        narrative="更正后的警情",
        caller_name="",
        caller_phone="",
        version="1",
        category_code="200100",
    )
    data.pop("station")
    resp = client.post(f"/incidents/{i.pk}/edit/", data)
    assert resp.status_code == 302
    i.refresh_from_db()
    assert i.narrative == "更正后的警情" and i.caller_phone == "13800138000" and i.version == 2
    resp = client.post(f"/incidents/{i.pk}/edit/", {**data, "narrative": "旧"})
    assert resp.status_code == 409
    assert as_user(j, None, "analyst").get(f"/incidents/{i.pk}/edit/").status_code == 403


def test_reveal_of_the_caller_is_audited_and_for_officers_only(client, j, other):
    i = log(j, None, caller_phone="13800138000")
    url = f"/pii/incidents.incident/{i.pk}/caller_phone/reveal"
    c = as_user(j, other, "officer")
    resp = c.post(url)
    assert resp.status_code == 200 and "13800138000" in resp.content.decode()
    assert AuditEntry.objects.filter(action="incidents.incident.pii_revealed").count() == 1
    assert as_user(j, other, "other_officer").post(url).status_code == 404
    assert as_user(j, other, "analyst").post(url).status_code == 403
    assert AuditEntry.objects.filter(action="incidents.incident.pii_revealed").count() == 1


@pytest.mark.parametrize(
    ("role", "get", "post"),
    [
        ("anonymous", 302, 302),
        ("officer", 403, 403),
        ("other_officer", 403, 403),
        ("chief", 200, 302),
    ],
)
def test_settings_page_matrix(j, other, role, get, post):
    c = as_user(j, other, role)
    assert c.get("/incidents/settings/").status_code == get
    data = {
        "station": str(j.station.pk),
        "repeat_min": "4",
        "repeat_days": "14",
        "briefing_hour": "6",
        "briefing_minute": "30",
        "hotspot_resolution": "8",
    }
    assert c.post("/incidents/settings/", data).status_code == post
    cfg = StationIncidentConfig.objects.filter(station=j.station).first()
    if role == "chief":
        assert (cfg.repeat_min, cfg.repeat_days, cfg.briefing_minute) == (4, 14, 30)
        bad = c.post("/incidents/settings/", {**data, "repeat_days": "0"})
        assert bad.status_code == 422 and "统计天数" in bad.content.decode()
    else:
        assert cfg is None


def test_nav_shows_incidents_to_those_who_may_see_them(j, other):
    assert "/incidents/" in as_user(j, other, "officer").get("/").content.decode()
    listing = as_user(j, other, "officer").get("/incidents/").content.decode()
    assert 'href="/incidents/imports/"' in listing
    assert 'href="/incidents/"' not in as_user(j, other, "volunteer").get("/").content.decode()


def test_admin_edits_of_the_code_tree_are_audited(client, j):
    from fengqiao.factories import UserFactory

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    cat = IncidentCategory.objects.get(code="200100")
    url = f"/djadmin/incidents/incidentcategory/{cat.pk}/change/"
    assert client.get(url).status_code == 200
    resp = client.post(
        url, {"name": "打架斗殴（含互殴）", "name_en": "Fighting", "sort": cat.sort, "active": "on"}
    )
    assert resp.status_code == 302, resp.content[:500]
    cat.refresh_from_db()
    assert cat.name == "打架斗殴（含互殴）" and cat.code == "200100"
    assert AuditEntry.objects.filter(action="incidents.incidentcategory.changed_in_admin").exists()


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("volunteer", set()),
        (
            "officer",
            {"/analytics/briefings/", "/analytics/briefings/orders/", "/analytics/dashboard/"},
        ),
        (
            "chief",
            {"/analytics/briefings/", "/analytics/briefings/orders/", "/analytics/dashboard/"},
        ),
    ],
)
def test_nav_shows_the_command_room_to_those_who_may_use_it(j, other, role, shown):
    html = as_user(j, other, role).get("/").content.decode()
    wanted = {"/analytics/briefings/", "/analytics/briefings/orders/", "/analytics/dashboard/"}
    assert {url for url in wanted if f'href="{url}"' in html} == shown
