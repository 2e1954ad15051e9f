"""The bigram index returns exactly the rows whose text contains every term."""

from __future__ import annotations

from fengqiao.core.search import _term_grams, text_grams


def test_bigrams_of_the_text_part_only():
    assert text_grams("枫桥 宾馆 | 枫桥") == {"枫桥", "宾馆"}
    assert text_grams("雷锋街道3号 | x") == {"雷锋", "锋街", "街道", "道3", "3号"}


def test_long_terms_use_a_few_spread_bigrams():
    grams = _term_grams("长沙市高新区雷锋街道")
    assert len(grams) == 4 and grams[0] == "长沙" and grams[-1] == "街道"
