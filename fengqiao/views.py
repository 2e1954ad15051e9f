"""Site-wide pages that draw on several apps: home, the audit log, the reveal of personal data."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from fengqiao.areas.access import access_place, scope_for, user_can
from fengqiao.areas.selectors import station_overview
from fengqiao.areas.services import pii_reveal
from fengqiao.core.models import AuditEntry
from fengqiao.core.selectors import audit_page
from fengqiao.disputes.access import access_mediator, access_party
from fengqiao.incidents.access import access_incident

# Aggregates whose personal data may be revealed, each with the access check that guards it.
REVEALABLE: dict[str, Callable[..., Any]] = {
    "areas.place": access_place,
    "disputes.party": access_party,
    "disputes.mediator": access_mediator,
    "incidents.incident": access_incident,
}

# On the audit page a change value is cut to this many characters and the whole entry to this
# many changes; the rest opens on a tap. A boundary edit holds kilobytes of GeoJSON, and shown
# in full it made the page millions of pixels tall on a phone.
CHANGE_PREVIEW_CHARS = 120
CHANGES_SHOWN = 4


@dataclass(frozen=True)
class ChangeLine:
    key: str
    text: str
    preview: str

    @property
    def cut(self) -> bool:
        return self.preview != self.text


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    shown: list[ChangeLine]
    more: list[ChangeLine]


def _change_lines(changes: Any) -> list[ChangeLine]:
    items = changes.items() if isinstance(changes, dict) else [("", changes)]
    lines = []
    for key, value in items:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        preview = text
        if len(text) > CHANGE_PREVIEW_CHARS:
            preview = text[: CHANGE_PREVIEW_CHARS - 1] + "…"
        lines.append(ChangeLine(key=str(key), text=text, preview=preview))
    return lines


def _audit_row(entry: AuditEntry) -> AuditRow:
    lines = _change_lines(entry.changes)
    return AuditRow(entry=entry, shown=lines[:CHANGES_SHOWN], more=lines[CHANGES_SHOWN:])


@login_required
def home(request: HttpRequest) -> HttpResponse:
    from fengqiao.disputes.selectors import dispute_overview

    disputes = None
    if user_can(request.user, "dispute.view"):
        disputes = dispute_overview(user=request.user)
    context = {"overview": station_overview(user=request.user), "disputes": disputes}
    return render(request, "home.html", context)


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user, "audit.view")
    if scope.empty:
        raise PermissionDenied
    page = audit_page(
        station_ids=None if scope.everything else scope.station_ids,
        cursor=request.GET.get("cursor"),
        action=request.GET.get("action", "").strip(),
    )
    rows = [_audit_row(e) for e in page.items]
    return render(request, "audit_list.html", {"page": page, "rows": rows})


@login_required
@require_POST
def reveal(request: HttpRequest, label: str, pk: int, field: str) -> HttpResponse:
    """Show one personal-data value unmasked, after an audited check of the user's role."""
    access = REVEALABLE.get(label)
    if access is None:
        raise Http404
    obj = access(request.user, pk, action="view")
    if field not in getattr(type(obj), "pii_fields", {}):
        raise Http404
    value = pii_reveal(actor=request.user, obj=obj, field=field)
    return render(request, "_revealed.html", {"value": value})
