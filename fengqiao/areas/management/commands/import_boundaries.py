"""Import area boundaries (or police grids) from a GeoJSON file; print every problem by feature."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fengqiao.accounts.models import User
from fengqiao.areas.boundaries import ImportReport, boundaries_import, police_grids_import


class Command(BaseCommand):
    help = "Import area boundaries (or police grids) from a GeoJSON file; all features or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="GeoJSON FeatureCollection (UTF-8)")
        parser.add_argument(
            "--police-grids",
            action="store_true",
            help="the file holds police grids (code, name, station, grids, officer)",
        )
        parser.add_argument(
            "--date",
            type=datetime.date.fromisoformat,
            default=None,
            help="police grids: the day the new assignment starts (default: today)",
        )
        parser.add_argument(
            "--user",
            default="",
            help="act as this user, within their area.import scope (default: unrestricted)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        actor: Any = "manage.py import_boundaries"
        if options["user"]:
            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {options['user']!r}.")
        common: dict[str, Any] = {
            "actor": actor,
            "data": data,
            "enforce_scope": bool(options["user"]),
            "dry_run": options["dry_run"],
        }
        report: ImportReport
        if options["police_grids"]:
            report = police_grids_import(on_date=options["date"], **common)
        else:
            report = boundaries_import(**common)
        self._print(report)
        if not report.ok:
            raise CommandError(f"{len(report.problems)} problem(s); nothing was imported.")

    def _print(self, report: ImportReport) -> None:
        for p in report.problems:
            where = f"#{p.number}" if p.number else "file"
            code = f" [{p.code}]" if p.code else ""
            self.stderr.write(f"{where}{code}: {p.message}")
        if report.ok:
            self.stdout.write(self.style.SUCCESS(report.summary()))
            for label, codes in (
                ("created", report.created),
                ("updated", report.updated),
                ("unchanged", report.unchanged),
            ):
                if codes:
                    self.stdout.write(f"{label}: {', '.join(codes)}")
