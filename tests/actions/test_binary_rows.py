"""binary_rows: a rollup query's rows, bytea included, equal the queryset's own, counted as a
query like any other (on PostgreSQL fetched in the binary format, elsewhere as they are)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from actions.binary_rows import binary_rows
from actions.models import IncidentsMonth, pack_durations, unpack_durations

pytestmark = pytest.mark.django_db


def test_the_rows_and_their_packed_lists_come_back_whole_and_counted():
    lists = {
        date(2026, 1, 1): [1, 2, 3_600_000_000],
        date(2026, 2, 1): list(range(0, 50_000 * 7, 7)),  # 400 KB of bytes
        date(2026, 3, 1): [],
    }
    for month, micros in lists.items():
        IncidentsMonth.objects.create(month=month, sev1=len(micros), detect=pack_durations(micros))
    queryset = IncidentsMonth.objects.filter(team=None).order_by("month")
    rows = queryset.values_list("month", "sev1", "detect")
    with CaptureQueriesContext(connection) as captured:
        found = binary_rows(rows)
    assert len(captured) == 1
    assert [(m, n, unpack_durations(d).tolist()) for m, n, d in found] == [
        (month, len(micros), micros) for month, micros in lists.items()
    ]
    assert [tuple(row) for row in found] == [(m, n, bytes(d)) for m, n, d in rows]


def test_a_query_that_cannot_match_asks_nothing():
    with CaptureQueriesContext(connection) as captured:
        assert binary_rows(IncidentsMonth.objects.filter(month__in=[]).values_list("month")) == []
    assert len(captured) == 0


def test_reads_prepare_nothing_on_the_server_whatever_the_connection_allows():
    # Django's connections prepare nothing unless OPTIONS set a prepare_threshold; a named
    # prepared statement breaks behind a transaction-pooling proxy (PgBouncer), so these
    # reads never prepare, even where the connection would at the first run.
    IncidentsMonth.objects.create(month=date(2026, 1, 1), detect=pack_durations([5, 9]))
    rows = IncidentsMonth.objects.values_list("month", "detect")
    connection.ensure_connection()
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        before = connection.connection.prepare_threshold
        connection.connection.prepare_threshold = 0
    try:
        for _ in range(3):
            assert [unpack_durations(d).tolist() for _, d in binary_rows(rows)] == [[5, 9]]
        if postgresql:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_prepared_statements")
                assert cursor.fetchone() == (0,)
    finally:
        if postgresql:
            connection.connection.prepare_threshold = before
