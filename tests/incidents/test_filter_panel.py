"""A list's filter fields are rendered once per distinct filter and then read from the cache
(incidents/filter_panel.py): the same HTML, and a team or service change shows at once."""

import pytest
from django.http import QueryDict

from actions.filters import ActionItemFilter
from actions.models import ActionItem
from incidents import filter_panel
from incidents.filter_panel import filter_fields
from incidents.filters import IncidentFilter
from incidents.form_rendering import field_html
from incidents.models import Incident

from ..factories import ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db


def _uncached(filters, skip=()) -> str:
    return "".join(field_html(field) for field in filters.form if field.name not in skip)


@pytest.mark.parametrize(
    "query",
    ["", "team=payments&q=<script>&severity=1&severity=3", "started_after=not-a-date&team=nope"],
)
def test_cached_fields_are_what_the_template_writes(query):
    TeamFactory(name="Payments & Co", slug="payments")
    data = QueryDict(query)
    expected = _uncached(IncidentFilter(data, queryset=Incident.objects.all()))
    first = filter_fields(IncidentFilter(data, queryset=Incident.objects.all()))
    again = filter_fields(IncidentFilter(data, queryset=Incident.objects.all()))
    assert first == again == expected
    assert "&lt;script&gt;" in expected or "<script>" not in query


def test_the_second_page_reads_the_fields_from_the_cache(monkeypatch):
    data = QueryDict("q=disk")
    filter_fields(IncidentFilter(data, queryset=Incident.objects.all()))
    rendered = []
    monkeypatch.setattr(filter_panel, "field_html", lambda *a, **k: rendered.append(a) or "")
    filter_fields(IncidentFilter(data, queryset=Incident.objects.all()))
    assert rendered == []
    filter_fields(IncidentFilter(QueryDict("q=dns"), queryset=Incident.objects.all()))
    assert rendered  # other data, other fields


def test_a_new_team_or_service_shows_in_the_cached_fields():
    def fields():
        return filter_fields(ActionItemFilter(QueryDict(""), queryset=ActionItem.objects.all()))

    team = TeamFactory(name="Payments", slug="payments")
    assert '<option value="payments">Payments</option>' in fields()
    team.name = "Billing"
    team.save()
    ServiceFactory(name="Ledger", slug="ledger", team=team)
    html = fields()
    assert '<option value="payments">Billing</option>' in html
    assert '<option value="ledger">Ledger</option>' in html


def test_skipped_fields_are_left_out():
    filters = ActionItemFilter(QueryDict(""), queryset=ActionItem.objects.all())
    html = filter_fields(filters, skip=("owner",))
    assert html == _uncached(filters, skip=("owner",))
    assert 'name="owner"' not in html and 'name="q"' in html
