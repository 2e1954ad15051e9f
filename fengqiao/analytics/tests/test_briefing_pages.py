"""Pages of the briefing and its orders: list, generate, detail, print, XLSX, orders' moves."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fengqiao.analytics.models import Briefing, Order
from fengqiao.analytics.orders import order_acknowledge, order_issue
from fengqiao.analytics.services import briefing_generate
from fengqiao.analytics.tests.test_briefing_content import at, incident
from fengqiao.core.models import AuditEntry
from fengqiao.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/analytics/briefings/"
ORDERS = "/analytics/briefings/orders/"
ROLES = ["anonymous", "resident", "volunteer", "other_officer", "officer", "chief"]
PHONE = "13812345678"


def user_for(j: Any, other: Any, role: str) -> Any:
    """Return a user for one row of the permission matrix (None for anonymous)."""
    if role == "anonymous":
        return None
    if role == "resident":
        return UserFactory()  # an account with no role anywhere
    if role == "other_officer":
        return other.user("officer")
    return j.user(role)


def client_for(user: Any) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def state() -> tuple[int, int, int]:
    return (Briefing.objects.count(), Order.objects.count(), AuditEntry.objects.count())


def morning(j: Any) -> Briefing:
    """Today's scheduled briefing over a small known night: two incidents, a repeat caller."""
    today = timezone.localdate()
    y = today - timedelta(days=1)
    incident(j, at(y, 23, 10), code="100101", address="枫桥路8号")
    for k in (1, 3, 5):
        incident(j, at(y - timedelta(days=k), 12), caller_name="张三丰", caller_phone=PHONE)
    incident(j, at(today, 1, 30), caller_name="张三丰", caller_phone=PHONE)
    return briefing_generate(actor=None, station_id=j.station.pk, day=today)


def issued(j: Any, chief: Any, officer: Any, briefing: Briefing | None = None) -> Order:
    return order_issue(
        actor=chief,
        station_id=j.station.pk,
        title="走访重复报警人",
        instructions="上门了解情况",
        due_at=timezone.now() + timedelta(hours=4),
        assignee_id=officer.pk,
        briefing_id=briefing.pk if briefing else None,
    )


# --- the list and generating ---


@pytest.mark.parametrize(
    ("role", "status", "sees"),
    [
        ("anonymous", 302, False),
        ("resident", 403, False),
        ("volunteer", 403, False),
        ("other_officer", 200, False),
        ("officer", 200, True),
        ("chief", 200, True),
    ],
)
def test_list_matrix(j, other, role, status, sees):
    b = morning(j)
    resp = client_for(user_for(j, other, role)).get(LIST)
    assert resp.status_code == status
    if status == 200:
        body = resp.content.decode()
        assert (f'data-briefing="{b.pk}"' in body) is sees
        assert ('id="briefing-generate"' in body) is (role == "chief")


def test_list_queries_do_not_grow_with_rows(j):
    chief = j.user("chief")
    c = client_for(chief)
    briefing_generate(actor=chief, station_id=j.station.pk)
    with CaptureQueriesContext(connection) as one:
        assert c.get(LIST).status_code == 200
    for _ in range(9):
        briefing_generate(actor=chief, station_id=j.station.pk)
    with CaptureQueriesContext(connection) as ten:
        resp = c.get(LIST)
    assert resp.content.decode().count("data-briefing=") == 10
    assert len(ten) == len(one)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("resident", 403),
        ("volunteer", 403),
        ("other_officer", 403),
        ("officer", 403),
        ("chief", 302),
    ],
)
def test_generate_now_matrix(j, other, role, status):
    before = state()
    resp = client_for(user_for(j, other, role)).post(f"{LIST}generate", {"station": j.station.pk})
    assert resp.status_code == status
    if role == "chief":
        b = Briefing.objects.get()
        assert resp["Location"] == f"{LIST}{b.pk}/"
        assert b.kind == "on_demand" and b.day == timezone.localdate()
    else:
        assert state() == before


def test_another_stations_chief_cannot_generate_here(j, other):
    before = state()
    resp = client_for(other.user("chief")).post(f"{LIST}generate", {"station": j.station.pk})
    assert resp.status_code == 404 and state() == before


# --- detail, print, XLSX ---


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("resident", 404),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 200),
        ("chief", 200),
    ],
)
@pytest.mark.parametrize("suffix", ["", "print/"])
def test_detail_and_print_matrix(j, other, role, status, suffix):
    b = morning(j)
    before = state()
    resp = client_for(user_for(j, other, role)).get(f"{LIST}{b.pk}/{suffix}")
    assert resp.status_code == status
    assert state() == before
    if status == 200:
        body = resp.content.decode()
        assert "晨会研判" in body and j.station.name in body
        assert "张**" in body and PHONE not in body and "张三丰" not in body
        assert "巡防" not in body  # no pretend patrol section


def test_detail_shows_the_nights_figures(j):
    b = morning(j)
    body = client_for(j.user("officer")).get(f"{LIST}{b.pk}/").content.decode()
    night = b.content["overnight"]
    assert night["count"] == 2
    assert '<span class="badge text-bg-secondary" id="overnight-count">2</span>' in body
    for row in night["rows"]:
        assert row["case_number"] in body
    assert "枫桥路8号" in body
    # The officer may read but not issue orders nor regenerate
    assert 'id="order-form"' not in body and "立即重新生成" not in body


def test_missing_briefing_is_404_like_another_stations(j, other):
    theirs = briefing_generate(actor=None, station_id=other.station.pk)
    c = client_for(j.user("chief"))
    assert c.get(f"{LIST}{theirs.pk}/").status_code == 404
    assert c.get(f"{LIST}{theirs.pk + 1000}/").status_code == 404
    assert c.get(f"{LIST}{theirs.pk}.xlsx").status_code == 404


def test_xlsx_download_holds_every_section(j):
    b = morning(j)
    resp = client_for(j.user("officer")).get(f"{LIST}{b.pk}.xlsx")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in resp["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    assert wb.sheetnames == [
        "概况",
        "夜间警情",
        "分类对比",
        "网格异常",
        "热点",
        "重复报警地址",
        "重复报警人",
        "风险纠纷",
    ]
    summary = {row[0]: row[1] for row in wb["概况"].iter_rows(values_only=True)}
    assert summary["晨会研判"] == j.station.name
    assert summary["研判日期"] == timezone.localdate().isoformat()
    assert summary["夜间警情（起）"] == 2
    assert summary["重复报警人（人）"] == 1
    night = list(wb["夜间警情"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in night] == [r["case_number"] for r in b.content["overnight"]["rows"]]
    assert night[0][4] == "枫桥路8号"
    callers = list(wb["重复报警人"].iter_rows(min_row=2, values_only=True))
    assert callers[0][:2] == ("张**", 4)
    classes = {r[0]: r for r in wb["分类对比"].iter_rows(min_row=2, values_only=True)}
    assert classes["合计"][2] == b.content["classes"]["total"]["yesterday"]
    cells = [str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row]
    assert not any(PHONE in v or "张三丰" in v for v in cells)


# --- issuing from the briefing ---


def test_the_chief_issues_an_order_from_the_briefing(j):
    b = morning(j)
    chief, officer = j.user("chief"), j.user("officer")
    c = client_for(chief)
    form = c.get(f"{LIST}{b.pk}/").content.decode()
    assert 'id="order-form"' in form and str(officer) in form
    due = (timezone.localtime() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    resp = c.post(
        f"{LIST}{b.pk}/orders/",
        {"title": "走访张某", "instructions": "上门了解", "assignee": officer.pk, "due_at": due},
    )
    assert resp.status_code == 302 and resp["Location"].endswith("#orders")
    o = Order.objects.get()
    assert (o.briefing_id, o.assignee, o.status) == (b.pk, officer, "issued")
    assert timezone.localtime(o.due_at).strftime("%Y-%m-%dT%H:%M") == due
    page = c.get(f"{LIST}{b.pk}/").content.decode()
    assert f'data-order="{o.pk}"' in page and o.number in page
    resp = c.post(
        f"{LIST}{b.pk}/orders/",
        {"title": "夜间巡逻", "instructions": "枫桥路加密巡逻", "team": "巡逻一组", "due_at": due},
    )
    assert resp.status_code == 302
    assert Order.objects.get(team="巡逻一组").assignee is None


def test_a_bad_order_shows_the_form_again_with_the_reasons(j):
    b = morning(j)
    officer = j.user("officer")
    before = state()
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    resp = client_for(j.user("chief")).post(
        f"{LIST}{b.pk}/orders/",
        {
            "title": "走访",
            "instructions": "上门",
            "assignee": officer.pk,
            "team": "一组",
            "due_at": past,
        },
    )
    assert resp.status_code == 422
    body = resp.content.decode()
    assert "承办民警与承办队伍只能选一个" in body and "完成时限应晚于现在" in body
    assert state() == before


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("resident", 404),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 403),
    ],
)
def test_issue_matrix(j, other, role, status):
    b = morning(j)
    officer = j.user("officer")
    before = state()
    due = (timezone.localtime() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    resp = client_for(user_for(j, other, role)).post(
        f"{LIST}{b.pk}/orders/",
        {"title": "走访", "instructions": "上门", "assignee": officer.pk, "due_at": due},
    )
    assert resp.status_code == status and state() == before


# --- orders ---


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("resident", 403),
        ("volunteer", 403),
        ("other_officer", 200),
        ("officer", 200),
        ("chief", 200),
    ],
)
def test_order_list_matrix(j, other, role, status):
    chief = j.user("chief")
    user = user_for(j, other, role)
    assignee = user if role == "officer" else j.user("officer")
    o = issued(j, chief, assignee)
    resp = client_for(user).get(ORDERS, {"view": "all"})
    assert resp.status_code == status
    if status == 200:
        assert (f'data-order="{o.pk}"' in resp.content.decode()) is (role != "other_officer")


def test_order_list_tabs_and_queries(j):
    chief, officer, other_officer = j.user("chief"), j.user("officer"), j.user("officer")
    mine = issued(j, chief, officer)
    theirs = issued(j, chief, other_officer)
    c = client_for(officer)
    body = c.get(ORDERS).content.decode()  # an officer starts on their own orders
    assert f'data-order="{mine.pk}"' in body and f'data-order="{theirs.pk}"' not in body
    body = c.get(ORDERS, {"view": "open"}).content.decode()
    assert f'data-order="{theirs.pk}"' in body
    with CaptureQueriesContext(connection) as two:
        c.get(ORDERS, {"view": "all"})
    for _ in range(8):
        issued(j, chief, other_officer)
    with CaptureQueriesContext(connection) as ten:
        body = c.get(ORDERS, {"view": "all"}).content.decode()
    assert body.count("data-order=") == 10
    assert len(ten) == len(two)


def test_overdue_orders_are_marked(j):
    chief, officer = j.user("chief"), j.user("officer")
    o = issued(j, chief, officer)
    Order.objects.filter(pk=o.pk).update(due_at=timezone.now() - timedelta(minutes=5))
    body = client_for(chief).get(ORDERS, {"view": "overdue"}).content.decode()
    assert f'data-order="{o.pk}"' in body and "已超时" in body


def test_the_officer_acknowledges_and_completes_on_the_page(j):
    chief, officer = j.user("chief"), j.user("officer")
    o = issued(j, chief, officer)
    c = client_for(officer)
    url = f"{ORDERS}{o.pk}/"
    assert 'id="order-acknowledge"' in c.get(url).content.decode()
    resp = c.post(f"{url}acknowledge", {"version": 1})
    assert resp.status_code == 302 and resp["Location"] == url
    body = c.get(url).content.decode()
    assert 'data-status="acknowledged"' in body and 'id="order-complete-form"' in body
    resp = c.post(f"{url}complete", {"version": 2, "result": "已上门，系噪音纠纷，已调解"})
    assert resp.status_code == 302
    o.refresh_from_db()
    assert o.status == "done" and o.result == "已上门，系噪音纠纷，已调解"
    assert "已上门，系噪音纠纷，已调解" in c.get(url).content.decode()


def test_an_out_of_order_move_shows_a_clear_message(j):
    chief, officer = j.user("chief"), j.user("officer")
    o = issued(j, chief, officer)
    resp = client_for(officer).post(f"{ORDERS}{o.pk}/complete", {"result": "做完了"})
    assert resp.status_code == 409
    assert "尚未签收：请先签收，再报告完成。" in resp.content.decode()
    o.refresh_from_db()
    assert o.status == "issued" and o.version == 1


def test_the_chief_cancels_on_the_page(j):
    chief, officer = j.user("chief"), j.user("officer")
    o = issued(j, chief, officer)
    order_acknowledge(actor=officer, order=o)
    c = client_for(chief)
    assert "撤销警令" in c.get(f"{ORDERS}{o.pk}/").content.decode()
    resp = c.post(f"{ORDERS}{o.pk}/cancel", {"reason": ""})
    assert resp.status_code == 422 and "请填写撤销理由" in resp.content.decode()
    resp = c.post(f"{ORDERS}{o.pk}/cancel", {"reason": "已由其他警力处置"})
    assert resp.status_code == 302
    o.refresh_from_db()
    assert o.status == "cancelled" and o.cancel_reason == "已由其他警力处置"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("resident", 404),
        ("volunteer", 404),
        ("other_officer", 404),
        ("officer", 403),  # an officer of the station, not the one it was given to
        ("chief", 403),
    ],
)
@pytest.mark.parametrize("action", ["acknowledge", "complete", "cancel"])
def test_order_move_matrix(j, other, role, status, action):
    chief, assignee = j.user("chief"), j.user("officer")
    o = issued(j, chief, assignee)
    if action == "complete":
        order_acknowledge(actor=assignee, order=o)
    before = (state(), Order.objects.get(pk=o.pk).status)
    user = chief if role == "chief" else user_for(j, other, role)
    resp = client_for(user).post(f"{ORDERS}{o.pk}/{action}", {"result": "好", "reason": "好"})
    if role == "chief" and action == "cancel":
        assert resp.status_code == 302  # the chief's to cancel
        return
    assert resp.status_code == status
    assert (state(), Order.objects.get(pk=o.pk).status) == before
