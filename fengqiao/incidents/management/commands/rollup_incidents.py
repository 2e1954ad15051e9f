"""Rebuild the incident rollups (daily, hourly, monthly) from the incident table."""

from __future__ import annotations

from datetime import date

from fengqiao.areas.station_command import StationSpanCommand
from fengqiao.incidents.rollups import rollup_rebuild


class Command(StationSpanCommand):
    help = (
        "Rebuild the incident rollups from the incident table: after a bulk load or a restore. "
        "Every day unless --from/--to; every station unless --station is given."
    )

    def rebuild(self, station_ids: list[int] | None, start: date | None, end: date | None) -> str:
        written = rollup_rebuild(station_ids=station_ids, first=start, last=end)
        stations = "every station" if station_ids is None else len(station_ids)
        return f"Rebuilt {stations}: {written} daily rows"
