"""The dispute code lists, loaded from data/*.csv by a migration: types, statistical types."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
STAT_TYPES = DATA / "stat_types.csv"
DISPUTE_TYPES = DATA / "dispute_types.csv"


def load_stat_types(model: Any) -> int:
    """Create or update the people's-mediation statistical types (B); return the count."""
    n = 0
    with STAT_TYPES.open(encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            model.objects.update_or_create(
                code=row["code"],
                defaults={"name": row["name"], "name_en": row["name_en"], "sort": (i + 1) * 10},
            )
            n += 1
    return n


def load_dispute_types(model: Any, stat_model: Any) -> int:
    """Create or update the two-level governance-centre types (A) and their crosswalk to B.

    A row with a two-digit code is a class; a four-digit code is a subtype of the class named
    by its first two digits, and maps to exactly one statistical type.
    """
    stats = {s.code: s for s in stat_model.objects.all()}
    n = 0
    with DISPUTE_TYPES.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    classes: dict[str, Any] = {}
    for i, row in enumerate(rows):
        code = row["code"]
        is_class = len(code) == 2
        if not is_class and not row["stat_type"]:
            raise ValueError(f"dispute type {code} has no statistical type")
        obj, _created = model.objects.update_or_create(
            code=code,
            defaults={
                "name": row["name"],
                "name_en": row["name_en"],
                "parent": None if is_class else classes[code[:2]],
                "stat_type": None if is_class else stats[row["stat_type"]],
                "sort": (i + 1) * 10,
            },
        )
        if is_class:
            classes[code] = obj
        n += 1
    return n
