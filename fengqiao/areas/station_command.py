"""A management command over stations and days: --station (repeatable), --from, --to."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fengqiao.areas.models import Area


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from exc


def station_named(ref: str) -> Area:
    """Return the station whose code, else whose id, is `ref`; raise CommandError if none."""
    stations = Area.objects.filter(kind="station")
    found = stations.filter(code=ref).first()
    if found is None and ref.isdigit():
        found = stations.filter(pk=int(ref)).first()
    if found is None:
        raise CommandError(f"no station with code or id {ref!r}")
    return found


class StationSpanCommand(BaseCommand):
    """Run `rebuild` for the stations named (every station when none is) over the days
    --from/--to (open-ended when not given), and say what it did and how long it took."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--station", action="append", default=[], help="station code or id (repeatable)"
        )
        parser.add_argument("--from", dest="start", type=_day, help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", type=_day, help="last day (YYYY-MM-DD)")

    def rebuild(self, station_ids: list[int] | None, start: date | None, end: date | None) -> str:
        """Do the work; return what was done, for the closing line."""
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        refs = options["station"]
        station_ids = [station_named(ref).pk for ref in refs] if refs else None
        start, end = options["start"], options["end"]
        if start and end and start > end:
            raise CommandError("--from is after --to")
        began = time.perf_counter()
        done = self.rebuild(station_ids, start, end)
        self.stdout.write(self.style.SUCCESS(f"{done} in {time.perf_counter() - began:.1f} s."))
