"""Load the dispute types (A), the statistical types (B) and their crosswalk; codes are stable."""

from django.db import migrations

from fengqiao.disputes.codes import load_dispute_types, load_stat_types


def load(apps, schema_editor):
    stat_model = apps.get_model("disputes", "StatType")
    load_stat_types(stat_model)
    load_dispute_types(apps.get_model("disputes", "DisputeType"), stat_model)


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
