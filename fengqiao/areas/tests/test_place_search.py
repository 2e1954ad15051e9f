"""Place search: traditional finds simplified, every term must match, filters and scope."""

from __future__ import annotations

import pytest

from fengqiao.areas.selectors import place_page, place_search
from fengqiao.factories import place

pytestmark = pytest.mark.django_db


def test_a_traditional_query_finds_a_simplified_name(j):
    # given a place named in simplified characters
    hotel = place(j, name="枫桥宾馆")
    place(j, name="金园小卖部", kind="small_shop")
    officer = j.user("officer")
    # when an officer searches in traditional characters
    found = list(place_search(user=officer, q="楓橋"))
    # then the place is found
    assert found == [hotel]
    assert list(place_search(user=officer, q="楓橋賓館")) == [hotel]


def test_every_term_must_match(j):
    a = place(j, name="枫桥宾馆", address="金园路1号")
    place(j, name="枫桥小卖部", kind="small_shop", address="雷锋路2号")
    officer = j.user("officer")
    assert list(place_search(user=officer, q="枫桥 金园")) == [a]


def test_filters_by_kind_community_and_grid(j):
    hotel0 = place(j, name="宾馆甲", grid=0)
    hotel3 = place(j, name="宾馆乙", grid=3)
    shop1 = place(j, name="商店", kind="small_shop", grid=1)
    user = j.user("volunteer")
    assert set(place_search(user=user, kind="hotel")) == {hotel0, hotel3}
    assert set(place_search(user=user, community_id=j.communities[0].pk)) == {hotel0, shop1}
    assert set(place_search(user=user, grid_id=j.grids[3].pk)) == {hotel3}


def test_search_never_reaches_another_station(j, other):
    mine = place(j, name="枫桥宾馆")
    place(other, name="枫桥宾馆")
    assert list(place_search(user=j.user("officer"), q="枫桥")) == [mine]


def test_pages_follow_the_key_newest_first(j):
    made = [place(j, name=f"宾馆{i}") for i in range(5)]
    user = j.user("officer")
    first = place_page(user=user, cursor=None, size=3)
    second = place_page(user=user, cursor=first.next_cursor, size=3)
    assert [p.pk for p in first.items + second.items] == [p.pk for p in reversed(made)]
    assert first.has_next and not second.has_next
