"""Incident list: column sorting (server-side, each with an index) and clean links."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident

from ..factories import IncidentFactory

pytestmark = pytest.mark.django_db


def _refs(response) -> list[str]:
    return [i.reference for i in response.context["page"].object_list]


def test_incidents_sort_by_each_column_both_ways(client, user):
    now = timezone.now()
    a = IncidentFactory(title="Alpha", severity=3, started_at=now - timedelta(days=1))
    b = IncidentFactory(title="Bravo", severity=1, started_at=now - timedelta(days=3))
    c = IncidentFactory(title="Charlie", severity=2, started_at=now - timedelta(days=2))
    client.force_login(user)
    url = reverse("incidents:list")
    assert _refs(client.get(url)) == [a.reference, c.reference, b.reference]
    assert _refs(client.get(url, {"sort": "title"})) == [a.reference, b.reference, c.reference]
    assert _refs(client.get(url, {"sort": "-title"})) == [c.reference, b.reference, a.reference]
    assert _refs(client.get(url, {"sort": "severity"})) == [b.reference, c.reference, a.reference]
    assert _refs(client.get(url, {"sort": "started"})) == [b.reference, c.reference, a.reference]
    assert _refs(client.get(url, {"sort": "-ref"})) == [c.reference, b.reference, a.reference]
    # An unknown column is the default order, not an error.
    assert client.get(url, {"sort": "secret_field"}).status_code == 200


def test_sort_headers_are_links_with_aria_sort(client, user):
    IncidentFactory(title="Alpha", severity=3)
    client.force_login(user)
    body = client.get(reverse("incidents:list"), {"sort": "title", "severity": "3"}).content
    body = body.decode()
    title = re.search(r'<th scope="col" aria-sort="ascending"[^>]*>\s*<a href="([^"]+)"', body)
    assert title, "the sorted column says so with aria-sort"
    # Clicking it again sorts the other way, keeping the filters.
    assert title.group(1) == "/incidents/?severity=3&amp;sort=-title"
    assert body.count("aria-sort=") == 1
    # The other headers sort by themselves: Ref starts with the newest number; Started,
    # the default order, needs no parameter.
    assert 'href="/incidents/?severity=3&amp;sort=-ref"' in body
    assert 'href="/incidents/?severity=3" data-sort="started"' in body
    assert 'hx-push-url="true"' in body


def test_links_on_the_list_carry_no_empty_parameters(client, user, settings):
    settings.PAGE_SIZE = 2
    IncidentFactory.create_batch(3, severity=1)
    client.force_login(user)
    query = {"q": "", "status": "", "team": "", "severity": "1", "started_after": ""}
    body = client.get(reverse("incidents:list"), query).content.decode()
    assert 'href="?severity=1&amp;page=2"' in body
    assert "q=&" not in body and "status=&" not in body


def test_pagination_links_swap_the_results_and_push_the_url(client, user, settings):
    settings.PAGE_SIZE = 2
    IncidentFactory.create_batch(3)
    client.force_login(user)
    body = client.get(reverse("incidents:list"), headers={"HX-Request": "true"}).content
    link = re.search(r'<a href="\?page=2" rel="next"([^>]*)>', body.decode())
    assert link, "a real href, so the link works without JavaScript"
    assert 'hx-get="?page=2"' in link.group(1)
    assert 'hx-target="#results"' in link.group(1)
    assert 'hx-push-url="true"' in link.group(1)


def test_each_sortable_column_has_an_index():
    from incidents.views import INCIDENT_COLUMNS

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Incident._meta.db_table)
    leading = {tuple(c["columns"][:1]) for c in constraints.values() if c["index"] or c["unique"]}
    for column in INCIDENT_COLUMNS:
        first = Incident._meta.get_field(column.fields[0].lstrip("-")).column
        assert (first,) in leading, column.key
