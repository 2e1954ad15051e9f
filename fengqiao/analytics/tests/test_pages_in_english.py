"""The incident and command-room pages in English: category names, phrases, stored briefings."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import openpyxl
import pytest
from django.test import Client

from fengqiao.analytics.models import Briefing
from fengqiao.analytics.tests.test_briefing_pages import morning
from fengqiao.analytics.tests.test_dashboard_pages import PERIOD, seed

pytestmark = pytest.mark.django_db


def client_in(j: Any, language: str) -> Client:
    c = Client()
    c.force_login(j.user("chief"))
    c.cookies["django_language"] = language
    return c


def text(response: Any) -> str:
    """Return the page's visible text, tags and scripts dropped, spaces collapsed."""
    html = re.sub(r"(?s)<script.*?</script>", " ", response.content.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_incident_list_names_categories_in_the_interface_language(j):
    seed(j)
    en = text(client_in(j, "en").get("/incidents/"))
    assert "Burglary 100101" in en
    assert "100401 Telecom and online fraud" in en  # the filter's option
    assert "入室盗窃" not in en
    zh = text(client_in(j, "zh-hans").get("/incidents/"))
    assert "入室盗窃 100101" in zh


def test_intake_form_offers_english_classes_and_categories(j):
    en = text(client_in(j, "en").get("/incidents/new/"))
    assert "100000 Criminal" in en
    assert "100101 Burglary" in en
    assert "刑事" not in en


def test_dashboard_reads_whole_phrases_in_english_and_keeps_the_chinese(j):
    seed(j)
    response = client_in(j, "en").get("/analytics/dashboard/", PERIOD)
    en = text(response)
    assert "Grids without incidents (2):" in en
    assert "S1社区0网格1, S1社区1网格1" in en
    assert "(0 follow-ups)" in en
    assert "Mon Tue Wed Thu Fri Sat Sun" in en
    assert "Criminal 8 4 +100.0%" in en  # the class table
    assert "Burglary 5" in en  # a headline card
    names = re.search(r'id="category-names"[^>]*>(.*?)</script>', response.content.decode())
    assert names and json.loads(names.group(1))["入室盗窃"] == "Burglary"
    zh = text(client_in(j, "zh-hans").get("/analytics/dashboard/", PERIOD))
    assert "零警情网格（2）：" in zh
    assert "S1社区0网格1、S1社区1网格1" in zh
    assert "（回访 0 件）" in zh
    assert "周一 周二 周三 周四 周五 周六 周日" in zh
    assert "刑事 8 4 +100.0%" in zh


def test_hotspot_filter_and_legend_in_english(j):
    en = text(client_in(j, "en").get("/analytics/hotspots/"))
    assert "All groups Criminal Public order" in en
    assert "New hotspot (0)" in en
    assert "End date" in en
    zh = text(client_in(j, "zh-hans").get("/analytics/hotspots/"))
    assert "新增热点（0）" in zh


def test_stored_briefing_is_worded_at_display_and_left_as_stored(j):
    briefing = morning(j)
    en = text(client_in(j, "en").get(f"/analytics/briefings/{briefing.pk}/"))
    assert "Burglary" in en and "Fighting" in en
    assert "Call received" in en
    assert "Criminal" in en and "Public order" in en
    stored = Briefing.objects.get(pk=briefing.pk).content
    assert {r["category"] for r in stored["overnight"]["rows"]} == {"入室盗窃", "打架斗殴"}
    response = client_in(j, "en").get(f"/analytics/briefings/{briefing.pk}.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(response.getvalue()))
    rows = list(wb.worksheets[1].iter_rows(values_only=True))
    assert {r[2] for r in rows[1:]} == {"Burglary", "Fighting"}
    assert {r[5] for r in rows[1:]} == {"Call received"}
