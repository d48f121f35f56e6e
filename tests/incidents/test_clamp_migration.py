"""The data migration brings rows stored with year 1 or year 9999 into the range, so the pages
listing them answer again (on PostgreSQL year 1 east of UTC is stored as 1 BC, unreadable)."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from incidents import bounds
from incidents.models import Incident, TimelineEvent

from ..factories import IncidentFactory, TimelineEventFactory, UserFactory

BEFORE = [("incidents", "0004_bounded_text_and_dates")]
AFTER = [("incidents", "0005_clamp_dates_into_range")]


def _migrate(targets):
    MigrationExecutor(connection).migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_the_migration_clamps_year_one_and_year_9999_and_the_lists_answer_again(client):
    incident = IncidentFactory(detected_at=None, mitigated_at=None)
    event = TimelineEventFactory(incident=incident)
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            year_one = "0001-01-01 00:00:00+05" if connection.vendor == "postgresql" else None
            cursor.execute(
                "UPDATE incidents_incident SET started_at = %s, resolved_at = %s WHERE id = %s",
                [
                    year_one or datetime(1, 1, 1, tzinfo=UTC),
                    datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
                    incident.pk,
                ],
            )
        TimelineEvent.objects.filter(pk=event.pk).update(
            occurred_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
        )
    finally:
        _migrate(AFTER)
        # On to the newest schema, as a deploy would: later migrations add columns the pages
        # read, and the tests after this one need them.
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get(reverse("incidents:list")).status_code == 200
    assert client.get(reverse("admin:incidents_incident_changelist")).status_code == 200
    incident = Incident.objects.get(pk=incident.pk)
    assert (incident.started_at, incident.resolved_at) == (bounds.EARLIEST, bounds.LATEST)
    assert TimelineEvent.objects.get(pk=event.pk).occurred_at == bounds.LATEST
