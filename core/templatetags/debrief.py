"""Small display helpers shared by every page: times, durations, badges.

A builtin (settings.TEMPLATES), so templates need no `{% load debrief %}`; the few that load it
still work. Helpers that Python code needs too live in the domain (incidents/formatting.py).
"""

from django import template
from django.conf import settings
from django.template.defaulttags import CsrfTokenNode

from incidents import formatting, permissions, timeline_rows
from incidents.form_rendering import field_html
from incidents.formatting import utc_html, when_html

register = template.Library()


register.filter("duration", formatting.duration)


@register.simple_tag
def field(bound_field):
    """`{% field form.title %}`: label, control, help and errors (incidents/form_rendering.py)."""
    return field_html(bound_field)


@register.simple_tag
def upload_limit() -> int:
    """The largest request body accepted, for the browser's check before sending."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


@register.simple_tag
def when(value, fmt: str = "%Y-%m-%d %H:%M"):
    """A time in the viewer's timezone, with UTC on hover and a machine-readable value."""
    return when_html(value, fmt)


@register.simple_tag
def utc(value, fmt: str = "%Y-%m-%d %H:%M"):
    """A time in UTC, as documents expect."""
    return utc_html(value, fmt)


register.simple_tag(formatting.severity_badge, name="severity_badge")
register.simple_tag(formatting.status_pill, name="status_pill")


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    query = context.get("query", "")
    return f"?{query}&page={number}" if query else f"?page={number}"


@register.simple_tag(takes_context=True)
def can(context, action: str, obj=None) -> bool:
    """`{% can "edit" postmortem as may_edit %}`: whether the viewer may do it, to hide the
    buttons and forms they may not use (the service still decides; docs/permissions.md)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return permissions.can(user, action, obj)


# Long timeline tables: rows written in Python (incidents/timeline_rows.py says why).
@register.simple_tag(takes_context=True)
def incident_timeline_rows(context, events, may_edit: bool):
    csrf_input = CsrfTokenNode().render(context) if may_edit else ""
    return timeline_rows.editable_rows(events, may_edit=may_edit, csrf_input=csrf_input)


@register.simple_tag
def document_timeline_rows(events, phase_rows: bool = True):
    return timeline_rows.document_rows(events, phase_rows=phase_rows)


@register.simple_tag
def presenter_timeline_rows(events, fresh):
    return timeline_rows.presenter_rows(events, fresh=fresh)
