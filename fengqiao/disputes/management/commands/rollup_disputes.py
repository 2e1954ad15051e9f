"""Rebuild the dispute rollups (daily and monthly) from the case tables."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fengqiao.areas.models import Area
from fengqiao.disputes.rollups import rollup_rebuild


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = (
        "Rebuild the dispute rollups from the case tables: after a bulk load or a restore. "
        "Whole months; every station unless --station is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--station", action="append", default=[], help="station code or id (repeatable)"
        )
        parser.add_argument("--from", dest="start", type=_day, help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", type=_day, help="last day (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        station_ids: list[int] | None = None
        if options["station"]:
            station_ids = []
            for ref in options["station"]:
                qs = Area.objects.filter(kind="station")
                found = (qs.filter(pk=int(ref)) if ref.isdigit() else qs.filter(code=ref)).first()
                if found is None:
                    raise CommandError(f"no station {ref}")
                station_ids.append(found.pk)
        start, end = options["start"], options["end"]
        if start and end and start > end:
            raise CommandError("--from is after --to")
        began = time.perf_counter()
        result = rollup_rebuild(station_ids=station_ids, start=start, end=end)
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt {result.stations} stations, {result.months} station-months: "
                f"{result.daily_rows} daily and {result.monthly_rows} monthly rows "
                f"in {time.perf_counter() - began:.1f} s."
            )
        )
