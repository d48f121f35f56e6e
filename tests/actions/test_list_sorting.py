"""Action item lists (mine, team, all): column sorting, clean links, pages by htmx."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from actions.models import ActionItem
from actions.views import ITEM_COLUMNS

from ..factories import ActionItemFactory

pytestmark = pytest.mark.django_db


def _ids(response):
    return [i.pk for i in response.context["page"].object_list]


def test_items_sort_by_title_and_status_from_the_headers(client, user):
    today = timezone.localdate()
    b = ActionItemFactory(title="Bravo", due_on=today + timedelta(days=1), owner=user)
    a = ActionItemFactory(
        title="Alpha", due_on=today + timedelta(days=5), status="in_progress", owner=user
    )
    client.force_login(user)
    for name in ["actions:mine", "actions:list"]:
        url = reverse(name)
        assert _ids(client.get(url)) == [b.pk, a.pk]
        assert _ids(client.get(url, {"sort": "title"})) == [a.pk, b.pk]
        assert _ids(client.get(url, {"sort": "-title"})) == [b.pk, a.pk]
        assert _ids(client.get(url, {"sort": "-due"})) == [a.pk, b.pk]
        assert _ids(client.get(url, {"sort": "status"})) == [a.pk, b.pk]
    body = client.get(reverse("actions:list"), {"sort": "-title", "q": ""}).content.decode()
    assert re.search(r'<th scope="col" aria-sort="descending"[^>]*>\s*<a href="/actions/', body)
    assert 'href="/actions/?sort=title"' in body  # flips; the empty q is not carried
    assert 'name="sort" value="-title" form="item-filters"' in body


def test_item_pagination_is_htmx_and_keeps_filters_without_empty_ones(client, user, settings):
    settings.PAGE_SIZE = 2
    ActionItemFactory.create_batch(3, priority=1)
    client.force_login(user)
    body = client.get(
        reverse("actions:list"), {"priority": "1", "q": "", "owner": "", "sort": "priority"}
    ).content.decode()
    next_page = r'<a href="\?priority=1&amp;sort=priority&amp;page=2" rel="next"([^>]*)>'
    link = re.search(next_page, body)
    assert link
    assert 'hx-target="#results"' in link.group(1) and 'hx-push-url="true"' in link.group(1)


def test_each_item_sort_has_an_index():
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, ActionItem._meta.db_table)
    indexed = {tuple(c["columns"][:3]) for c in found.values() if c["index"]}
    for column in ITEM_COLUMNS:
        fields = [f.lstrip("-").replace("pk", "id") for f in column.fields]
        names = tuple(ActionItem._meta.get_field(f).column for f in fields)
        assert any(i[:2] == names[:2] for i in indexed), column.key
