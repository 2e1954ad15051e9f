"""Key-based pages: they follow each other by their keys, and a cursor that does not fit the
keys (hand-edited, cut short, from another list) is refused before any query runs."""

from __future__ import annotations

import pytest
from django.http import HttpResponse

from fengqiao.core.audit import audit_record
from fengqiao.core.models import AuditEntry
from fengqiao.core.pagination import BadCursor, BadCursorPages, encode_cursor, keyset_page

pytestmark = pytest.mark.django_db


def _entries(n: int) -> list[AuditEntry]:
    return [audit_record(actor=None, action="test.paged", changes={"n": i}) for i in range(n)]


def test_pages_follow_each_other_by_their_keys():
    # Given five entries, pages of two by the moment and the sequence number, newest first
    made = _entries(5)
    qs = AuditEntry.objects.filter(action="test.paged")
    seen, cursor = [], None
    while True:
        page = keyset_page(qs, order=("-at", "-seq"), cursor=cursor, size=2)
        seen += [e.pk for e in page.items]
        if not page.has_next:
            break
        cursor = page.next_cursor
    # Then every entry comes once, in order, and no cursor is the first page
    assert seen == [e.pk for e in reversed(made)]
    first = keyset_page(qs, order=("-at", "-seq"), cursor="", size=2)
    assert [e.pk for e in first.items] == seen[:2]


def test_a_row_id_key_is_positive_and_another_integer_need_not_be():
    _entries(2)
    qs = AuditEntry.objects.all()
    assert keyset_page(qs, order=("-seq",), cursor=encode_cursor([-1]), size=5).items == []
    with pytest.raises(BadCursor):
        keyset_page(qs, order=("-id",), cursor=encode_cursor([0]), size=5)


@pytest.mark.parametrize(
    ("order", "values"),
    [
        (("-seq",), ["abc"]),  # a text for a number
        (("-seq",), [2**70]),  # beyond a bigint
        (("-seq",), [1.5]),
        (("-seq",), [True]),  # a bool is an int to isinstance, not here
        (("-seq",), [1, 2]),  # two keys for one
        (("-at", "-seq"), ["2026-02-30 10:00:00+00:00", 3]),  # no such moment
        (("-at", "-seq"), ["yesterday", 3]),
        (("-at", "-seq"), [[2026], 3]),
        (("action", "seq"), [7, 3]),  # a number for a text
    ],
)
def test_a_cursor_that_does_not_fit_the_keys_never_reaches_the_database(order, values):
    _entries(1)
    qs = AuditEntry.objects.all()
    with pytest.raises(BadCursor) as err:
        keyset_page(qs, order=order, cursor=encode_cursor(values), size=5)
    assert err.value.status == 422 and err.value.fields == {"cursor": ["无效的游标"]}


@pytest.mark.parametrize("raw", ["%%%", "e30", "bnVsbA"])  # not base64, {}, null
def test_a_cursor_that_is_not_a_list_of_keys_is_refused(raw):
    with pytest.raises(BadCursor):
        keyset_page(AuditEntry.objects.all(), order=("-seq",), cursor=raw, size=5)


@pytest.mark.parametrize(
    ("path", "query", "to"),
    [
        ("/audit/", "?cursor=abc&action=x", "/audit/?action=x"),
        ("/audit/", "?cursor=abc", "/audit/"),
        ("//evil.example/audit/", "?cursor=abc", "/evil.example/audit/"),  # never another host
    ],
)
def test_a_page_with_a_broken_cursor_goes_back_to_its_first_page_on_this_site(rf, path, query, to):
    middleware = BadCursorPages(lambda request: HttpResponse())
    request = rf.get("/audit/" + query)
    request.path = path  # as the server would hand it over, "//" and all
    resp = middleware.process_exception(request, BadCursor())
    assert resp.status_code == 302 and resp["Location"] == to
    # Other errors and other methods are not its business
    assert middleware.process_exception(request, ValueError()) is None
    assert middleware.process_exception(rf.post("/audit/" + query), BadCursor()) is None
