"""Health, and the Chinese error pages."""

from __future__ import annotations

import os

import pytest
from django.test import RequestFactory

from fengqiao.core.models import AuditEntry
from fengqiao.core.views import error_500

pytestmark = pytest.mark.django_db


def test_healthz(client):
    assert client.get("/healthz").json() == {"ok": True}


def test_404_is_a_chinese_page(client):
    resp = client.get("/no-such-page/")
    assert resp.status_code == 404
    body = resp.content.decode()
    assert "页面不存在" in body and 'lang="zh-CN"' in body


def test_500_page_stands_alone_in_chinese():
    resp = error_500(RequestFactory().get("/"))
    assert resp.status_code == 500 and "服务器出错了" in resp.content.decode()


def test_unknown_api_path_answers_json_not_html(client):
    resp = client.get("/api/v1/no-such-endpoint")
    assert resp.status_code == 404
    assert resp.json() == {"code": "not_found", "message": "未找到，或无权访问", "fields": {}}


def test_an_english_browser_still_gets_chinese_until_the_user_switches(client):
    resp = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-CN"' in resp.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    resp = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert 'lang="en"' in resp.content.decode()


def test_an_oversized_upload_is_refused_before_it_is_read(client, settings):
    settings.FENGQIAO_MAX_UPLOAD_BYTES = 1000
    body = b"x" * 200_000
    resp = client.generic(
        "POST", "/areas/places/import/", body, content_type="application/octet-stream"
    )
    assert resp.status_code == 413 and "文件过大" in resp.content.decode()
    resp = client.generic("POST", "/api/v1/places", body, content_type="application/json")
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"


# The lines settings.py is to carry; until then these tests put them in themselves.
CSRF_FAILURE_VIEW = "fengqiao.core.views.csrf_failure"
ERROR_PAGES_MIDDLEWARE = "fengqiao.core.errorpages.method_not_allowed_page"


@pytest.fixture
def error_pages(settings):
    """Settings with the CSRF failure view and the 405 middleware wired in."""
    settings.CSRF_FAILURE_VIEW = CSRF_FAILURE_VIEW
    if ERROR_PAGES_MIDDLEWARE not in settings.MIDDLEWARE:
        stack = list(settings.MIDDLEWARE)
        stack.insert(
            stack.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
            ERROR_PAGES_MIDDLEWARE,
        )
        settings.MIDDLEWARE = stack
    return settings


def test_a_form_with_a_stale_csrf_token_gets_a_chinese_page_in_the_site_template(error_pages, j):
    from django.test import Client

    officer = j.user("officer")
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    resp = client.post(
        "/accounts/profile/",
        {"name": "手机", "days": 30},
        HTTP_REFERER="http://testserver/accounts/profile/",
    )
    body = resp.content.decode()
    assert resp.status_code == 403
    assert "页面已过期或来源不明，请刷新页面后重试" in body
    assert 'lang="zh-CN"' in body and 'class="navbar' in body  # the site's own page
    assert 'href="http://testserver/accounts/profile/"' in body
    assert not AuditEntry.objects.filter(action="accounts.token.issued").exists()
    assert "csrftoken" in resp.cookies  # a fresh token, so that the reload works


def test_the_csrf_page_does_not_link_back_to_a_foreign_site(error_pages, j):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    resp = client.post(
        "/accounts/login/",
        {"username": "x", "password": "y"},
        HTTP_REFERER="https://evil.example/phish",
    )
    assert resp.status_code == 403
    assert "evil.example" not in resp.content.decode()


def test_a_csrf_failure_under_the_api_is_json(error_pages, j):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(j.user("officer"))
    resp = client.post("/api/v1/areas/locate", {}, content_type="application/json")
    assert resp.status_code == 403 and resp.json()["code"] == "csrf_failed"  # never HTML


@pytest.mark.parametrize("path", ["/accounts/logout/", "/pii/areas.place/1/phone/reveal"])
def test_opening_a_post_only_page_by_get_shows_a_chinese_405_page(error_pages, client, j, path):
    client.force_login(j.user("officer"))
    resp = client.get(path)
    body = resp.content.decode()
    assert resp.status_code == 405 and "POST" in resp["Allow"]
    assert "此地址不能直接打开" in body and 'class="navbar' in body


def test_the_405_page_leaves_the_api_alone(error_pages, client):
    resp = client.delete("/api/v1/areas")
    assert resp.status_code == 405 and resp.json()["code"] == "method_not_allowed"


def _boundary_edits(j, n: int = 50) -> None:
    """Entries as area_update writes them: old and new GeoJSON, kilobytes each, and a centroid."""
    from fengqiao.core.audit import audit_record

    ring = [[112.9 + i / 1000, 28.2 + i / 1000] for i in range(120)]
    polygon = {"type": "Polygon", "coordinates": [ring]}
    for i in range(n):
        audit_record(
            actor=None,
            action="areas.area.updated",
            object_type="areas.area",
            object_id=str(i),
            station_id=j.station.pk,
            changes={
                "boundary": [polygon, polygon],
                "centroid_lat": [28.2, 28.2 + i / 1000],
                "centroid_lng": [112.9, 112.9 + i / 1000],
            },
        )


def test_the_audit_page_cuts_long_values_and_folds_extra_changes(
    client, j, django_assert_max_num_queries
):
    from fengqiao.core.audit import audit_record

    chief = j.user("chief")
    _boundary_edits(j, 3)
    audit_record(
        actor=chief,
        action="areas.place.updated",
        object_type="areas.place",
        object_id="1",
        station_id=j.station.pk,
        changes={f"field{i}": [f"旧{i}", f"新{i}"] for i in range(6)},
    )
    client.force_login(chief)
    with django_assert_max_num_queries(12):
        resp = client.get("/audit/")
    rows = resp.context["rows"]
    boundary = rows[1].shown[0]
    assert boundary.key == "boundary" and boundary.cut and len(boundary.preview) == 120
    assert '"Polygon"' in boundary.text and len(boundary.text) > 5000  # JSON, whole
    body = resp.content.decode()
    assert body.count('class="audit-full"') == 3  # the whole value, inside <details>
    assert [c.key for c in rows[0].shown] == ["field0", "field1", "field2", "field3"]
    assert [c.key for c in rows[0].more] == ["field4", "field5"]
    assert "另有 2 项变更" in body


@pytest.mark.parametrize("role", ["officer", "volunteer", "mediator"])
def test_only_a_chief_opens_the_audit_page(client, j, role):
    client.force_login(j.user(role))
    assert client.get("/audit/").status_code == 403


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_audit_page_is_readable_on_a_360_pixel_phone(page, j):
    from conftest import browser_login

    chief = j.user("chief")
    _boundary_edits(j)
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, chief.username)
    page.wait_for_url("**/")

    page.goto("/audit/")
    height = page.evaluate("document.documentElement.scrollHeight")
    width = page.evaluate("document.documentElement.scrollWidth")
    shots = os.environ.get("FENGQIAO_SCREENSHOTS")  # a folder, for a person to look at
    if shots:
        page.screenshot(path=f"{shots}/audit-360.png")
    assert page.locator("[data-audit-entry]").count() == 50
    assert height < 6000, f"the audit page is {height} px tall at 360 px wide"
    assert width <= 360, f"the audit page scrolls sideways: {width} px wide"

    # A cut value opens in full on a tap, in a box that still does not widen the page.
    page.locator("[data-audit-entry] summary").first.click()
    full = page.locator("[data-audit-entry] .audit-full").first
    assert full.is_visible() and '"Polygon"' in full.inner_text()
    if shots:
        page.screenshot(path=f"{shots}/audit-360-open.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_form_fields_show_a_hidden_fields_error_named_above_the_form():
    from django import forms
    from django.template.loader import render_to_string

    class Form(forms.Form):
        name = forms.CharField(label="名称")
        station = forms.IntegerField(label="派出所", widget=forms.HiddenInput)
        version = forms.IntegerField(widget=forms.HiddenInput)

    form = Form({"name": "甲", "station": "x", "version": ""})
    html = render_to_string("_form_fields.html", {"form": form})
    assert 'data-hidden-field="station"' in html
    assert f"<strong>派出所</strong>：{form.errors['station'][0]}" in html
    assert f"<strong>version</strong>：{form.errors['version'][0]}" in html  # unlabelled: its name
    assert html.index("data-hidden-field") < html.index('name="name"')  # above the fields
    assert "data-hidden-field" not in render_to_string(
        "_form_fields.html", {"form": Form({"name": "甲", "station": 1, "version": 2})}
    )


def test_the_home_page_lists_every_place_kind_it_is_given(rf, j):
    from django.template.loader import render_to_string

    kinds = [{"kind__code": f"k{i}", "kind__name": f"类{i}", "n": 40 - i} for i in range(33)]
    request = rf.get("/")
    request.user = j.user("chief")
    overview = {"stations": [], "place_kinds": kinds, "places": 33}
    html = render_to_string("home.html", {"overview": overview}, request=request)
    assert all(f'?kind=k{i}"' in html for i in range(33))
