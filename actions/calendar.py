"""A personal iCalendar feed of open action items, behind a secret and revocable URL.

Calendar apps fetch the URL without logging in, so the token is the only credential: it is
long and random, and resetting or revoking it makes the old URL answer 404 at once.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event

from audit import trail
from incidents import permissions
from incidents.bounds import EARLIEST_DAY, LATEST_DAY
from postmortems.meetings import calendar_events

from .models import ActionItem, CalendarFeed


def build_calendar(user) -> bytes:
    """One all-day event per open item the user owns (and may see), on its due date."""
    items = (
        ActionItem.objects.visible_to(user)
        .open()
        .filter(owner=user, due_on__range=(EARLIEST_DAY, LATEST_DAY))
        .select_related("postmortem__incident")
        .order_by("due_on", "pk")
    )
    cal = Calendar()
    cal.add("prodid", "-//Debrief//Action items//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Debrief action items")
    stamp = timezone.now()
    for item in items:
        incident = item.postmortem.incident
        url = settings.SITE_URL + item.get_absolute_url()
        event = Event()
        event.add("uid", f"actionitem-{item.pk}@debrief")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.due_on)
        event.add("dtend", item.due_on + timedelta(days=1))
        event.add("summary", f"[{item.priority_code}] {item.title} ({incident.reference})")
        event.add("description", f"{item.get_status_display()} · {incident.title}\n{url}")
        event.add("url", url)
        event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: keep the day free
        cal.add_component(event)
    # Review meetings the user facilitates or attends sit beside their deadlines.
    for event in calendar_events(user, stamp=stamp):
        cal.add_component(event)
    return cal.to_ical()


def feed_for_token(token: str) -> CalendarFeed | None:
    """The active feed behind a token, marked as used (None for an unknown or dead one)."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token[:200]).first()
    if feed is None or not feed.user.is_active:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed


@trail.audited
@transaction.atomic
def open_calendar_feed(*, user, by) -> CalendarFeed:
    """Give the user a feed under a new secret address; any old address stops working."""
    permissions.require(by, "manage_calendar_feed", user)
    CalendarFeed.objects.filter(user=user).delete()
    return CalendarFeed.objects.create(user=user)


@trail.audited
def revoke_calendar_feed(*, user, by) -> None:
    """Turn the user's feed off; its address answers 404 from now on."""
    permissions.require(by, "manage_calendar_feed", user)
    CalendarFeed.objects.filter(user=user).delete()
