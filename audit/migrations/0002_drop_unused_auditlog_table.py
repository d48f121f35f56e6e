"""Drop django-auditlog's own entry table: Debrief's entries live in audit.Entry
(AUDITLOG_LOGENTRY_MODEL), so that table stays empty, and its foreign key to auth_user stops
PostgreSQL from emptying the users table (TRUNCATE) in tests that reset the database."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_audit_entries"),
        ("auditlog", "__latest__"),
    ]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS auditlog_logentry", migrations.RunSQL.noop),
    ]
