"""GET /places pages by key: every row exactly once, and a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fengqiao.areas.models import Place, PlaceKind
from fengqiao.core.pagination import encode_cursor
from fengqiao.core.search import search_index
from fengqiao.core.text import search_document
from fengqiao.factories import api_client

pytestmark = pytest.mark.django_db


def make_places(j, n: int, *, start: int = 0) -> list[Place]:
    """Create `n` places spread over the grids and two kinds, in one insert."""
    kinds = [PlaceKind.objects.get(code="hotel"), PlaceKind.objects.get(code="small_shop")]
    rows = []
    for i in range(start, start + n):
        grid = j.grids[i % 4]
        name = f"场所{i:04d}" + ("旅馆" if i % 3 == 0 else "商店")
        rows.append(
            Place(
                station=j.station,
                community_id=grid.parent_id,
                area=grid,
                kind=kinds[i % 2],
                name=name,
                address=f"测试路{i}号",
                lat=grid.centroid_lat,
                lng=grid.centroid_lng,
                contact_phone=f"138{i:08d}",
                search_text=search_document(name, f"测试路{i}号"),
            )
        )
    made = Place.objects.bulk_create(rows)
    search_index(label="areas.place", rows=[(p.pk, p.search_text) for p in made], fresh=True)
    return made


def walk(client, limit: int, **params) -> tuple[list[int], int]:
    """Follow next_cursor to the end; return the ids in order and the number of pages."""
    ids: list[int] = []
    pages = 0
    cursor = None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        resp = client.get("/api/v1/places", query)
        assert resp.status_code == 200, resp.content
        body = resp.json()
        pages += 1
        assert len(body["items"]) <= limit
        ids.extend(p["id"] for p in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, pages
        assert pages < 1000, "the walk does not end"


@pytest.mark.parametrize("limit", [1, 7, 50, 200])
def test_walking_the_pages_returns_every_row_exactly_once(j, limit):
    make_places(j, 123)
    client = api_client(j.user("officer"))
    ids, pages = walk(client, limit)
    expected = list(
        Place.objects.filter(station=j.station).order_by("-id").values_list("id", flat=True)
    )
    assert ids == expected  # every row, once, newest first
    assert pages == -(-len(expected) // limit)


def test_walking_a_filtered_list_returns_exactly_the_matches(j):
    make_places(j, 90)
    client = api_client(j.user("officer"))
    hotels = set(Place.objects.filter(kind__code="hotel").values_list("id", flat=True))
    ids, _pages = walk(client, 8, kind="hotel")
    assert len(ids) == len(set(ids)) and set(ids) == hotels
    named = set(Place.objects.filter(name__contains="旅馆").values_list("id", flat=True))
    ids, _pages = walk(client, 8, q="旅馆", community=j.communities[0].pk)
    community = set(Place.objects.filter(community=j.communities[0]).values_list("id", flat=True))
    assert set(ids) == named & community and len(ids) == len(set(ids))


def test_rows_added_during_the_walk_neither_repeat_nor_shift_rows(j):
    make_places(j, 30)
    client = api_client(j.user("officer"))
    first = client.get("/api/v1/places", {"limit": 10}).json()
    make_places(j, 5, start=1000)  # newer rows land before the cursor, not after it
    seen = [p["id"] for p in first["items"]]
    ids, _pages = walk_from(client, first["next_cursor"], 10)
    seen += ids
    assert len(seen) == len(set(seen)) == 30


def walk_from(client, cursor: str, limit: int) -> tuple[list[int], int]:
    ids: list[int] = []
    pages = 0
    while cursor:
        body = client.get("/api/v1/places", {"limit": limit, "cursor": cursor}).json()
        ids.extend(p["id"] for p in body["items"])
        cursor = body["next_cursor"]
        pages += 1
    return ids, pages


def test_a_cursor_built_for_any_id_starts_just_below_it(j):
    made = make_places(j, 20)
    pivot = sorted(p.pk for p in made)[10]
    client = api_client(j.user("officer"))
    body = client.get("/api/v1/places", {"limit": 3, "cursor": encode_cursor([pivot])}).json()
    assert [p["id"] for p in body["items"]] == [pivot - 1, pivot - 2, pivot - 3]


def count_queries(client, params: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get("/api/v1/places", params)
    assert resp.status_code == 200
    return len(ctx.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_page(j, django_assert_max_num_queries):
    make_places(j, 220)
    client = api_client(j.user("officer"))
    client.get("/api/v1/places")  # the token's first use records last_used_at once
    small = count_queries(client, {"limit": 1})
    full = count_queries(client, {"limit": 200})
    filtered = count_queries(
        client, {"limit": 200, "kind": "hotel", "q": "商店", "community": j.communities[0].pk}
    )
    assert small == full
    # a search adds one index lookup per bigram of each term ("商店": one), never per row
    assert filtered == full + 1
    # token + memberships (the scope) + the page itself
    with django_assert_max_num_queries(3):
        client.get("/api/v1/places", {"limit": 200})


def test_a_session_caller_costs_the_same_queries(j):
    make_places(j, 60)
    client = api_client(None)
    client.force_login(j.user("chief"))
    small = count_queries(client, {"limit": 1})
    full = count_queries(client, {"limit": 60})
    assert small == full
