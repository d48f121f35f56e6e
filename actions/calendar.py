"""A personal iCalendar feed of open action items, behind a secret and revocable URL.

Calendar apps fetch the URL without logging in, so the token is the only credential: it is
long and random, and resetting or revoking it makes the old URL answer 404 at once.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from icalendar import Calendar, Event

from .models import ActionItem, CalendarFeed


def build_calendar(user) -> bytes:
    """One all-day event per open item the user owns (and may see), on its due date."""
    items = (
        ActionItem.objects.visible_to(user)
        .open()
        .filter(owner=user)
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
    from postmortems.meetings import calendar_events

    for event in calendar_events(user, stamp=stamp):
        cal.add_component(event)
    return cal.to_ical()


@login_not_required
@require_GET
def calendar_feed(request, token: str):
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        raise Http404("No such calendar feed.")
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    response = HttpResponse(build_calendar(feed.user), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_http_methods(["GET", "POST"])
def calendar_settings(request):
    feed = CalendarFeed.objects.filter(user=request.user).first()
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("create", "reset"):
            CalendarFeed.objects.filter(user=request.user).delete()
            CalendarFeed.objects.create(user=request.user)
            note = "The old address stops working now." if action == "reset" else ""
            messages.success(request, f"Your calendar address is ready. {note}".strip())
        elif action == "revoke":
            CalendarFeed.objects.filter(user=request.user).delete()
            messages.success(request, "Calendar feed turned off; its address no longer works.")
        return redirect("actions:calendar")
    url = settings.SITE_URL + feed.get_absolute_url() if feed else ""
    return render(request, "actions/calendar.html", {"feed": feed, "url": url})
