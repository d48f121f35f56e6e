"""Small display helpers shared by every page: times, durations, badges."""

from datetime import UTC, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """2 h 14 m style, the way responders say it."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return "<1 m"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours:
        parts.append(f"{hours} h")
    if mins and not days:
        parts.append(f"{mins} m")
    return " ".join(parts)


@register.simple_tag
def when(value, fmt: str = "%Y-%m-%d %H:%M"):
    """A time in the viewer's timezone, with UTC on hover and a machine-readable value."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    utc = value.astimezone(UTC)
    return format_html(
        '<time class="ts" datetime="{}" title="{} UTC">{}</time>',
        utc.isoformat(),
        utc.strftime("%Y-%m-%d %H:%M"),
        local.strftime(fmt),
    )


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


@register.simple_tag
def severity_badge(severity: int):
    aliases = {1: "P0", 2: "P1", 3: "P2"}
    return format_html(
        '<span class="badge sev sev{}" title="{}">SEV{}</span>',
        severity,
        aliases.get(severity, ""),
        severity,
    )


@register.simple_tag
def status_pill(value: str, label: str):
    return format_html('<span class="pill pill-{}">{}</span>', value, label)


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    query = context.get("query", "")
    return f"?{query}&page={number}" if query else f"?page={number}"
