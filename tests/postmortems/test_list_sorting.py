"""Postmortem list: sort by status or publication, htmx pages, clean links."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

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
