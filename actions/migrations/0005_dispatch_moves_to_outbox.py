"""The email ledger moves to the outbox app: copy every row (same ids), then drop the old table.

Digest rows no longer point at their dispatches: a digest's emails are the outbox rows of kind
"digest" with the digest's scope and period (the same key the claim always used).
"""

from django.core.management.color import no_style
from django.db import migrations

COLUMNS = "id, kind, recipient_id, scope, period, state, attempts, error, item_count, created_at, sent_at"


def copy_to_outbox(apps, schema_editor):
    schema_editor.execute(
        f"INSERT INTO outbox_dispatch ({COLUMNS}) SELECT {COLUMNS} FROM actions_dispatch"
    )
    # The rows keep their ids; PostgreSQL's sequence must then start after the highest one.
    model = apps.get_model("outbox", "Dispatch")
    for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [model]):
        schema_editor.execute(sql)


def copy_back(apps, schema_editor):
    schema_editor.execute(
        f"INSERT INTO actions_dispatch ({COLUMNS}, digest_id) SELECT {COLUMNS}, "
        "(SELECT d.id FROM actions_digest d WHERE d.scope = o.scope AND d.period = o.period) "
        "FROM outbox_dispatch o WHERE o.kind IN ('reminder', 'manager_note', 'digest')"
    )
    model = apps.get_model("actions", "Dispatch")
    for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [model]):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("actions", "0004_list_order_index"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_to_outbox, copy_back),
        migrations.DeleteModel(name="Dispatch"),
    ]
