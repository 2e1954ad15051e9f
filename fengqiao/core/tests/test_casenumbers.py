"""Case numbers: per station and year, no gaps, no duplicates, even under concurrency."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from fengqiao.core.casenumbers import case_number_next


@pytest.mark.django_db
def test_numbers_count_per_station_prefix_and_year():
    assert case_number_next(station_id=1, prefix="MD", year=2026) == "MD-2026-000001"
    assert case_number_next(station_id=1, prefix="MD", year=2026) == "MD-2026-000002"
    assert case_number_next(station_id=2, prefix="MD", year=2026) == "MD-2026-000001"
    assert case_number_next(station_id=1, prefix="MD", year=2027) == "MD-2027-000001"


@pytest.mark.django_db
def test_a_rolled_back_case_gives_its_number_back():
    with pytest.raises(RuntimeError), transaction.atomic():
        case_number_next(station_id=1, prefix="JQ", year=2026)
        raise RuntimeError
    assert case_number_next(station_id=1, prefix="JQ", year=2026) == "JQ-2026-000001"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_creation_has_no_gaps_or_duplicates():
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memory"):
        pytest.skip("in-memory SQLite is one connection; the PostgreSQL run covers this")
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            for _ in range(10):
                with transaction.atomic():
                    n = case_number_next(station_id=9, prefix="MD", year=2026)
                with lock:
                    numbers.append(n)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == [f"MD-2026-{i:06d}" for i in range(1, 61)]
