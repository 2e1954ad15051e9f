"""Load the place kinds of TAXONOMIES.md; codes are stable, names editable by an administrator."""

from django.db import migrations

from fengqiao.areas.kinds import load_place_kinds


def load(apps, schema_editor):
    load_place_kinds(apps.get_model("areas", "PlaceKind"))


class Migration(migrations.Migration):
    dependencies = [("areas", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
