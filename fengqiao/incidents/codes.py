"""The 110 incident code tree, loaded from data/categories.csv by a migration; codes are stable."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

CATEGORIES = Path(__file__).resolve().parent / "data" / "categories.csv"


def load_categories(model: Any) -> int:
    """Create or update every node of the tree, parents first; return the count."""
    with CATEGORIES.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_code: dict[str, Any] = {}
    for i, row in enumerate(rows):
        parent = by_code[row["parent"]] if row["parent"] else None
        obj, _created = model.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "name_en": row["name_en"],
                "parent": parent,
                "class_code": parent.class_code if parent is not None else row["code"],
                "sort": (i + 1) * 10,
            },
        )
        by_code[row["code"]] = obj
    return len(rows)
