"""Postmortem list: sort by status or publication, htmx pages, clean links."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from postmortems.models import Postmortem

from ..factories import IncidentFactory, PostmortemFactory

pytestmark = pytest.mark.django_db


def _ids(response):
    return [p.pk for p in response.context["page"].object_list]


def test_postmortems_sort_by_published_date(client, user):
    now = timezone.now()
    early = PostmortemFactory(
        incident=IncidentFactory(started_at=now - timedelta(days=1)),
        status="published",
        published_at=now - timedelta(days=20),
    )
    late = PostmortemFactory(
        incident=IncidentFactory(started_at=now - timedelta(days=30)),
        status="published",
        published_at=now - timedelta(days=2),
    )
    client.force_login(user)
    url = reverse("postmortems:list")
    assert _ids(client.get(url)) == [early.pk, late.pk]  # newest incident first
    assert _ids(client.get(url, {"sort": "-published"})) == [late.pk, early.pk]
    assert _ids(client.get(url, {"sort": "published"})) == [early.pk, late.pk]
    body = client.get(url, {"sort": "-published"}).content.decode()
    assert re.search(r'<th scope="col" aria-sort="descending"[^>]*>\s*<a href="/postmortems/', body)


def test_postmortem_list_pages_swap_only_the_results(client, user, settings):
    settings.PAGE_SIZE = 2
    PostmortemFactory.create_batch(3)
    client.force_login(user)
    url = reverse("postmortems:list")
    body = client.get(url, {"status": ""}).content.decode()
    assert re.search(r'<a href="\?page=2" rel="next"[^>]*hx-target="#results"', body)
    fragment = client.get(url, {"page": 2}, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="results"')
    assert "<html" not in fragment


def test_the_list_counts_unordered_and_reads_no_text_per_row(
    client, user, django_assert_max_num_queries
):
    """The capped count needs no order (ordered, it sorted every postmortem first), and 50
    rows cost no query each: links, authors and teams come with the page's one row query."""
    for _ in range(3):
        PostmortemFactory(incident=IncidentFactory(title="Cache stampede <b>"))
    client.force_login(user)
    client.get(reverse("postmortems:list"))
    with django_assert_max_num_queries(6) as captured:
        body = client.get(reverse("postmortems:list")).content.decode()
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"]]
    counted = [sql for sql in counts if '"postmortems_postmortem"' in sql]
    assert counted and all("ORDER BY" not in sql for sql in counted)
    number = Postmortem.objects.first().incident.number
    assert f'<a href="/postmortems/{number}/">Cache stampede &lt;b&gt;</a>' in body
