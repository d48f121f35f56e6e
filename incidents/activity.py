"""Reading the audit trail: an incident's Activity page and the organisation-wide log.

The entries are written by audit.trail from the services; here they are only read. An
incident's Activity is for whoever may see the incident; the whole log is for admins.
"""

from __future__ import annotations

import re
from dataclasses import replace

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from audit import display, trail
from audit.models import Entry

from . import permissions
from .filters import REFERENCE
from .models import Incident
from .paging import paginate, query_without_page

User = get_user_model()
# How a linked incident is named in the trail: str(incident), "INC-1042 Title".
LINKED = re.compile(r"^INC-(\d+)\b")


@permissions.rule("view_audit_log", "The organisation's audit log is for admins.")
def _view_audit_log(user, _obj) -> bool:
    return user.is_superuser


def _type_choices() -> list[tuple[str, str]]:
    types = ContentType.objects.get_for_models(*trail.tracked_models())  # cached after once
    names = sorted((str(model._meta.verbose_name), ct.pk) for model, ct in types.items())
    return [(str(pk), name[:1].upper() + name[1:]) for name, pk in names]


class EntryFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(
        queryset=User.objects.order_by("username"),
        label="Who",
        empty_label="Anyone",
    )
    kind = django_filters.ChoiceFilter(
        field_name="content_type",
        label="What",
        choices=_type_choices,
        empty_label="Anything",
    )
    incident = django_filters.CharFilter(
        method="filter_incident",
        label="Incident",
        widget=forms.TextInput(attrs={"placeholder": "INC-1042"}),
    )
    since = django_filters.DateFilter(
        field_name="timestamp",
        lookup_expr="date__gte",  # in the viewer's timezone, which is the active one
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        field_name="timestamp",
        lookup_expr="date__lte",
        label="Until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Entry
        fields = []

    def filter_incident(self, queryset, name, value):
        match = REFERENCE.match(value or "")
        if not match:
            return queryset.none()
        numbers = Incident.objects.filter(number=int(match.group(1))).values("pk")
        return queryset.filter(incident_pk__in=numbers)


def _rows(entries, incidents: dict[int, Incident] | None = None) -> list[dict]:
    """Everything a row shows, worked out once here (no query per row)."""
    return [
        {
            "entry": entry,
            "action": display.action_of(entry),
            "kind": display.kind_of(entry),
            "changes": display.changes_of(entry),
            "incident": (incidents or {}).get(entry.incident_pk),
        }
        for entry in entries
    ]


def _hide_unseen_related(rows: list[dict], user) -> None:
    """A link to another incident names it; one the viewer may not see is not named."""
    linked = [
        change
        for row in rows
        for change in row["changes"]
        if change.name == "related" and change.is_collection
    ]
    numbers = {
        int(m.group(1))
        for change in linked
        for text in change.added + change.removed
        if (m := LINKED.match(text))
    }
    if not numbers:
        return
    visible = Incident.objects.visible_to(user).filter(number__in=numbers)
    seen = set(visible.values_list("number", flat=True))

    def shown(text: str) -> str:
        m = LINKED.match(text)
        return text if m and int(m.group(1)) in seen else "an incident you cannot see"

    for row in rows:
        row["changes"] = [
            replace(c, added=[shown(t) for t in c.added], removed=[shown(t) for t in c.removed])
            if c.name == "related" and c.is_collection
            else c
            for c in row["changes"]
        ]


def _entries():
    return Entry.objects.select_related("actor", "content_type")


@require_GET
def incident_activity(request, number: int):
    """Every recorded change to the incident and what belongs to it, newest first."""
    incident = get_object_or_404(Incident.objects.visible_to(request.user), number=number)
    permissions.require(request.user, "view", incident)
    entries = _entries().filter(incident_pk=incident.pk)
    filters = EntryFilter(request.GET, queryset=entries)
    # "Who" offers the people who changed this incident, not everyone in the organisation.
    filters.filters["actor"].queryset = User.objects.filter(
        pk__in=entries.values("actor")
    ).order_by("username")
    del filters.form.fields["incident"]
    page = paginate(request, filters.qs)
    rows = _rows(page.object_list)
    _hide_unseen_related(rows, request.user)
    context = {
        "incident": incident,
        "filters": filters,
        "page": page,
        "rows": rows,
        "query": query_without_page(request),
    }
    template = "incidents/incident_activity.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


@require_GET
def audit_log(request):
    """Every recorded change in the organisation, filterable; admins only."""
    permissions.require(request.user, "view_audit_log")
    filters = EntryFilter(request.GET, queryset=_entries())
    page = paginate(request, filters.qs)
    entries = list(page.object_list)
    numbers = {e.incident_pk for e in entries if e.incident_pk}
    incidents = Incident.objects.only("pk", "number", "title").in_bulk(numbers) if numbers else {}
    context = {
        "filters": filters,
        "page": page,
        "rows": _rows(entries, incidents),
        "query": query_without_page(request),
    }
    template = "incidents/audit_log.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)
