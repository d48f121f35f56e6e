import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from incidents.bounds import FilterForm
from incidents.models import Service, Severity, Team
from incidents.widgets import QuickCheckboxes, QuickSelect, model_options

from .models import ActionItem

User = get_user_model()


class ActionItemFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title or ticket…"}),
    )
    status = django_filters.MultipleChoiceFilter(
        distinct=False,  # a single-valued column: DISTINCT would only cost
        choices=ActionItem.Status.choices,
        widget=QuickCheckboxes,
    )
    # A text box, not a <select>: a large organisation has thousands of users.
    owner = django_filters.CharFilter(
        method="filter_owner",
        label="Owner",
        widget=forms.TextInput(
            attrs={"placeholder": "username, e.g. alice", "autocomplete": "off"}
        ),
    )
    team = django_filters.ModelChoiceFilter(
        widget=QuickSelect(
            options=model_options(Team.objects.order_by("name"), "slug", "Any team")
        ),
        queryset=Team.objects.order_by("name"),
        field_name="postmortem__incident__team",
        to_field_name="slug",
        label="Team",
        empty_label="Any team",
    )
    service = django_filters.ModelChoiceFilter(
        widget=QuickSelect(
            options=model_options(Service.objects.order_by("name"), "slug", "Any service")
        ),
        queryset=Service.objects.order_by("name"),
        method="filter_service",
        to_field_name="slug",
        label="Service",
        empty_label="Any service",
    )
    priority = django_filters.MultipleChoiceFilter(
        distinct=False,  # a single-valued column: DISTINCT would only cost
        choices=ActionItem.Priority.choices,
        widget=QuickCheckboxes,
    )
    leverage = django_filters.ChoiceFilter(
        widget=QuickSelect, choices=ActionItem.Leverage.choices, empty_label="Any leverage"
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        label="Overdue only",
        widget=forms.CheckboxInput,
    )
    due_within = django_filters.NumberFilter(
        method="filter_due_within",
        label="Due within (days)",
        min_value=0,
        max_value=366,
        widget=forms.NumberInput(attrs={"min": 0, "max": 366, "inputmode": "numeric"}),
    )
    severity = django_filters.MultipleChoiceFilter(
        distinct=False,  # a single-valued column: DISTINCT would only cost
        field_name="postmortem__incident__severity",
        choices=Severity.choices,
        label="Incident severity",
        widget=QuickCheckboxes,
    )
    created_after = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="Created on or after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_before = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Created on or before",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        form = FilterForm
        model = ActionItem
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(ticket_key__iexact=value))

    def filter_owner(self, queryset, name, value):
        value = value.strip().lstrip("@")
        return queryset.filter(owner__username__iexact=value) if value else queryset

    def filter_service(self, queryset, name, value):
        # A subquery, not a join, so an incident with several services is not listed twice.
        return queryset.filter(postmortem__incident__in=value.incidents.values("pk"))

    def filter_overdue(self, queryset, name, value):
        return queryset.overdue(timezone.localdate()) if value else queryset

    def filter_due_within(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.due_within(int(value), timezone.localdate())
