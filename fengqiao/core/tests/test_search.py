"""The bigram index returns exactly the rows whose text contains every term."""

from __future__ import annotations

import pytest

from fengqiao.core.search import _term_grams, text_grams


def test_bigrams_of_the_text_part_only():
    assert text_grams("枫桥 宾馆 | 枫桥") == {"枫桥", "宾馆"}
    assert text_grams("雷锋街道3号 | x") == {"雷锋", "锋街", "街道", "道3", "3号"}


def test_long_terms_use_a_few_spread_bigrams():
    grams = _term_grams("长沙市高新区雷锋街道")
    assert len(grams) == 4 and grams[0] == "长沙" and grams[-1] == "街道"


@pytest.mark.django_db
def test_search_matches_substrings_exactly_and_folds_traditional(j):
    from fengqiao.areas.models import Place
    from fengqiao.areas.selectors import place_search
    from fengqiao.factories import place

    a = place(j, name="枫桥宾馆", address="雷锋街道金园路3号")
    b = place(j, name="桥枫旅馆", address="金园路5号")  # same characters, other order
    c = place(j, name="钟楼小卖部", address="钟楼街1号")
    officer = j.user("officer")

    def ids(q: str) -> set[int]:
        return set(place_search(user=officer, q=q).values_list("pk", flat=True))

    assert ids("枫桥") == {a.pk}
    assert ids("楓橋") == {a.pk}  # traditional finds simplified
    assert ids("金园路") == {a.pk, b.pk}
    assert ids("钟楼") == {c.pk}
    assert ids("金园路 宾馆") == {a.pk}
    assert ids("桥") == {a.pk, b.pk}  # one character: scanned, still right
    assert ids("不存在") == set()
    assert Place.objects.count() == 3
