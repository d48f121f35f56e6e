"""Renderings of incident figures, shared by pages, charts and exports: plain text, and the
small pieces of HTML (times, badges, pills) that templates and rows written in Python share.

Templates reach these through the `debrief` tag library (core/templatetags/debrief.py); long
tables (incidents/timeline_rows.py) call them directly.
"""

from datetime import UTC, datetime, timedelta
from html import escape

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .models import SEVERITY_ALIASES


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


def when_html(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in the viewer's timezone, with UTC on hover and a machine-readable value."""
    if value is None:
        return "—"
    utc = value.astimezone(UTC)
    try:
        local = timezone.localtime(value)
    except OverflowError:  # a time at the very edge of the calendar: show it in UTC
        local = utc
    return mark_safe(
        f'<time class="ts" datetime="{escape(utc.isoformat())}" '
        f'title="{escape(utc.strftime("%Y-%m-%d %H:%M"))} UTC">{escape(local.strftime(fmt))}</time>'
    )


def utc_html(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in UTC, as documents expect."""
    if value is None:
        return "—"
    utc = value.astimezone(UTC)
    shown = escape(utc.strftime(fmt))
    return mark_safe(f'<time class="ts" datetime="{escape(utc.isoformat())}">{shown} UTC</time>')


def severity_badge(severity: int):
    return format_html(
        '<span class="badge sev sev{}" title="{}">SEV{}</span>',
        severity,
        SEVERITY_ALIASES.get(severity, ""),
        severity,
    )


def status_pill(value: str, label: str):
    return format_html('<span class="pill pill-{}">{}</span>', value, label)
