"""Rebuild the incident rollups (daily, hourly, monthly) from the incident table."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fengqiao.areas.models import Area
from fengqiao.incidents.rollups import rollup_rebuild


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = (
        "Rebuild the incident rollups from the incident table: after a bulk load or a restore. "
        "Every day unless --from/--to; every station unless --station is given."
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
        written = rollup_rebuild(station_ids=station_ids, first=start, last=end)
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt {'every station' if station_ids is None else len(station_ids)}: "
                f"{written} daily rows in {time.perf_counter() - began:.1f} s."
            )
        )
