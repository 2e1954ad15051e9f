"""Per-station case numbers (PREFIX-YEAR-000123), gapless under concurrent creation."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from fengqiao.core.models import CaseCounter


def case_number_next(*, station_id: int, prefix: str, year: int) -> str:
    """Take the next number; call inside the transaction that saves the case, so a rollback
    gives the number back and no gap remains."""
    with transaction.atomic():
        counter = (
            CaseCounter.objects.select_for_update()
            .filter(station_id=station_id, prefix=prefix, year=year)
            .first()
        )
        if counter is None:
            try:
                with transaction.atomic():
                    counter = CaseCounter.objects.create(
                        station_id=station_id, prefix=prefix, year=year, last=0
                    )
            except IntegrityError:
                # Another transaction created it first: lock theirs.
                counter = CaseCounter.objects.select_for_update().get(
                    station_id=station_id, prefix=prefix, year=year
                )
        counter.last += 1
        counter.save(update_fields=["last"])
    return f"{prefix}-{year}-{counter.last:06d}"


def case_numbers_reserve(*, station_id: int, prefix: str, year: int, count: int) -> int:
    """Reserve `count` consecutive numbers at once and return the first; call inside the
    transaction that saves the cases (a bulk import), so a rollback gives them all back."""
    if count < 1:
        raise ValueError("count must be at least 1")
    with transaction.atomic():
        counter = (
            CaseCounter.objects.select_for_update()
            .filter(station_id=station_id, prefix=prefix, year=year)
            .first()
        )
        if counter is None:
            try:
                with transaction.atomic():
                    counter = CaseCounter.objects.create(
                        station_id=station_id, prefix=prefix, year=year, last=0
                    )
            except IntegrityError:
                counter = CaseCounter.objects.select_for_update().get(
                    station_id=station_id, prefix=prefix, year=year
                )
        first = counter.last + 1
        counter.last += count
        counter.save(update_fields=["last"])
    return first
