"""Triage rules as a table: every rule and every boundary, the grade, and threat words."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from fengqiao.disputes.choices import SEVERITY
from fengqiao.disputes.triage import Facts, colour_for, money, reason_text, threat_words, triage

BASE = Facts(type_code="0601", scale="individual", people_count=2, amount=Decimal(0))


def facts(**changes: object) -> Facts:
    return replace(BASE, **changes)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.mark.parametrize(
    ("changes", "colour", "rules"),
    [
        ({}, "blue", ["ordinary"]),
        # amounts: the two thresholds and their neighbours
        ({"amount": Decimal("9999")}, "blue", ["ordinary"]),
        ({"amount": Decimal("9999.99")}, "blue", ["ordinary"]),
        ({"amount": Decimal("10000")}, "orange", ["amount_orange"]),
        ({"amount": Decimal("99999")}, "orange", ["amount_orange"]),
        ({"amount": Decimal("99999.99")}, "orange", ["amount_orange"]),
        ({"amount": Decimal("100000")}, "red", ["amount_red"]),
        ({"amount": Decimal("120000")}, "red", ["amount_red"]),
        # people involved: 4 is not red, 5 is
        ({"people_count": 4}, "blue", ["ordinary"]),
        ({"people_count": 5}, "red", ["people"]),
        # repeats between the same parties
        ({"repeat_days": 0}, "red", ["repeat"]),
        ({"repeat_days": 89}, "red", ["repeat"]),
        ({"repeat_days": 90}, "red", ["repeat"]),
        ({"repeat_days": 91}, "blue", ["ordinary"]),
        # the other red rules
        ({"violence": True}, "red", ["violence"]),
        ({"death": True}, "red", ["death"]),
        ({"threat_words": ("杀",), "threat_state": "pending"}, "red", ["threat_pending"]),
        ({"threat_words": ("杀",), "threat_state": "confirmed"}, "red", ["threat_confirmed"]),
        ({"threat_words": ("杀",), "threat_state": "dismissed"}, "blue", ["ordinary"]),
        # orange
        ({"channels_involved": 1}, "blue", ["ordinary"]),
        ({"channels_involved": 2}, "orange", ["channels"]),
        ({"special_groups": True}, "orange", ["special_groups"]),
        # yellow
        ({"difficult": True}, "yellow", ["difficult"]),
        # several rules: the most serious colour wins and every reason is listed
        (
            {"difficult": True, "special_groups": True, "amount": Decimal("150000")},
            "red",
            ["amount_red", "special_groups", "difficult"],
        ),
        ({"difficult": True, "channels_involved": 3}, "orange", ["channels", "difficult"]),
    ],
)
def test_colour_rules(changes, colour, rules):
    got, reasons = colour_for(facts(**changes))
    assert got == colour
    assert [r.rule for r in reasons] == rules


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"amount": Decimal("100000")}, "涉及金额100,000元（10万元及以上）"),
        ({"amount": Decimal("12345.5")}, "涉及金额12,345.50元（1万元至10万元）"),
        ({"people_count": 7}, "涉及7人（5人及以上）"),
        ({"repeat_days": 12}, "同一当事人12天内再次发生纠纷（90天内重复纠纷）"),
        ({"channels_involved": 2}, "涉及2个调解渠道或部门"),
        ({"difficult": True}, "疑难复杂纠纷"),
        ({}, "未触发红、橙、黄色预警规则，属一般纠纷"),
        (
            {"threat_words": ("砍", "报复"), "threat_state": "pending"},
            "叙述中出现威胁或暴力字词（砍、报复），待人工确认",
        ),
    ],
)
def test_reasons_are_chinese_sentences(changes, text):
    result = triage(facts(**changes))
    assert result.texts == [text]
    # stored as rule and parameters, rendered again in the active language
    stored = result.reasons_json()[0]
    assert reason_text(stored["rule"], stored["params"]) == text


@pytest.mark.parametrize(
    ("changes", "grade"),
    [
        ({"type_code": "0201"}, "trivia"),  # a neighbour matter, nothing at stake
        ({"type_code": "0299"}, "trivia"),
        ({"type_code": "0201", "amount": Decimal("500")}, "civil"),  # money involved
        ({"type_code": "0201", "scale": "group", "people_count": 3}, "civil"),
        ({"type_code": "0201", "difficult": True}, "civil"),  # yellow is not trivia
        ({"type_code": "0201", "special_groups": True}, "civil"),
        ({"type_code": "0101"}, "civil"),  # family, not neighbours
        ({"type_code": "0601", "amount": Decimal("50000")}, "civil"),
        ({"type_code": "0201", "violence": True}, "major"),  # red is major
        ({"type_code": "0703", "amount": Decimal("120000")}, "major"),
        ({"scale": "major_group", "people_count": 4}, "major"),  # 重大群体 even when not red
    ],
)
def test_grade_rules(changes, grade):
    assert triage(facts(**changes)).grade == grade


def test_money_is_written_as_reports_write_it():
    assert money(Decimal("100000.00")) == "100,000"
    assert money(Decimal("1234.5")) == "1,234.50"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("他说要杀了我全家", ["杀"]),
        ("他說要殺了我全家", ["杀"]),  # traditional
        ("揚言要報復，還要同歸於盡", ["报复", "同归于尽"]),
        ("扬言要报复，还要同归于尽", ["报复", "同归于尽"]),
        ("威脅要放火燒房子，再跳樓", ["威胁", "放火", "跳楼"]),
        ("拿着菜刀说要砍人，弄死你", ["菜刀", "砍", "弄死"]),
        ("喝醉后说要打死对方", ["打死"]),  # the longer word, not a piece of it
        ("双方在工地打架斗殴", ["打架", "斗殴"]),
        ("两家因漏水争吵", []),
        ("买菜时砍价发生口角，说他秒杀抢了名额", []),  # everyday phrases threaten nobody
        ("油炸摊油烟扰民", []),
        ("", []),
    ],
)
def test_threat_words(text, words):
    assert threat_words(text) == words


def test_threat_words_are_reported_once_in_order():
    assert threat_words("杀杀杀，报复，杀") == ["杀", "报复"]


def test_reasons_follow_the_interface_language():
    result = triage(facts(amount=Decimal("100000"), difficult=True))
    with translation.override("en"):
        assert result.texts == [
            "Amount involved RMB 100,000 (100,000 or more)",
            "Difficult dispute",
        ]


@given(
    a=st.decimals(min_value=0, max_value=10**9, places=2),
    b=st.decimals(min_value=0, max_value=10**9, places=2),
    people=st.integers(min_value=1, max_value=50),
    difficult=st.booleans(),
)
def test_more_money_never_lowers_the_colour(a, b, people, difficult):
    low, high = sorted((a, b))
    colour_low, _ = colour_for(facts(amount=low, people_count=people, difficult=difficult))
    colour_high, _ = colour_for(facts(amount=high, people_count=people, difficult=difficult))
    assert SEVERITY[colour_high] >= SEVERITY[colour_low]
