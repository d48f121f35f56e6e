"""Drafting together: the editor's presence poll, and a section someone else saved."""

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from .. import presence, services
from ..models import Postmortem
from .contexts import postmortem_for, section_context, system_names


@require_POST
def presence_poll(request, number: int):
    """The editor's heartbeat every few seconds: records where this person is and answers
    who else is here and each section's newest revision number (one query each, plus a
    write at most every few heartbeats)."""
    postmortem = presence.for_poll(request.user, number)
    if postmortem is None:
        raise Http404("No such postmortem.")
    if request.POST.get("left"):
        presence.leave(postmortem=postmortem, by=request.user)
        return HttpResponse(status=204)
    others = presence.heartbeat(
        postmortem=postmortem, by=request.user, section=request.POST.get("section", "")
    )
    response = JsonResponse(
        {
            "people": [{"name": p.name, "section": p.section, "label": p.label} for p in others],
            "numbers": postmortem.numbers,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def section_fresh(request, number: int, section: str):
    """The section as someone else last saved it, with what changed since revision `since`:
    the editor puts it in place, or shows it as a notice while the section is being edited."""
    postmortem = postmortem_for(request, number)
    if section not in Postmortem.SECTION_LABELS:
        raise Http404("No such section.")
    try:
        since = max(int(request.GET.get("since", "")), 0)
    except ValueError:
        since = 0
    news = services.section_news(postmortem=postmortem, section=section, since=since)
    if news is None:
        return HttpResponse(status=204)
    context = section_context(
        postmortem, section, news.revision, system_names(postmortem.incident), remote=news
    )
    return render(request, "postmortems/includes/section_fresh.html", context)
