"""Fields and widgets written in Python (incidents/form_rendering.py) write what the templates
wrote: every field of every form the pages show, unbound, bound to nothing and bound to
hostile text, and the widgets against Django's own templates, byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

import django
import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.http import QueryDict
from django.template import Context, Template
from django.utils.safestring import mark_safe

from actions.dashboard.params import DashboardForm
from actions.filters import ActionItemFilter
from actions.forms import ActionItemForm, BulkForm, DueDateForm, StatusForm, WebhookForm
from actions.models import ActionItem
from incidents.filters import IncidentFilter
from incidents.form_rendering import INPUT_TEMPLATES, WidgetRenderer, field_html
from incidents.forms import IncidentForm, PreferencesForm, TimelineEventForm
from incidents.models import Incident, Team
from postmortems import forms as pm_forms
from postmortems.meeting_forms import MeetingForm, NoteForm, PublishDateForm

pytestmark = pytest.mark.django_db

# includes/field.html as the pages included it before `{% field %}` replaced it.
FIELD_TEMPLATE = Template(
    """{% with widget=field.field.widget %}
{% if widget.allow_multiple_selected and widget.input_type == 'checkbox' %}
<fieldset class="field field-multi{% if field.errors %} has-error{% endif %}">
  <legend>{{ field.label }}</legend>
  {% for choice in field %}<label class="choice" for="{{ choice.id_for_label }}">{{ choice.tag }} {{ choice.choice_label }}</label>{% endfor %}
  {% for error in field.errors %}<p class="error" role="alert">{{ error }}</p>{% endfor %}
</fieldset>
{% else %}
<div class="field{% if field.errors %} has-error{% endif %}{% if widget.input_type == 'checkbox' %} field-check{% endif %}">
  {% if widget.input_type == 'checkbox' %}
    {{ field }} <label for="{{ field.id_for_label }}">{{ field.label }}</label>
  {% else %}
    <label for="{{ field.id_for_label }}">{{ field.label }}{% if field.field.required %} <span class="req" aria-hidden="true">*</span>{% endif %}</label>
    {{ field }}
  {% endif %}
  {% if field.help_text %}<small class="help" id="{{ field.auto_id }}_helptext">{{ field.help_text }}</small>{% endif %}
  {% if field.errors %}<div id="{{ field.auto_id }}_error">{% for error in field.errors %}<p class="error" role="alert">{{ error }}</p>{% endfor %}</div>{% endif %}
</div>
{% endif %}
{% endwith %}"""  # noqa: E501
)

HOSTILE = '<b>"Tom" & Jerry\'s</b>\n  second line'


def _normal(html: str) -> str:
    """The template's layout whitespace (a newline and the indent after it) left out."""
    return re.sub(r"\n\s*", "", str(html))


def _forms(data) -> list[forms.Form]:
    """Every form the pages lay out field by field, bound to `data` (None: unbound)."""
    kwargs = {} if data is None else {"data": data}
    teams = Team.objects.all()
    made = [
        IncidentForm(**kwargs),
        IncidentForm(**kwargs, may_change_privacy=False),
        TimelineEventForm(**kwargs),
        PreferencesForm(**kwargs),
        ActionItemForm(**kwargs),
        ActionItemForm(**kwargs, offer_membership=True),
        StatusForm(**kwargs),
        DueDateForm(**kwargs),
        BulkForm(**kwargs, queryset=ActionItem.objects.all()),
        WebhookForm(**kwargs, teams=teams, allow_org=True),
        DashboardForm(data, scope_choices=[("org", "Whole organisation"), ("t", "<Team>")]),
        MeetingForm(**kwargs, zone_name="Europe/Paris"),
        NoteForm(**kwargs),
        PublishDateForm(**kwargs),
        IncidentFilter(data, queryset=Incident.objects.all()).form,
        ActionItemFilter(data, queryset=ActionItem.objects.all()).form,
    ]
    for name in dir(pm_forms):
        form_class = getattr(pm_forms, name)
        is_form = isinstance(form_class, type) and issubclass(form_class, forms.BaseForm)
        if is_form and form_class.__module__ == pm_forms.__name__:
            made.append(form_class(**kwargs))
    return made


def _hostile_data() -> QueryDict:
    data = QueryDict(mutable=True)
    for form in _forms(None):
        for name in form.fields:
            data.setlist(name, [HOSTILE, "2026-13-45"])
    return data


@pytest.mark.parametrize("state", ["unbound", "empty", "hostile"])
def test_every_field_is_written_as_the_template_wrote_it(state):
    Team.objects.create(name="Payments & <Co>", slug="payments")
    data = {"unbound": None, "empty": QueryDict(), "hostile": _hostile_data()}[state]
    checked = kinds = 0
    seen = set()
    for form in _forms(data):
        form.is_valid() if form.is_bound else None
        for bound in form:
            expected = _normal(FIELD_TEMPLATE.render(Context({"field": bound})))
            assert _normal(field_html(bound)) == expected, (type(form).__name__, bound.name)
            checked += 1
            seen.add(type(bound.field.widget).__name__)
            kinds += bool(bound.errors)
    assert checked > 80
    # The comparison saw what matters: tick boxes, selects, text areas, and errors when bound.
    assert {"CheckboxInput", "Textarea", "FormSelect", "PeopleInput"} <= seen
    assert (kinds > 20) == (state != "unbound")


def test_the_tag_writes_the_field_where_the_pages_put_it():
    form = ActionItemForm(data={"title": HOSTILE.splitlines()[0]})
    html = Template("{% field form.title %}").render(Context({"form": form}))
    assert html == field_html(form["title"])
    assert "&lt;b&gt;&quot;Tom&quot; &amp; Jerry&#x27;s&lt;/b&gt;" in html
    assert '<div class="field"><label for="id_title">' in html


REFERENCE = DjangoTemplates()


def _widgets() -> list[tuple[forms.Widget, object]]:
    safe = mark_safe("<i>already safe</i>")
    attrs = {
        "required": True,
        "disabled": False,
        "data-x": '"quoted" & <tag>',
        "size": 0,
        "placeholder": safe,
        "aria-describedby": "a b",
    }
    widgets = [
        forms.TextInput(),
        forms.TextInput(attrs=attrs),
        forms.NumberInput(attrs={"min": 0, "step": 0.5}),
        forms.EmailInput(),
        forms.URLInput(),
        forms.PasswordInput(render_value=True),
        forms.HiddenInput(),
        forms.DateInput(attrs={"type": "date"}),
        forms.DateTimeInput(),
        forms.TimeInput(),
        forms.CheckboxInput(),
        forms.ColorInput(),
        forms.SearchInput(),
        forms.TelInput(),
        forms.FileInput(),
        forms.Textarea(),
        forms.Textarea(attrs=attrs),
    ]
    values = [None, "", "plain", HOSTILE, safe, 0, 12.5, True, ("a", "b")]
    return [(w, v) for w in widgets for v in values]


@pytest.mark.parametrize(("widget", "value"), _widgets())
def test_widgets_are_written_as_djangos_templates_write_them(widget, value):
    attrs = {"id": "id_x"}
    expected = widget.render("x<y", value, attrs=attrs, renderer=REFERENCE)
    assert widget.render("x<y", value, attrs=attrs, renderer=WidgetRenderer()) == expected


def test_the_templates_written_in_python_are_still_what_django_ships():
    """An upgrade that changes one of them fails here rather than drifting."""
    root = Path(django.__file__).parent / "forms" / "templates"
    for name in INPUT_TEMPLATES - {"django/forms/widgets/input.html"}:
        assert (root / name).read_text() == '{% include "django/forms/widgets/input.html" %}\n'
    assert (root / "django/forms/widgets/input.html").read_text() == (
        '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %}'
        " value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
        '{% include "django/forms/widgets/attrs.html" %}>\n'
    )
    assert (root / "django/forms/widgets/textarea.html").read_text() == (
        '<textarea name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>\n'
        "{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n"
    )
    assert (root / "django/forms/widgets/attrs.html").read_text() == (
        "{% for name, value in widget.attrs.items %}{% if value is not False %}"
        " {{ name }}{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}"
        "{% endif %}{% endfor %}"
    )


def test_other_widgets_still_go_through_djangos_templates():
    widget = forms.RadioSelect(choices=[("a", "A & B")])
    html = widget.render("r", "a", renderer=WidgetRenderer())
    assert html == widget.render("r", "a", renderer=REFERENCE)
    assert 'type="radio"' in html and "A &amp; B" in html
