"""Filter controls rendered in Python.

Django renders a <select> through a template per option: the service filter's 200 options cost
about 25 ms a page at scale 1 and grow with the catalogue. These widgets write the same HTML
with `format_html`, so a filter form costs what its options cost to read.
"""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe


class QuickSelect(forms.Select):
    """A single-choice <select> (no option groups), as Django writes it.

    `options`, when given, is called for the (value, label) pairs instead of iterating the
    field's choices: for a model choice that reads two columns rather than building a model
    object per option (the field's queryset still validates what is sent).
    """

    def __init__(self, attrs=None, choices=(), options=None):
        super().__init__(attrs, choices)
        self.options = options

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        choices = self.options() if self.options else self.choices
        options = format_html_join(
            "\n",
            '  <option value="{}"{}>{}</option>',
            (
                (str(key), mark_safe(" selected") if str(key) in chosen else "", label)
                for key, label in choices
            ),
        )
        final = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>\n{}\n</select>', name, final, options)


class QuickCheckboxes(forms.CheckboxSelectMultiple):
    """Tick boxes whose each `tag` (what includes/field.html lays out) is written in Python."""

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
    """`options` for a QuickSelect of model rows: the empty choice, then (value, name) pairs."""

    def options():
        return [("", empty_label), *queryset.values_list(value, "name")]

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
