"""Import incident history (a 110 export, CSV or XLSX) into one station: every row or none."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fengqiao.areas.models import Area
from fengqiao.core.errors import DomainError
from fengqiao.incidents.imports import ENCODINGS, errors_path, import_create, import_run
from fengqiao.incidents.models import ImportJob, ImportStatus


class Command(BaseCommand):
    help = "Import incident history from a CSV or XLSX file into one station: every row or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a .csv or .xlsx file (a 110 export)")
        parser.add_argument("--station", required=True, help="station code, e.g. S1")
        parser.add_argument(
            "--encoding",
            default="",
            choices=["", *ENCODINGS],
            help="CSV encoding (default: detect)",
        )
        parser.add_argument(
            "--mapping", default="", help='JSON field -> column header, e.g. {"category": "类别"}'
        )
        parser.add_argument(
            "--keep-callers",
            action="store_true",
            help="keep callers' names and phones (encrypted; slower); default: only the digest",
        )
        parser.add_argument(
            "--user", default="", help="username to record and check (incident.import)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the import in the foreground with a progress line; non-zero exit on any error."""
        path: Path = options["file"]
        station = Area.objects.filter(code=options["station"], kind="station").first()
        if station is None:
            raise CommandError(f"No station with code {options['station']!r}.")
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        actor = None
        if options["user"]:
            from fengqiao.accounts.models import User

            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {options['user']!r}.")
        try:
            mapping = json.loads(options["mapping"]) if options["mapping"] else None
        except json.JSONDecodeError as exc:
            raise CommandError(f"--mapping is not JSON: {exc}") from exc
        try:
            with path.open("rb") as fh:
                job = import_create(
                    actor=actor,
                    station_id=station.pk,
                    fh=fh,
                    name=path.name,
                    size=path.stat().st_size,
                    encoding=options["encoding"],
                    mapping=mapping,
                    keep_callers=options["keep_callers"],
                    start=True,
                    queue=False,
                    check_size=False,
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "Permission denied.") from exc
        tty = sys.stderr.isatty()

        def progress(current: ImportJob) -> None:
            line = f"{current.processed_rows:,} / ~{current.total_rows:,} rows checked"
            self.stderr.write(("\r" + line) if tty else line, ending="" if tty else "\n")

        job = import_run(job_id=job.pk, progress=progress)
        if tty:
            self.stderr.write("")
        if job.status == ImportStatus.DONE:
            self.stdout.write(f"{job.message} (job {job.pk}, {job.encoding or job.file_format})")
            return
        for e in job.errors:
            self.stderr.write(f"第 {e['row']} 行\t{e['column']}\t{e['message']}")
        if job.error_count > len(job.errors):
            self.stderr.write(f"… all errors: {errors_path(job)}")
        raise CommandError(job.message)
