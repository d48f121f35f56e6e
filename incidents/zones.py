"""The one answer to "which timezone does this person see times in?": their profile's zone,
else UTC. Everything is stored in UTC; a zone only changes how a time is shown or which local
day "today" is. A stored name that no longer exists (a retired tz database entry) falls back
to UTC rather than failing a page or an email."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
