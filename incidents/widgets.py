"""Filter controls rendered in Python.

Django renders a <select> through a template per option: the service filter's 200 options cost
about 25 ms a page at scale 1 and grow with the catalogue. These widgets write the same HTML
in Python, and the team and service options are read and escaped once, then kept in the cache
until a team or service changes (incidents/signals.py), so a filter form costs a cache read.
"""

import uuid

from django import forms
from django.core.cache import cache
from django.db import transaction
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import mark_safe

# Saves and deletes through Django forget the options at once in a shared cache (Redis). The
# timeout bounds the rest: writes that send no signal (raw SQL, bulk loads), and the other
# processes' own in-memory caches when there is no REDIS_URL. Re-reading costs one query.
OPTIONS_TIMEOUT = 60
OPTIONS_VERSION = "filter-options:version"
# Cache keys of model options, by model label, so a change to a row can forget them.
_OPTION_KEYS: dict[str, set[str]] = {}


def escaped_options(choices) -> list[tuple[str, str, str]]:
    """(value, escaped value, escaped label) for each (value, label) choice."""
    return [
        (str(key), str(conditional_escape(str(key))), str(conditional_escape(label)))
        for key, label in choices
    ]


class QuickSelect(forms.Select):
    """A single-choice <select> (no option groups), as Django writes it.

    `options`, when given, is called for the options, as `escaped_options` gives them, instead
    of iterating the field's choices: for a model choice that reads two columns (or the cache)
    rather than building a model object per option (the field's queryset still validates what
    is sent).
    """

    def __init__(self, attrs=None, choices=(), options=None):
        super().__init__(attrs, choices)
        self.options = options

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        options = self.options() if self.options else escaped_options(self.choices)
        html = "\n".join(
            f'  <option value="{safe_key}"{" selected" if key in chosen else ""}>{label}</option>'
            for key, safe_key, label in options
        )
        final = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>\n{}\n</select>', name, final, mark_safe(html))


class QuickCheckboxes(forms.CheckboxSelectMultiple):
    """Tick boxes whose each `tag` (what `{% field %}` lays out) is written in Python."""

    def _render(self, template_name, context, renderer=None):
        if template_name != self.option_template_name:
            return super()._render(template_name, context, renderer)
        option = context["widget"]
        attrs = dict(option["attrs"])
        if option["selected"]:
            attrs["checked"] = True
        value = "" if option["value"] is None else str(option["value"])
        return format_html(
            '<input type="{}" name="{}" value="{}"{}>',
            option["type"],
            option["name"],
            value,
            flatatt(attrs),
        )


def model_options(queryset, value: str, empty_label: str):
    """`options` for a QuickSelect of model rows: the empty choice, then (value, name) pairs,
    read once and kept in the cache until a row of the model changes (`forget_options`)."""
    label = queryset.model._meta.label_lower
    key = f"filter-options:{label}:{value}:{','.join(queryset.query.order_by)}"
    _OPTION_KEYS.setdefault(label, set()).add(key)
    empty = escaped_options([("", empty_label)])

    def options():
        rows = cache.get(key)
        if rows is None:
            rows = escaped_options(queryset.values_list(value, "name"))
            cache.set(key, rows, OPTIONS_TIMEOUT)
        return empty + rows

    return options


def _attrs_html(attrs: dict) -> str:
    """What django/forms/widgets/attrs.html writes: in order, True as a bare name, False left
    out (flatatt sorts them instead)."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class FormSelect(forms.Select):
    """A form's single-choice <select> written byte for byte as Django's widget templates
    write it (each option on its own line, then an empty one), without a template per option.

    For the capture and add forms of the incident page, the editor and the meeting presenter,
    where the option templates were a third of the forms' cost. Grouped choices fall back to
    Django's templates."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.choices)
        if any(isinstance(label, list | tuple) for _, label in choices):
            return super().render(name, value, attrs, renderer)
        chosen = set(self.format_value(value))
        options, has_selected = [], False
        for key, label in choices:
            key = "" if key is None else str(key)
            selected = not has_selected and key in chosen
            has_selected |= selected
            mark = " selected" if selected else ""
            options.append(
                f'\n  <option value="{escape(key)}"{mark}>{escape(str(label))}</option>\n'
            )
        final = _attrs_html(self.build_attrs(self.attrs, attrs))
        return mark_safe(f'<select name="{escape(name)}"{final}>{"".join(options)}\n</select>')


def forget_options(model) -> None:
    """Drop the cached options of `model` now and again at commit, so a page that read the old
    rows while the change was uncommitted cannot keep them."""
    keys = _OPTION_KEYS.get(model._meta.label_lower)
    if keys:
        cache.delete_many([*keys, OPTIONS_VERSION])
        transaction.on_commit(lambda: cache.delete_many([*keys, OPTIONS_VERSION]))


def options_version() -> str:
    """A token that changes whenever cached options are forgotten: what is rendered from the
    options (incidents/filter_panel.py) is cached under it."""
    return cache.get_or_set(OPTIONS_VERSION, lambda: uuid.uuid4().hex, OPTIONS_TIMEOUT)
