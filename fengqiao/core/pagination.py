"""Key-based (seek) pagination: every page costs the same, the first or the ten-thousandth."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from fengqiao.core.errors import ValidationFailed

M = TypeVar("M", bound=models.Model)


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any] | None:
    try:
        pad = "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(cursor + pad))
    except (ValueError, TypeError):
        return None
    return values if isinstance(values, list) else None


def _is_day(value: Any) -> bool:
    """Return whether a cursor's value is the ISO text of a real day (how a date travels)."""
    if type(value) is not str:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


class BadCursor(ValidationFailed):
    """A cursor that is not a key of its list: hand-edited, cut short, or from another list.
    The API answers 422 on the cursor; a page starts again from the top (BadCursorPages)."""

    def __init__(self) -> None:
        super().__init__(_("分页游标无效。"), fields={"cursor": [_("无效的游标")]})


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None
    has_next: bool


_INTEGERS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


def _fits(model: type[models.Model], name: str, value: Any) -> bool:
    """Return whether `value`, read from a cursor, can stand for field `name` of `model`."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # an annotation: any plain JSON value
        return type(value) in (str, int, float)
    kind = field.get_internal_type()
    if kind in _INTEGERS:  # a row id is positive; every integer fits a bigint
        low = 0 if getattr(field, "primary_key", False) else -(2**63)
        return type(value) is int and low < value < 2**63
    if kind == "DateField":
        return _is_day(value)
    if kind == "DateTimeField":
        try:
            return type(value) is str and parse_datetime(value) is not None
        except ValueError:  # well formed, but no such moment (2026-02-30)
            return False
    return type(value) is str


def keyset_page(
    qs: models.QuerySet[M], *, order: tuple[str, ...], cursor: str | None, size: int
) -> Page[M]:
    """Return `size` rows after `cursor`, ordered by `order` (the last key must be unique).

    Keys are field names, descending with a leading '-'; all keys go the same direction. A
    cursor that does not hold one key of each field's type raises BadCursor, so a hand-edited
    one never reaches the database as a query it cannot run.
    """
    desc = order[0].startswith("-")
    names = [o.lstrip("-") for o in order]
    qs = qs.order_by(*order)
    values = decode_cursor(cursor) if cursor else None
    if cursor and (
        values is None
        or len(values) != len(names)
        or not all(_fits(qs.model, n, v) for n, v in zip(names, values, strict=True))
    ):
        raise BadCursor
    if values is not None:
        op = "lt" if desc else "gt"
        cond = Q()
        for i, name in enumerate(names):
            step = Q(**{f"{name}__{op}": values[i]})
            for j in range(i):
                step &= Q(**{names[j]: values[j]})
            cond |= step
        qs = qs.filter(cond)
    rows = list(qs[: size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    nxt = None
    if has_next and rows:
        last = rows[-1]
        nxt = encode_cursor([getattr(last, n) for n in names])
    return Page(items=rows, next_cursor=nxt, has_next=has_next)


class BadCursorPages:
    """Middleware: send a page whose cursor is broken (BadCursor) back to its first page, with
    a word.

    The API answers 422 itself (its DomainError handler); outside /api/ a stale or mangled
    "next page" link should not end on an error page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, BadCursor) or request.method != "GET":
            return None
        query = request.GET.copy()
        query.pop("cursor", None)
        messages.warning(request, _("翻页链接无效，已回到第一页。"), fail_silently=True)
        path = "/" + request.path.lstrip("/")  # never "//host": a path on this site
        return redirect(f"{path}?{query.urlencode()}" if query else path)
