"""Import places from an XLSX or CSV file into one station: every row or none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fengqiao.areas.imports import read_places
from fengqiao.areas.models import Area
from fengqiao.areas.services import place_import
from fengqiao.core.errors import DomainError


class Command(BaseCommand):
    help = "Import places from an XLSX or CSV file into one station: every row or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--station", required=True, help="station code, e.g. S1")
        parser.add_argument(
            "--user",
            default="",
            help="username to record and check (place.import); default: the system",
        )
        parser.add_argument("file", type=Path, help="an .xlsx or .csv file")

    def handle(self, *args: Any, **options: Any) -> None:
        """Import the file, or print every row's problem and exit non-zero."""
        path: Path = options["file"]
        station = Area.objects.filter(code=options["station"], kind="station").first()
        if station is None:
            raise CommandError(f"No station with code {options['station']!r}.")
        actor = None
        if options["user"]:
            from fengqiao.accounts.models import User

            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {options['user']!r}.")
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            with path.open("rb") as fh:
                parsed = read_places(fh, name=path.name, size=path.stat().st_size)
            result = place_import(
                actor=actor, station_id=station.pk, parsed=parsed, source=path.name
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "Permission denied.") from exc
        if not result.ok:
            for e in result.errors:
                self.stderr.write(f"第 {e.row} 行\t{e.column}\t{e.message}")
            rows = len({e.row for e in result.errors})
            raise CommandError(
                f"{len(result.errors)} problem(s) in {rows} row(s); nothing was imported."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.created} places into {station.code} "
                f"(ids {result.first_id}–{result.last_id})."
            )
        )
