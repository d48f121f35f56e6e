"""Choosing people by username, with a few matching users suggested as you type.

A <select> of every user renders thousands of <option> widgets, and even a <datalist> of every
user made each form page carry ~100 KB per 2,000 users. The box is a plain text input (it works
without JavaScript: an unknown username gets a clear error); static/js/people.js fills its
empty <datalist> with the few active users whose username or name starts with what was typed,
from `people_suggestions` (one indexed query, at most SUGGESTIONS rows).
"""

import re

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import JsonResponse
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET

User = get_user_model()

UNKNOWN = "No active user is called “%(value)s”. Type a username, e.g. alice."
USERNAME_LIMIT = User._meta.get_field("username").max_length
SUGGESTIONS = 10
_SEPARATORS = re.compile(r"[,\s]+")


def matching_people(term: str, limit: int = SUGGESTIONS) -> list[dict]:
    """Active users whose username, first or last name starts with `term` (any case).

    On PostgreSQL the prefix matches use expression indexes (migration 0008), so this reads a
    few index entries however large the organisation is."""
    term = term.strip().lstrip("@")[:USERNAME_LIMIT]
    if not term:
        return []
    rows = (
        User.objects.filter(is_active=True)
        .filter(
            Q(username__istartswith=term)
            | Q(first_name__istartswith=term)
            | Q(last_name__istartswith=term)
        )
        .order_by("username")
        .values_list("username", "first_name", "last_name")[:limit]
    )
    return [
        {"username": username, "name": f"{first} {last}".strip() or username}
        for username, first, last in rows
    ]


@require_GET
def people_suggestions(request):
    """Typing suggestions for the username boxes (signed-in people only, like every page).

    Names and usernames of active colleagues are what every form already accepts; nothing
    about incidents is read here, so private ones cannot leak."""
    response = JsonResponse({"people": matching_people(request.GET.get("q", ""))})
    response["Cache-Control"] = "private, max-age=60"
    return response


class PersonInput(forms.TextInput):
    multiple = False

    def render(self, name, value, attrs=None, renderer=None):
        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id') or name}-people"
        attrs.update(
            {
                "list": list_id,
                "autocomplete": "off",
                "spellcheck": "false",
                "data-people-url": reverse("incidents:people"),
                "data-people": "many" if self.multiple else "one",
            }
        )
        attrs.setdefault(
            "placeholder", "usernames, comma-separated" if self.multiple else "username"
        )
        # Filled as the person types (static/js/people.js); empty, it costs nothing.
        return format_html(
            '{}<datalist id="{}"></datalist>', super().render(name, value, attrs, renderer), list_id
        )


class PeopleInput(PersonInput):
    multiple = True

    def value_from_datadict(self, data, files, name):
        raw = data.getlist(name) if hasattr(data, "getlist") else [data.get(name) or ""]
        return [
            part.lstrip("@") for value in raw for part in _SEPARATORS.split(value or "") if part
        ]

    def format_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return super().format_value(value)


def _resolve(queryset, value: str):
    """A username (with or without @, any case), or a user id from older forms and API posts."""
    value = str(value).strip().lstrip("@")
    if len(value) > USERNAME_LIMIT:  # no such person, and a lookup pattern that long fails
        raise ValidationError(UNKNOWN, code="invalid_choice", params={"value": value[:40] + "…"})
    match = queryset.filter(username__iexact=value).first()
    if match is None and value.isdigit():
        match = queryset.filter(pk=int(value)).first()
    if match is None:
        raise ValidationError(UNKNOWN, code="invalid_choice", params={"value": value})
    return match


class UserChoiceField(forms.ModelChoiceField):
    """One person, typed as a username."""

    widget = PersonInput

    def __init__(self, queryset=None, **kwargs):
        kwargs.pop("empty_label", None)
        if queryset is None:
            queryset = User.objects.filter(is_active=True)
        super().__init__(queryset=queryset, to_field_name="username", **kwargs)

    def prepare_value(self, value):
        if isinstance(value, int):  # an instance's initial is its id: show the username
            return User.objects.filter(pk=value).values_list("username", flat=True).first()
        return super().prepare_value(value)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return _resolve(self.queryset, value)


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several people, typed as comma-separated usernames."""

    widget = PeopleInput

    def __init__(self, queryset=None, **kwargs):
        kwargs.pop("widget", None)  # always the text box, never a select of everyone
        if queryset is None:
            queryset = User.objects.filter(is_active=True)
        super().__init__(queryset=queryset, to_field_name="username", **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple) and any(isinstance(v, int) for v in value):
            ids = [v for v in value if isinstance(v, int)]
            return list(User.objects.filter(pk__in=ids).values_list("username", flat=True))
        return super().prepare_value(value)

    def clean(self, value):
        if not value:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return self.queryset.none()
        if not isinstance(value, list | tuple):
            value = [value]
        people = {_resolve(self.queryset, v).pk for v in value}
        return self.queryset.filter(pk__in=people)
