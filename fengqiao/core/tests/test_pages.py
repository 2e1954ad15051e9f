"""Health, and the Chinese error pages."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

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
