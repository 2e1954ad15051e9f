"""Place list filters that cannot be read are an error that lists nothing, never everything."""

from __future__ import annotations

import pytest

from fengqiao.factories import place

from .places_kit import login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"grid": "abc"}, "grid", "网格不存在"),
        ({"community": "zz"}, "community", "社区/村不存在"),
        ({"kind": "spaceport"}, "kind", "没有这种场所类型"),
        ({"grid": "999999999"}, "grid", "网格不存在"),
    ],
)
def test_an_unreadable_filter_is_shown_and_lists_nothing(client, j, params, field, message):
    # given a place the officer can see
    p = place(j, name="枫桥宾馆")
    c = login(client, j.user("officer"))
    # when the list is asked for with a filter that names nothing
    resp = c.get("/areas/places/", params)
    # then the page says what is wrong and lists no place
    assert resp.status_code == 200
    html = resp.content.decode()
    assert message in html and 'id="filter-errors"' in html
    assert field in resp.context["form"].errors
    assert f"/areas/places/{p.pk}/" not in html
    assert "清除筛选" in html


def test_a_community_or_grid_of_another_station_is_an_error(client, j, other):
    place(j, name="枫桥宾馆")
    c = login(client, j.user("officer"))
    resp = c.get("/areas/places/", {"community": other.communities[0].pk})
    assert "community" in resp.context["form"].errors
    resp = c.get("/areas/places/", {"grid": other.grids[0].pk})
    assert "grid" in resp.context["form"].errors
    assert resp.context["page"].items == []


def test_a_grid_outside_the_chosen_community_says_so(client, j):
    c = login(client, j.user("officer"))
    resp = c.get("/areas/places/", {"community": j.communities[1].pk, "grid": j.grids[0].pk})
    assert "不属于所选的社区/村" in resp.content.decode()


def test_good_filters_still_list(client, j):
    p = place(j, name="枫桥宾馆", grid=2)
    c = login(client, j.user("officer"))
    params = {"kind": "hotel", "community": j.communities[1].pk, "grid": j.grids[2].pk}
    resp = c.get("/areas/places/", params)
    assert not resp.context["form"].errors
    assert f"/areas/places/{p.pk}/" in resp.content.decode()


def test_an_export_with_unreadable_filters_goes_back_to_the_list(client, j):
    place(j, name="枫桥宾馆")
    c = login(client, j.user("officer"))
    resp = c.get("/areas/places/export.xlsx", {"grid": "abc"})
    assert resp.status_code == 302
    assert resp["Location"] == "/areas/places/?grid=abc"
