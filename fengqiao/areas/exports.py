"""Export the places a user may see to XLSX: phones masked, every export audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.areas.access import scope_for
from fengqiao.areas.models import Area
from fengqiao.areas.selectors import place_search
from fengqiao.core.audit import audit_record
from fengqiao.core.pii import mask_phone

# The first columns match the import headers, so an edited export can be read back in.
COLUMNS = (
    "名称",
    "类型",
    "地址",
    "纬度",
    "经度",
    "联系人",
    "联系电话",
    "备注",
    "编号",
    "类型编码",
    "社区/村",
    "网格",
    "责任民警",
    "更新时间",
)
CHUNK = 2000


def _rows(qs: Any) -> Iterator[list[Any]]:
    for p in qs.iterator(chunk_size=CHUNK):
        yield [
            p.name,
            p.kind.name,
            p.address,
            p.lat,
            p.lng,
            p.contact_name,
            mask_phone(p.contact_phone),
            p.notes,
            p.pk,
            p.kind.code,
            p.community.name,
            p.area.name,
            str(p.officer) if p.officer else "",
            timezone.localtime(p.updated_at).strftime("%Y-%m-%d %H:%M"),
        ]


def place_export(
    *,
    actor: Any,
    fh: IO[bytes],
    kind: str | None = None,
    community_id: int | None = None,
    grid_id: int | None = None,
    q: str = "",
) -> int:
    """Write the filtered places the actor may see to `fh` as XLSX; return the row count."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    filters: dict[str, Any] = {
        "kind": kind,
        "community_id": community_id,
        "grid_id": grid_id,
        "q": q,
    }
    qs = (
        place_search(user=actor, kind=kind, community_id=community_id, grid_id=grid_id, q=q)
        .select_related("kind", "community", "area", "officer")
        .order_by("-id")
    )
    # write_only streams rows to disk, so memory stays flat however many rows there are.
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_("场所"))
    sheet.append(list(COLUMNS))
    count = 0
    for row in _rows(qs):
        cells: list[Any] = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            # openpyxl turns text starting with "=" into a formula: keep people's text as text.
            if isinstance(value, str):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    book.save(fh)
    # One entry per station the export reached, so each chief sees it in their audit log;
    # a community officer's scope is areas, whose station is looked up.
    scope = scope_for(actor, "place.view")
    stations = set(scope.station_ids) | set(
        Area.objects.filter(pk__in=sorted(scope.area_ids)).values_list("station_id", flat=True)
    )
    targets: list[int | None] = [*sorted(s for s in stations if s is not None)] or [None]
    for station_id in targets:
        audit_record(
            actor=actor,
            action="areas.place.exported",
            object_type="areas.place",
            station_id=station_id,
            changes={"filters": {k: v for k, v in filters.items() if v}, "count": count},
        )
    return count
