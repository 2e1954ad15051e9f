"""Key-based (seek) pagination: every page costs the same, the first or the ten-thousandth."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models import Q
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


def _key_holds(value: Any, kind: type) -> bool:
    if kind is date:  # a day travels as its ISO text
        if type(value) is not str:
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if type(value) is not kind:
        return False
    return kind is not int or 0 < value < 2**63


def cursor_holds(raw: str, types: tuple[type, ...] = (int,)) -> bool:
    """Return whether the cursor decodes to one key of each of `types`, in order: an int key
    is a row id (positive, within a bigint), a `date` key the ISO text of a real day."""
    values = decode_cursor(raw)
    return (
        values is not None
        and len(values) == len(types)
        and all(_key_holds(v, t) for v, t in zip(values, types, strict=True))
    )


def api_cursor(raw: str | None, types: tuple[type, ...] = (int,)) -> str | None:
    """Return the API's cursor if it holds keys of `types`, None when there is none; refuse
    any other (422): a client that sends a broken cursor is told, not sent back to page one."""
    if not raw:
        return None
    if not cursor_holds(raw, types):
        raise ValidationFailed(_("分页游标无效。"), fields={"cursor": [_("无效的游标")]})
    return raw


def page_cursor(raw: str | None, types: tuple[type, ...] = (int,)) -> str | None:
    """Return a page's cursor if it holds keys of `types`, else None: a browser with a stale
    or mangled link starts again from the first page."""
    return raw if raw and cursor_holds(raw, types) else None


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None
    has_next: bool


def keyset_page(
    qs: models.QuerySet[M], *, order: tuple[str, ...], cursor: str | None, size: int
) -> Page[M]:
    """Return `size` rows after `cursor`, ordered by `order` (the last key must be unique).

    Keys are field names, descending with a leading '-'; all keys go the same direction.
    """
    desc = order[0].startswith("-")
    names = [o.lstrip("-") for o in order]
    qs = qs.order_by(*order)
    values = decode_cursor(cursor) if cursor else None
    if values is not None and len(values) == len(names):
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
