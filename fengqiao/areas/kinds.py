"""The place-kind code list, loaded from data/place_kinds.csv by a migration."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "place_kinds.csv"


def load_place_kinds(model: Any) -> int:
    """Create or update every kind of the list on `model` (real or historical); return count."""
    n = 0
    with DATA.open(encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            model.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name": row["name"],
                    "name_en": row["name_en"],
                    "group": row["group"],
                    "sort": (i + 1) * 10,
                },
            )
            n += 1
    return n
