"""Check the audit log's hash chain; report the first entry altered or removed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fengqiao.core.audit import audit_verify


class Command(BaseCommand):
    help = "Check the audit log's hash chain; report the first entry altered or removed."

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if not result.ok:
            raise CommandError(f"Audit chain broken at #{result.seq}: {result.problem}")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.checked} entries."))
