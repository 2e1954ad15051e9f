"""Area and place writes: every change is audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _

from fengqiao.areas.access import user_can
from fengqiao.core.audit import audit_record


def pii_reveal(*, actor: Any, obj: models.Model, field: str) -> str:
    """Return the plain value of a personal-data field, recording who read it."""
    station_id = getattr(obj, "station_id", None)
    area_id = getattr(obj, "area_id", None)
    if not user_can(actor, "pii.reveal", station_id=station_id, area_id=area_id):
        raise PermissionDenied(_("您的角色无权查看完整的个人信息。"))
    audit_record(
        actor=actor,
        action=f"{obj._meta.label_lower}.pii_revealed",
        obj=obj,
        changes={"field": field},
    )
    return str(getattr(obj, field) or "")


def _place_in_tree(area: Any) -> None:
    """Set path, depth and station from the parent; the caller saves."""
    from fengqiao.areas.models import PARENT_KINDS, AreaKind

    parent = area.parent
    allowed = PARENT_KINDS[area.kind]
    if (parent.kind if parent else None) not in allowed:
        from fengqiao.core.errors import ValidationFailed

        raise ValidationFailed(
            _("“%(name)s”的上级类型不正确。") % {"name": area.name},
            fields={"parent": ["wrong kind"]},
        )
    area.depth = parent.depth + 1 if parent else 0
    if area.kind == AreaKind.STATION:
        area.station_id = area.pk
    elif parent is not None:
        area.station_id = parent.pk if parent.kind == AreaKind.STATION else parent.station_id
    area.path = f"{parent.path if parent else '/'}{area.pk}/"


def area_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    parent: Any = None,
    zone: str = "",
    boundary: dict | None = None,
    population: int | None = None,
) -> Any:
    """Create an area under `parent`, with its boundary's centroid; audited."""
    from django.db import transaction

    from fengqiao.areas.geo import centroid_of
    from fengqiao.areas.models import Area

    with transaction.atomic():
        area = Area(
            code=code,
            name=name,
            kind=kind,
            parent=parent,
            zone=zone,
            boundary=boundary,
            population=population,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            path="/pending/",
        )
        if boundary:
            area.centroid_lat, area.centroid_lng = centroid_of(boundary)
        area.save()
        _place_in_tree(area)
        area.save(update_fields=["path", "depth", "station"])
        audit_record(
            actor=actor,
            action="areas.area.created",
            obj=area,
            changes={
                "code": code,
                "name": name,
                "kind": kind,
                "parent": parent.pk if parent else None,
            },
        )
    return area
