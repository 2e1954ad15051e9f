"""The case-file pages and API: the section on the case page, follow-ups, the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fengqiao.core.models import AuditEntry
from fengqiao.core.pagination import encode_cursor
from fengqiao.disputes.models import Dispute, FollowUp
from fengqiao.disputes.services import dispute_transition
from fengqiao.disputes.tests.casefile_kit import agreed_case
from fengqiao.disputes.tests.kit import id_number, intake, person
from fengqiao.disputes.timeline import action_label, change_lines
from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def now_local() -> str:
    return (timezone.localtime() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")


# --- the case page's section ---


def test_the_case_page_shows_visits_attachments_and_the_latest_steps(client, j):
    officer = j.user("officer")
    d, _a, visits = agreed_case(j, officer, status="closed")
    client.force_login(officer)
    html = client.get(f"/disputes/{d.pk}/").content.decode()
    assert 'id="casefile"' in html
    assert f'id="followup-record-{visits[0].pk}"' in html
    assert "协议后7日回访" in html and "自动安排回访" in html and "登记受理" in html
    assert f'href="/disputes/{d.pk}/timeline/"' in html
    assert 'id="attachment-upload-form"' in html


def test_a_volunteer_and_another_station_cannot_reach_the_forms(client, j, other):
    d, _a, visits = agreed_case(j, j.user("officer"), status="closed")
    url = f"/disputes/{d.pk}/followups/{visits[0].pk}/record/"
    data = {"honoured": "no", "satisfaction": "1", "comment": "x", "visited_at": now_local()}
    client.force_login(other.user("officer"))
    assert client.get(url).status_code == 404
    assert client.post(url, data).status_code == 404
    assert client.get(f"/disputes/{d.pk}/timeline/").status_code == 404
    client.force_login(j.user("volunteer"))
    assert client.post(url, data).status_code == 404
    assert FollowUp.objects.get(pk=visits[0].pk).state == "scheduled"
    assert Dispute.objects.get(pk=d.pk).status == "closed"


# --- follow-ups through the pages ---


def test_record_not_honoured_through_the_page_reopens(client, j):
    officer = j.user("officer")
    d, _a, visits = agreed_case(j, officer, status="closed")
    client.force_login(officer)
    resp = client.post(
        f"/disputes/{d.pk}/followups/{visits[0].pk}/record/",
        {"honoured": "no", "satisfaction": "3", "comment": "李四未赔偿", "visited_at": now_local()},
        follow=True,
    )
    assert resp.status_code == 200
    assert "案件已重新办理" in resp.content.decode()
    assert Dispute.objects.get(pk=d.pk).status == "reopened"


def test_bad_input_on_the_page_comes_back_filled(client, j):
    officer = j.user("officer")
    d, _a, visits = agreed_case(j, officer, status="closed")
    client.force_login(officer)
    url = f"/disputes/{d.pk}/followups/{visits[0].pk}/record/"
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    resp = client.post(
        url, {"honoured": "no", "satisfaction": "2", "comment": "保留这段话", "visited_at": future}
    )
    assert resp.status_code == 422
    html = resp.content.decode()
    assert "回访时间不能晚于现在。" in html and "保留这段话" in html
    resp = client.post(url, {"honoured": "yes", "satisfaction": "6", "visited_at": now_local()})
    assert resp.status_code == 422
    assert FollowUp.objects.get(pk=visits[0].pk).state == "scheduled"
    # recorded once, a second post says so and changes nothing
    ok = {"honoured": "yes", "satisfaction": "5", "visited_at": now_local()}
    assert client.post(url, ok).status_code == 302
    resp = client.post(url, {**ok, "satisfaction": "1", "comment": "x"}, follow=True)
    assert "已记录或已取消" in resp.content.decode()
    assert FollowUp.objects.get(pk=visits[0].pk).satisfaction == 5


def test_a_visit_of_another_case_is_not_found_through_this_one(client, j):
    officer = j.user("officer")
    d1, _a, _v1 = agreed_case(j, officer, status="closed")
    _d2, _a, v2 = agreed_case(j, officer, status="closed")
    client.force_login(officer)
    resp = client.post(
        f"/disputes/{d1.pk}/followups/{v2[0].pk}/record/",
        {"honoured": "yes", "satisfaction": "5", "visited_at": now_local()},
    )
    assert resp.status_code == 404
    assert FollowUp.objects.get(pk=v2[0].pk).state == "scheduled"


def test_cancel_and_add_through_the_pages(client, j):
    officer = j.user("officer")
    d, _a, visits = agreed_case(j, officer, status="closed")
    client.force_login(officer)
    resp = client.post(f"/disputes/{d.pk}/followups/{visits[2].pk}/cancel/", {"reason": ""})
    assert resp.status_code == 422
    resp = client.post(
        f"/disputes/{d.pk}/followups/{visits[2].pk}/cancel/", {"reason": "当事人已搬离"}
    )
    assert resp.status_code == 302
    assert FollowUp.objects.get(pk=visits[2].pk).state == "cancelled"
    day = (timezone.localdate() + timedelta(days=45)).isoformat()
    resp = client.post(f"/disputes/{d.pk}/followups/add/", {"due_date": day, "note": "节前"})
    assert resp.status_code == 302
    assert FollowUp.objects.filter(dispute=d, kind="other").count() == 1
    past = (timezone.localdate() - timedelta(days=3)).isoformat()
    resp = client.post(f"/disputes/{d.pk}/followups/add/", {"due_date": past, "note": "太早"})
    assert resp.status_code == 422 and "太早" in resp.content.decode()


def test_the_due_list_page(client, j, other):
    officer = j.user("officer")
    d, _a, _v = agreed_case(j, officer, status="closed", days_ago=10)
    od, _a, _v = agreed_case(other, None, status="closed", days_ago=10)
    client.force_login(officer)
    html = client.get("/disputes/followups/?when=overdue").content.decode()
    assert f'href="/disputes/{d.pk}/#casefile"' in html
    assert f'href="/disputes/{od.pk}/#casefile"' not in html
    assert "已逾期" in html
    assert 'href="/disputes/followups/"' in html  # in the navigation
    html = client.get("/disputes/followups/?when=today&mine=1").content.decode()
    assert f'href="/disputes/{d.pk}/#casefile"' not in html


@pytest.mark.parametrize("key", ["2026-02-30", "not a day", "9999-99-99"])
def test_the_due_list_page_starts_again_from_a_cursor_whose_day_is_no_day(client, j, key):
    # Given a stale or hand-made link whose cursor holds something that is not a date
    officer = j.user("officer")
    d, _a, _v = agreed_case(j, officer, status="closed", days_ago=10)
    client.force_login(officer)
    # Then the page lists from the top instead of failing
    resp = client.get(
        "/disputes/followups/", {"when": "all", "cursor": encode_cursor([key, 1])}, follow=True
    )
    assert resp.status_code == 200 and "cursor" not in resp.redirect_chain[-1][0]
    assert f'href="/disputes/{d.pk}/#casefile"' in resp.content.decode()
    # And the API says the cursor is broken rather than answering another page
    got = api_client(officer).get("/api/v1/disputes/followups", {"cursor": encode_cursor([key, 1])})
    assert_api_error(got, 422, "validation_error")


# --- follow-ups through the API ---


def test_api_follow_ups(j, other):
    officer = j.user("officer")
    d, _a, visits = agreed_case(j, officer, status="closed", days_ago=10)
    api = api_client(officer)
    base = f"/api/v1/disputes/{d.pk}/followups"
    listed = api.get(base).json()
    assert [f["id"] for f in listed] == [v.pk for v in visits]
    due = api.get("/api/v1/disputes/followups?when=overdue").json()
    assert [f["id"] for f in due["items"]] == [visits[0].pk]
    assert due["items"][0]["overdue"] is True and due["items"][0]["case_number"] == d.case_number
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    for score in (0, 6):
        assert_api_error(
            api.post(
                f"{base}/{visits[0].pk}/record",
                {"honoured": True, "satisfaction": score, "visited_at": at},
                content_type="application/json",
            ),
            422,
            "validation_error",
        )
    future = (timezone.now() + timedelta(days=1)).isoformat()
    body = assert_api_error(
        api.post(
            f"{base}/{visits[0].pk}/record",
            {"honoured": True, "satisfaction": 5, "visited_at": future},
            content_type="application/json",
        ),
        422,
        "validation_error",
    )
    assert "visited_at" in body["fields"]
    resp = api.post(
        f"{base}/{visits[0].pk}/record",
        {"honoured": False, "satisfaction": 2, "comment": "未付款", "visited_at": at},
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["state"] == "done" and body["reopened"] is True
    assert body["dispute_status"] == "reopened"
    assert_api_error(
        api.post(
            f"{base}/{visits[0].pk}/record",
            {"honoured": True, "satisfaction": 5, "visited_at": at},
            content_type="application/json",
        ),
        409,
        "already_recorded",
    )
    assert_api_error(
        api_client(other.user("officer")).post(
            f"{base}/{visits[1].pk}/cancel", {"reason": "x"}, content_type="application/json"
        ),
        404,
        "not_found",
    )
    # the broken agreement's other visits were cancelled with the reopening
    assert_api_error(
        api.post(f"{base}/{visits[1].pk}/cancel", {"reason": "x"}, content_type="application/json"),
        409,
        "cancelled",
    )
    day = (timezone.localdate() + timedelta(days=20)).isoformat()
    resp = api.post(base, {"due_date": day, "note": "再访"}, content_type="application/json")
    assert resp.status_code == 201 and resp.json()["kind"] == "other"
    new_id = resp.json()["id"]
    resp = api.post(
        f"{base}/{new_id}/cancel", {"reason": "电话已确认"}, content_type="application/json"
    )
    assert resp.status_code == 200 and resp.json()["state"] == "cancelled"
    assert_api_error(api.get("/api/v1/disputes/followups?cursor=abc"), 422, "validation_error")


# --- the timeline ---


def test_action_labels_in_chinese_with_the_code_as_fallback():
    assert action_label("disputes.dispute.created") == "登记受理"
    assert action_label("disputes.dispute.status_changed") == "状态变更"
    assert action_label("disputes.followup.recorded") == "记录回访"
    assert action_label("disputes.session.scheduled") == "安排调解会"
    assert action_label("disputes.agreement.signed") == "当事人签署协议"
    assert action_label("disputes.agreement.printed") == "打印调解协议"
    assert action_label("disputes.referral.created") == "移送案件"
    assert action_label("disputes.referral.updated") == "修改移送"
    assert action_label("disputes.assignment.claimed") == "认领指派"
    assert action_label("disputes.widget.frobbed") == "disputes.widget.frobbed"


def test_change_lines_are_words_and_never_personal_data():
    lines = change_lines(
        "disputes.dispute.status_changed", {"status": ["closed", "reopened"], "reason": "未赔偿"}
    )
    assert [(x.label, x.old, x.text) for x in lines] == [
        ("状态", "已结案", "重新办理"),
        ("理由", None, "未赔偿"),
    ]
    lines = change_lines(
        "disputes.party.updated",
        {"phone": ["***", "***"], "id_number_bidx": ["a", "b"], "consent": ["undecided", "agreed"]},
    )
    assert [(x.label, x.text) for x in lines] == [("调解意愿", "同意调解")]
    lines = change_lines(
        "disputes.followup.recorded", {"honoured": False, "satisfaction": 2, "kind": "days_7"}
    )
    assert [(x.label, x.text) for x in lines] == [
        ("类型", "协议后7日回访"),
        ("协议已履行", "否"),
        ("满意度（1-5）", "2"),
    ]


def test_the_timeline_page_and_api_tell_the_story_without_phones(client, j):
    officer = j.user("officer")
    d = intake(
        j,
        officer,
        parties=[
            person("张三", phone=PHONE, id_number=id_number(9)),
            person("李四", role="respondent"),
        ],
    )
    d = dispute_transition(actor=officer, dispute=d, to="triaged", version=d.version)
    client.force_login(officer)
    html = client.get(f"/disputes/{d.pk}/timeline/").content.decode()
    for words in ("登记受理", "研判分级", "状态变更", "已研判", "张三（申请人）"):
        assert words in html
    assert PHONE not in html and "5678" not in html and id_number(9) not in html
    body = api_client(officer).get(f"/api/v1/disputes/{d.pk}/timeline").json()
    labels = [s["label"] for s in body["items"]]
    assert labels[0] == "状态变更" and labels[-1] == "登记受理"
    assert body["items"][0]["changes"][0] == {"label": "状态", "old": "登记受理", "new": "已研判"}
    assert PHONE not in str(body)
    oldest = api_client(officer).get(f"/api/v1/disputes/{d.pk}/timeline?order=asc&limit=1").json()
    assert oldest["items"][0]["label"] == "登记受理" and oldest["next_cursor"]
    count = AuditEntry.objects.filter(object_id=str(d.pk), object_type="disputes.dispute").count()
    assert len(body["items"]) == count


def test_timeline_of_another_station_is_not_found(j, other):
    d = intake(j, j.user("officer"))
    assert_api_error(
        api_client(other.user("officer")).get(f"/api/v1/disputes/{d.pk}/timeline"), 404, "not_found"
    )


# --- permission matrix and query counts ---


@pytest.mark.parametrize("role", ["anonymous", "volunteer", "other_officer", "analyst", "officer"])
def test_record_matrix(j, as_role, role):
    d, _a, visits = agreed_case(j, j.user("officer"), status="closed")
    before = AuditEntry.objects.count()
    resp = as_role(role).post(
        f"/api/v1/disputes/{d.pk}/followups/{visits[0].pk}/record",
        {"honoured": True, "satisfaction": 5, "visited_at": timezone.now().isoformat()},
        content_type="application/json",
    )
    if role == "officer":
        assert resp.status_code == 200, resp.content
        return
    expected = {
        "anonymous": (401, "unauthorized"),
        "volunteer": (404, "not_found"),
        "other_officer": (404, "not_found"),
        "analyst": (403, "forbidden"),
    }[role]
    assert_api_error(resp, *expected)
    assert FollowUp.objects.get(pk=visits[0].pk).state == "scheduled"
    assert AuditEntry.objects.count() == before


def test_lists_cost_the_same_queries_for_few_rows_and_many(j):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    officer = j.user("officer")
    d, _a, _v = agreed_case(j, officer, status="closed", days_ago=3)
    api = api_client(officer)
    api.get("/api/v1/disputes/followups")  # warm the token and scope caches alike

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url).status_code == 200
        return len(ctx.captured_queries)

    due_few = count("/api/v1/disputes/followups")
    timeline_few = count(f"/api/v1/disputes/{d.pk}/timeline")
    for _ in range(4):
        agreed_case(j, officer, status="closed", days_ago=3)
    dispute_transition(actor=officer, dispute=d, to="reopened", version=d.version, reason="复查")
    assert count("/api/v1/disputes/followups") == due_few
    assert count(f"/api/v1/disputes/{d.pk}/timeline") == timeline_few


def test_timeline_words_for_sessions_agreements_and_assignments():
    from fengqiao.disputes.timeline import change_lines

    held = change_lines(
        "disputes.session.recorded",
        {
            "state": ["scheduled", "held"],
            "minutes": [None, "双方陈述"],
            "attendance": [{"name": "张三", "attended": True}, {"name": "李四", "attended": False}],
        },
    )
    shown = {line.label: line for line in held}
    assert shown["状态"].text == "已召开" and shown["状态"].old == "已安排"
    assert shown["调解记录"].text == "双方陈述"
    assert shown["到场情况"].text == "张三（到场）、李四（未到场）" and not shown["到场情况"].old
    assigned = change_lines("disputes.dispute.assigned", {"why": ["适用第4条", "开放案件最少"]})
    assert assigned[0].text == "适用第4条、开放案件最少" and not assigned[0].old
