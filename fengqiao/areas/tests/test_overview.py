"""Home and map data: a community officer sees their police grid and their places."""

from __future__ import annotations

import pytest

from fengqiao.areas import selectors
from fengqiao.factories import place

pytestmark = pytest.mark.django_db


def test_a_community_officer_sees_the_police_grid_over_their_grids(j, other):
    officer = j.user("officer", area=j.communities[0])
    overview = selectors.station_overview(user=officer)
    assert overview["police_grids"] == 1
    assert overview["police_grid_rows"][0].grid_count == 2  # the two grids of their community
    layers = selectors.map_layers(user=officer)
    assert len(layers["police_grids"]["features"]) == 1
    assert len(layers["grids"]["features"]) == 2


def test_the_map_says_when_it_draws_only_part_of_the_places(j, monkeypatch):
    monkeypatch.setattr(selectors, "MAP_PLACE_LIMIT", 2)
    for i in range(3):
        place(j, name=f"店{i}")
    layers = selectors.map_layers(user=j.user("chief"))
    assert layers["places_truncated"] is True
    assert len(layers["places"]["features"]) == 2


def test_every_place_kind_is_counted_on_the_home_page(j):
    kinds = [
        "hotel",
        "ktv",
        "small_shop",
        "beauty_bath",
        "school",
        "mall",
        "bar",
        "enterprise",
        "compound",
        "rental_house",
        "chess_room",
        "locksmith",
        "pawnshop",
        "gold_shop",
        "used_phone",
        "small_clinic",
        "internet_cafe",
        "small_eatery",
    ]
    for k in kinds:
        place(j, name=f"{k}名", kind=k)
    overview = selectors.station_overview(user=j.user("chief"))
    assert sum(k["n"] for k in overview["place_kinds"]) == len(kinds)
