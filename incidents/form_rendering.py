"""Form fields and their common widgets, written in Python.

Through templates, one field cost about 0.7 ms: includes/field.html resolved a dozen variables,
then its widget's template included input.html, which included attrs.html and looped over the
attributes. The postmortem editor has thirteen fields (13 ms of its 50 ms of templates), and
every form page pays the same per field. `field_html` writes what includes/field.html wrote
and `WidgetRenderer` writes the text-like inputs and the textarea as Django's templates do,
byte for byte; tests/core/test_form_rendering.py holds both equal to the templates. Any other
widget template (selects with groups, radios, files with a clear box) still goes through
Django's templates.
"""

from __future__ import annotations

from html import escape

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe

WIDGETS = "django/forms/widgets/"
# The widget templates that are nothing but `{% include "django/forms/widgets/input.html" %}`.
INPUT_TEMPLATES = frozenset(
    f"{WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "checkbox",
        "color",
        "search",
        "tel",
        "file",
    )
)
TEXTAREA_TEMPLATE = f"{WIDGETS}textarea.html"


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}`: the value as text, escaped unless it was safe already."""
    text = str(value)
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: in order, True as a bare name, False left out."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def input_html(widget: dict) -> str:
    """django/forms/widgets/input.html, stripped as the renderer strips it."""
    value = widget["value"]
    shown = "" if value is None else f' value="{_formatted(value)}"'
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    return f'<input type="{kind}" name="{name}"{shown}{_attrs(widget["attrs"])}>'


def textarea_html(widget: dict) -> str:
    """django/forms/widgets/textarea.html, stripped as the renderer strips it."""
    value = widget["value"]
    text = conditional_escape(value) if value else ""
    return (
        f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{text}</textarea>"
    )


class WidgetRenderer(DjangoTemplates):
    """settings.FORM_RENDERER: Django's renderer, with the commonest widgets in Python."""

    def render(self, template_name, context, request=None):
        if template_name in INPUT_TEMPLATES:
            return input_html(context["widget"])
        if template_name == TEXTAREA_TEMPLATE:
            return textarea_html(context["widget"])
        return super().render(template_name, context, request)


def _errors(field) -> str:
    return "".join(
        f'<p class="error" role="alert">{conditional_escape(e)}</p>' for e in field.errors
    )


def field_html(field) -> SafeString:
    """A bound field as the forms lay it out: label, control, help and errors, with the ids
    Django's aria-describedby points at."""
    widget = field.field.widget
    errors = field.errors
    has_error = " has-error" if errors else ""
    label = conditional_escape(field.label)
    checkbox = getattr(widget, "input_type", None) == "checkbox"
    if checkbox and getattr(widget, "allow_multiple_selected", False):
        choices = "".join(
            f'<label class="choice" for="{conditional_escape(choice.id_for_label)}">'
            f"{conditional_escape(choice.tag())} {conditional_escape(choice.choice_label)}</label>"
            for choice in field
        )
        return mark_safe(
            f'<fieldset class="field field-multi{has_error}"><legend>{label}</legend>'
            f"{choices}{_errors(field)}</fieldset>"
        )
    control = conditional_escape(field)
    for_id = conditional_escape(field.id_for_label)
    if checkbox:
        head = f'<div class="field{has_error} field-check">{control} '
        parts = [f'{head}<label for="{for_id}">{label}</label>']
    else:
        required = ' <span class="req" aria-hidden="true">*</span>' if field.field.required else ""
        parts = [f'<div class="field{has_error}"><label for="{for_id}">{label}{required}</label>']
        parts.append(str(control))
    auto_id = conditional_escape(field.auto_id)
    if field.help_text:
        help_text = conditional_escape(field.help_text)
        parts.append(f'<small class="help" id="{auto_id}_helptext">{help_text}</small>')
    if errors:
        parts.append(f'<div id="{auto_id}_error">{_errors(field)}</div>')
    parts.append("</div>")
    return mark_safe("".join(parts))
