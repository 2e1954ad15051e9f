"""Core reads: the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fengqiao.core.models import AuditEntry
from fengqiao.core.pagination import Page, keyset_page


def audit_page(
    *,
    station_ids: Iterable[int] | None,
    cursor: str | None,
    action: str = "",
    size: int = 50,
) -> Page[AuditEntry]:
    """Return a page of audit entries of the given stations (None: all), newest first."""
    qs = AuditEntry.objects.select_related("actor")
    if station_ids is not None:
        qs = qs.filter(station_id__in=sorted(station_ids))
    if action:
        qs = qs.filter(action__startswith=action)
    return keyset_page(qs, order=("-seq",), cursor=cursor, size=size)


def object_timeline(*, obj: Any, limit: int = 100) -> list[AuditEntry]:
    """Return the audit entries of one object, newest first."""
    return list(
        AuditEntry.objects.filter(
            object_type=obj._meta.label_lower, object_id=str(obj.pk)
        ).select_related("actor")[:limit]
    )
