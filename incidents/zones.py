"""The one answer to "which timezone does this person see times in?": their profile's zone,
else UTC. Everything is stored in UTC; a zone only changes how a time is shown or which local
day "today" is. A stored name that no longer exists (a retired tz database entry) falls back
to UTC rather than failing a page or an email."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

UTC_NAME = "UTC"
UTC_ZONE = ZoneInfo(UTC_NAME)


def zone_named(name: str | None) -> ZoneInfo:
    """The zone called `name`; UTC for no name or one the tz database does not know. For code
    that reads the name straight from a query (`values_list("owner__profile__timezone")`)."""
    if not name:
        return UTC_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_ZONE


def zone_of(user) -> ZoneInfo:
    """The zone `user` sees times in: their profile's, else UTC (anonymous, no profile)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return UTC_ZONE
    # A missing one-to-one row raises RelatedObjectDoesNotExist, an AttributeError.
    profile = getattr(user, "profile", None)
    return profile.zone if profile is not None else UTC_ZONE


# --- The timezone picker ------------------------------------------------------------------------

# Zones most people pick, offered first so nobody scrolls 600 names to find them.
COMMON_ZONES = (
    UTC_NAME,
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)


@cache
def _all_zone_options() -> str:
    """Every zone as <option>s, built once per process: the tz database does not change
    while the server runs, and rendering 600 options through widget templates cost ~70 ms."""
    return format_html_join(
        "", '<option value="{}">{}</option>', ((n, n) for n in sorted(available_timezones()))
    )


class ZoneSelect(forms.Select):
    """A <select> of every zone: the viewer's current zone and the common ones first, the
    full list after them from a fragment rendered once per process."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        current = str(value or UTC_NAME)
        first = dict.fromkeys((current, *COMMON_ZONES))
        common = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((n, mark_safe(" selected") if n == current else "", n) for n in first),
        )
        return format_html(
            '<select name="{}"{}><optgroup label="Common">{}</optgroup>'
            '<optgroup label="All timezones">{}</optgroup></select>',
            name,
            flatatt(attrs),
            common,
            _all_zone_options(),
        )
