"""Raise the supervision card (yellow, then red) of overdue disputes and notify the chiefs."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fengqiao.disputes.deadlines import supervision_sweep


class Command(BaseCommand):
    help = "Raise the supervision card of overdue disputes and notify the chiefs (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--date", help="Sweep as of this day (YYYY-MM-DD); default today")
        parser.add_argument("--station", type=int, help="Only this station's cases (id)")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options.get("date"):
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date must be YYYY-MM-DD") from exc
        counts = supervision_sweep(today=today, station_id=options.get("station"))
        self.stdout.write(
            self.style.SUCCESS(f"Yellow cards: {counts['yellow']}; red cards: {counts['red']}.")
        )
