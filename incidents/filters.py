import re

import django_filters
from django import forms
from django.db.models import Q

from .bounds import FilterForm
from .models import Incident, Service, Team
from .widgets import QuickCheckboxes, QuickSelect, model_options

REFERENCE = re.compile(r"^\s*(?:INC-?)?(\d+)\s*$", re.IGNORECASE)


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(
            attrs={"placeholder": "INC-1042, title, summary…", "type": "search"}
        ),
    )
    severity = django_filters.MultipleChoiceFilter(
        distinct=False,  # a single-valued column: DISTINCT would only cost
        choices=[(1, "SEV1"), (2, "SEV2"), (3, "SEV3")],
        widget=QuickCheckboxes,
    )
    status = django_filters.ChoiceFilter(
        choices=Incident.Status.choices, empty_label="Any status", widget=QuickSelect
    )
    team = django_filters.ModelChoiceFilter(
        widget=QuickSelect(
            options=model_options(Team.objects.order_by("name"), "slug", "Any team")
        ),
        queryset=Team.objects.order_by("name"),
        field_name="team",
        to_field_name="slug",
        empty_label="Any team",
    )
    service = django_filters.ModelChoiceFilter(
        widget=QuickSelect(
            options=model_options(Service.objects.order_by("name"), "slug", "Any service")
        ),
        queryset=Service.objects.order_by("name"),
        field_name="services",
        label="Service",
        to_field_name="slug",
        empty_label="Any service",
    )
    started_after = django_filters.DateFilter(
        field_name="started_at",
        lookup_expr="date__gte",
        label="Started from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    started_before = django_filters.DateFilter(
        field_name="started_at",
        lookup_expr="date__lte",
        label="Started until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    postmortem = django_filters.ChoiceFilter(
        widget=QuickSelect,
        method="filter_postmortem",
        label="Postmortem",
        empty_label="Any",
        choices=[
            ("owed", "Owed (required, not published)"),
            ("has", "Has a postmortem"),
            ("none", "No postmortem yet"),
            ("required", "Required by policy"),
            ("recommended", "Recommended by policy"),
            ("brief", "Brief record"),
        ],
    )

    class Meta:
        form = FilterForm
        model = Incident
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = REFERENCE.match(value)
        condition = Q(title__icontains=value) | Q(summary__icontains=value)
        if match:
            condition |= Q(number=int(match.group(1)))
        return queryset.filter(condition)

    def filter_postmortem(self, queryset, name, value):
        if value == "owed":
            return queryset.owing_postmortem()
        if value == "has":
            return queryset.filter(postmortem__isnull=False)
        if value == "none":
            return queryset.filter(postmortem__isnull=True)
        return queryset.filter(postmortem_requirement=value)
