"""Place search through the bigram index returns exactly the rows that contain every term."""

from __future__ import annotations

import pytest


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
