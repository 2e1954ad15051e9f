"""Rebuild the dispute rollups (daily and monthly) from the case tables."""

from __future__ import annotations

from datetime import date

from fengqiao.areas.station_command import StationSpanCommand
from fengqiao.disputes.rollups import rollup_rebuild


class Command(StationSpanCommand):
    help = (
        "Rebuild the dispute rollups from the case tables: after a bulk load or a restore. "
        "Whole months; every station unless --station is given."
    )

    def rebuild(self, station_ids: list[int] | None, start: date | None, end: date | None) -> str:
        result = rollup_rebuild(station_ids=station_ids, start=start, end=end)
        return (
            f"Rebuilt {result.stations} stations, {result.months} station-months: "
            f"{result.daily_rows} daily and {result.monthly_rows} monthly rows"
        )
