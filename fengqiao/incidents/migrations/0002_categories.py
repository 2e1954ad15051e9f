"""Load the 110 incident code tree; codes are stable."""

from django.db import migrations

from fengqiao.incidents.codes import load_categories


def load(apps, schema_editor):
    load_categories(apps.get_model("incidents", "IncidentCategory"))


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
