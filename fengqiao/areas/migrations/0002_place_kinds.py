"""Load the place kinds of TAXONOMIES.md; codes are stable, names editable by an administrator."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "place_kinds.csv"


def load(apps, schema_editor):
    PlaceKind = apps.get_model("areas", "PlaceKind")
    with DATA.open(encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            PlaceKind.objects.update_or_create(
                code=row["code"],
                defaults={"name": row["name"], "name_en": row["name_en"], "group": row["group"],
                          "sort": (i + 1) * 10},
            )


class Migration(migrations.Migration):
    dependencies = [("areas", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
