"""Generate a station's morning briefing (the scheduled one, made once per day)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fengqiao.analytics.services import briefing_generate
from fengqiao.areas.station_command import station_named
from fengqiao.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Generate the morning briefing of a station for a day (default today). Idempotent: "
        "the day's scheduled briefing is made once and returned after that."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--station", required=True, help="station code or id")
        parser.add_argument("--day", help="the morning it is for (YYYY-MM-DD); default today")

    def handle(self, *args: Any, **options: Any) -> None:
        station = station_named(str(options["station"]))
        day = None
        if options.get("day"):
            try:
                day = date.fromisoformat(options["day"])
            except ValueError as exc:
                raise CommandError("--day must be YYYY-MM-DD") from exc
        try:
            briefing = briefing_generate(actor=None, station_id=station.pk, day=day)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        c = briefing.content
        self.stdout.write(
            self.style.SUCCESS(
                f"Briefing {briefing.pk} of {station.name} for {briefing.day}: "
                f"{c['overnight']['count']} overnight incidents, "
                f"{len(c['grids']['rows'])} grids above normal, "
                f"{len(c['hotspots']['cells'])} hotspot cells, "
                f"{len(c['repeats']['addresses'])} repeat addresses, "
                f"{len(c['repeats']['callers'])} repeat callers, "
                f"{len(c['disputes']['rows'])} disputes at risk."
            )
        )
