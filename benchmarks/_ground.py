"""The benchmark jurisdiction: one district, its stations, their communities and grids."""

from __future__ import annotations

import os
from typing import Any


def district_tree(
    prefix: str, stations: int, communities: int, grids: int
) -> tuple[Any, list[int], dict[int, list[tuple[int, int]]]]:
    """Create the tree; return the district, station ids and each station's (grid, community)."""
    from fengqiao.areas.services import area_create

    district = area_create(actor=None, code=f"{prefix}D", name="基准分局", kind="district")
    ids: list[int] = []
    cells: dict[int, list[tuple[int, int]]] = {}
    for s in range(stations):
        code = f"{prefix}S{s:03d}"
        station = area_create(
            actor=None, code=code, name=f"基准派出所{s}", kind="station", parent=district
        )
        ids.append(station.pk)
        cells[station.pk] = []
        for c in range(communities):
            community = area_create(
                actor=None,
                code=f"{code}-C{c}",
                name=f"社区{s}-{c}",
                kind="community",
                parent=station,
            )
            for g in range(grids):
                grid = area_create(
                    actor=None,
                    code=f"{code}-C{c}-G{g}",
                    name=f"网格{s}-{c}-{g}",
                    kind="grid",
                    parent=community,
                )
                cells[station.pk].append((grid.pk, community.pk))
    return district, ids, cells


def loadavg() -> str:
    """Return the load average, printed with every figure: the machine is shared."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"
