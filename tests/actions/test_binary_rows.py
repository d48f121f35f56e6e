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
