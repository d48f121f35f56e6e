"""PostgreSQL only; SQLite keeps its plain tables (small organisations, simple fallbacks).

- Prefix indexes on users' username and names, matching what `username__istartswith` runs
  (`UPPER(col::text) LIKE UPPER('ali%')`), so people suggestions read a few index entries.
- `incidents_incident.search`: title (weight A) and summary (weight B) as a stored, generated
  tsvector with a GIN index, for related-incident suggestions (postmortems/related.py). The
  database keeps it current on every write, bulk loads included; adding it fills every row.
  It is not a model field: Django never writes it, only related.py reads it.
"""

from django.db import migrations

PEOPLE_COLUMNS = ("username", "first_name", "last_name")

FORWARD = [
    *(
        f"CREATE INDEX IF NOT EXISTS people_prefix_{column} ON auth_user "
        f"(UPPER({column}::text) text_pattern_ops)"
        for column in PEOPLE_COLUMNS
    ),
    "ALTER TABLE incidents_incident ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'B')) STORED",
    "CREATE INDEX IF NOT EXISTS incident_search ON incidents_incident USING gin (search)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS incident_search",
    "ALTER TABLE incidents_incident DROP COLUMN IF EXISTS search",
    *(f"DROP INDEX IF EXISTS people_prefix_{column}" for column in PEOPLE_COLUMNS),
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0009_incident_owed_candidates"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
