"""The calendar feed's pages: the secret .ics address calendar apps fetch, and its settings."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from . import calendar
from .models import CalendarFeed


@login_not_required
@require_GET
def calendar_feed(request, token: str):
    feed = calendar.feed_for_token(token)
    if feed is None:
        raise Http404("No such calendar feed.")
    body = calendar.build_calendar(feed.user)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_http_methods(["GET", "POST"])
def calendar_settings(request):
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("create", "reset"):
            calendar.open_calendar_feed(user=request.user, by=request.user)
            note = "The old address stops working now." if action == "reset" else ""
            messages.success(request, f"Your calendar address is ready. {note}".strip())
        elif action == "revoke":
            calendar.revoke_calendar_feed(user=request.user, by=request.user)
            messages.success(request, "Calendar feed turned off; its address no longer works.")
        return redirect("actions:calendar")
    feed = CalendarFeed.objects.filter(user=request.user).first()
    url = settings.SITE_URL + feed.get_absolute_url() if feed else ""
    return render(request, "actions/calendar.html", {"feed": feed, "url": url})
