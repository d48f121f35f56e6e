"""Timeline paste: preview what a pasted chat log or alert list would add, save on confirm."""

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from incidents import permissions
from incidents.bounds import RANGE_TEXT, day_in_range
from incidents.models import Incident
from incidents.services import insert_timeline_events
from incidents.timeline_paste import parse_timeline

from ..forms import TimelinePasteForm


def _preview_paste(incident, form) -> dict:
    day, zone = form.cleaned_data["day"], ZoneInfo(form.cleaned_data["zone"])
    parsed = parse_timeline(form.cleaned_data["text"], day=day, tz=zone)
    existing = set(incident.timeline.values_list("occurred_at", "text"))
    now = timezone.now()
    rows, skipped = [], []
    for event in parsed.events:
        if not day_in_range(event.occurred_at):
            skipped.append((event.line_no, event.text, f"is not between {RANGE_TEXT}"))
        elif event.occurred_at > now:
            skipped.append((event.line_no, event.text, "is in the future — check the day"))
        elif (event.occurred_at, event.text) in existing:
            skipped.append((event.line_no, event.text, "is already on the timeline"))
        else:
            rows.append(event)
    return {"events": rows, "unreadable": parsed.unreadable, "skipped": skipped}


@require_http_methods(["GET", "POST"])
def timeline_paste(request, number: int):
    incident = get_object_or_404(Incident.objects.visible_to(request.user), number=number)
    permissions.require(request.user, "edit", incident)  # the preview is for who may add it
    viewer_zone = timezone.get_current_timezone_name()
    initial = {"day": timezone.localtime(incident.started_at).date(), "zone": viewer_zone}
    form = TimelinePasteForm(request.POST or None, initial=initial, viewer_zone=viewer_zone)
    context = {"incident": incident, "form": form, "postmortem": incident.postmortem_or_none}
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 422
        else:
            preview = _preview_paste(incident, form)
            if request.POST.get("confirm") and preview["events"]:
                added = insert_timeline_events(
                    incident=incident, events=preview["events"], by=request.user
                )
                count = len(added)
                messages.success(
                    request, f"{count} timeline event{'s' if count != 1 else ''} added."
                )
                target = incident.get_absolute_url() + "#timeline"
                if request.htmx:
                    return HttpResponseClientRedirect(target)
                return redirect(target)
            context["preview"] = preview
    template = "postmortems/timeline_paste.html"
    if request.htmx and request.method == "POST":
        template += "#paste-preview"
    return render(request, template, context, status=status)
