"""Page cursors: what a page or an API accepts as a cursor, and what it does with the rest."""

from __future__ import annotations

from datetime import date

import pytest

from fengqiao.core.errors import ValidationFailed
from fengqiao.core.pagination import api_cursor, cursor_holds, encode_cursor, page_cursor


@pytest.mark.parametrize(
    ("values", "types", "holds"),
    [
        ([42], (int,), True),
        ([2**63 - 1], (int,), True),
        (["2026-12-01", 7], (date, int), True),
        (["2026-02-30", 7], (date, int), False),  # no such day
        (["yesterday", 7], (date, int), False),
        ([20261201, 7], (date, int), False),
        ([0], (int,), False),  # ids start at 1
        ([-3], (int,), False),
        ([2**63], (int,), False),  # beyond a bigint: the database would refuse it
        (["42"], (int,), False),
        ([True], (int,), False),  # a bool is an int to isinstance, not here
        ([4.0], (int,), False),
        ([1, 2], (int,), False),
        ([7, "2026-12-01"], (date, int), False),
        (["x"], (str,), True),
    ],
)
def test_a_cursor_holds_exactly_its_keys(values, types, holds):
    assert cursor_holds(encode_cursor(values), types) is holds


@pytest.mark.parametrize("raw", ["!!!", "e30", encode_cursor(["x"]), "bnVsbA"])
def test_an_api_refuses_a_broken_cursor_and_a_page_starts_again(raw):
    # Given a cursor that is not base64, a JSON object, a string key, JSON null
    # Then the API says so (422 on the cursor field) and a page goes back to the first page
    with pytest.raises(ValidationFailed) as err:
        api_cursor(raw)
    assert err.value.fields == {"cursor": ["无效的游标"]}
    assert page_cursor(raw) is None


def test_no_cursor_is_the_first_page_and_a_good_one_passes_through():
    good = encode_cursor([17])
    assert api_cursor(None) is None and api_cursor("") is None
    assert page_cursor(None) is None
    assert api_cursor(good) == good == page_cursor(good)
