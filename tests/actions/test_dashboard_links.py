"""Dashboard: reversed custom dates are swapped visibly; each stacked segment opens its rows."""

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from ..factories import IncidentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
DASHBOARD = reverse("actions:dashboard")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.usefixtures("in_every_team")
def test_a_reversed_custom_range_is_swapped_and_the_form_shows_the_dates_used(client, user):
    client.force_login(user)
    query = {"range": "custom", "start": "2026-06-30", "end": "2026-06-01", "scope": "org"}
    page = client.get(DASHBOARD, query)
    body = unescape(page.content.decode())
    assert page.context["s"].period.start == date(2026, 6, 1)
    assert page.context["s"].period.end == date(2026, 6, 30)
    assert "swapped: showing 1 Jun 2026 to 30 Jun 2026" in body
    assert re.search(r'name="start" value="2026-06-01"', body)
    assert re.search(r'name="end" value="2026-06-30"', body)
    # The htmx answer (the form is outside the board) carries the notice and, out of band,
    # the corrected date boxes.
    fragment = unescape(
        client.get(DASHBOARD, query, headers={"HX-Request": "true"}).content.decode()
    )
    assert fragment.lstrip().startswith('<div id="board"')
    assert "swapped: showing 1 Jun 2026" in fragment
    oob = re.search(
        r'<fieldset id="custom-range"[^>]*hx-swap-oob="true".*?</fieldset>', fragment, re.S
    )
    assert oob and 'value="2026-06-01"' in oob.group(0) and 'value="2026-06-30"' in oob.group(0)


@pytest.mark.usefixtures("in_every_team")
def test_an_unusable_range_says_so_in_the_htmx_answer_too(client, user):
    client.force_login(user)
    query = {"range": "custom", "start": "2026-06-01", "scope": "org"}
    fragment = client.get(DASHBOARD, query, headers={"HX-Request": "true"}).content.decode()
    assert "needs both a start and an end date" in fragment
    assert "Showing the last 90 days instead." in fragment


def _segments(client, key: str) -> dict[str, str]:
    """title of each chart segment → its link."""
    body = client.get(
        reverse("actions:dashboard-figure", args=[key]),
        {"scope": "org", "range": "365"},
        headers={"HX-Request": "true"},
    ).content.decode()
    found = re.findall(r'<a href="([^"]+)"[^>]*><rect[^>]*><title>([^<]+)</title>', body)
    return {unescape(title): unescape(href) for href, title in found}


@pytest.mark.usefixtures("in_every_team")
def test_each_severity_segment_opens_exactly_its_incidents(client, user):
    june = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    sev1 = [IncidentFactory(severity=1, started_at=june + timedelta(days=n)) for n in range(3)]
    IncidentFactory.create_batch(4, severity=2, started_at=june)
    IncidentFactory.create_batch(5, severity=3, started_at=june)
    client.force_login(user)
    segments = _segments(client, "severity-month")
    href = segments["June 2026 · SEV1: 3"]
    rows = client.get(href)
    assert rows.status_code == 200
    shown = {incident.reference for incident in rows.context["page"].object_list}
    assert shown == {incident.reference for incident in sev1}
    assert client.get(segments["June 2026 · SEV3: 5"]).context["page"].paginator.count == 5
