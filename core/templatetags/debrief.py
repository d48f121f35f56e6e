"""Small display helpers shared by every page: times, durations, badges.

A builtin (settings.TEMPLATES), so templates need no `{% load debrief %}`; the few that load it
still work. Helpers that Python code needs too live in the domain (incidents/formatting.py).
"""

from datetime import UTC

from django import template
from django.conf import settings
from django.utils.html import format_html

from incidents import formatting, permissions

register = template.Library()


register.filter("duration", formatting.duration)


@register.simple_tag
def upload_limit() -> int:
    """The largest request body accepted, for the browser's check before sending."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


register.simple_tag(formatting.when, name="when")


@register.simple_tag
def utc(value, fmt: str = "%Y-%m-%d %H:%M"):
    """A time in UTC, as documents expect."""
    if value is None:
        return "—"
    return format_html(
        '<time class="ts" datetime="{}">{} UTC</time>',
        value.astimezone(UTC).isoformat(),
        value.astimezone(UTC).strftime(fmt),
    )


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
