"""Dates stored before the range was enforced (year 1, year 9999) are brought into it.

Such a row made every page listing it fail: year 1 cannot be read back from PostgreSQL once a
timezone shifts it into 1 BC, and 9999-12-31 overflows when shown east of UTC.
"""

from django.db import migrations

from incidents.bounds import clamp_stored


def clamp(apps, schema_editor):
    moved = 0
    moved += clamp_stored(apps.get_model("actions", "ActionItem"), ['due_on', 'completed_at'])
    moved += clamp_stored(apps.get_model("actions", "ActionItemEvent"), ['from_due', 'to_due'])
    if moved:
        print(f"\n  {moved} actions row(s) had dates outside 1970–2100 and were clamped.")


class Migration(migrations.Migration):
    dependencies = [("actions", "0006_bounded_text_and_dates")]

    operations = [migrations.RunPython(clamp, migrations.RunPython.noop)]
