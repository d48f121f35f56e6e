"""Related incidents in the editor: link by reference, unlink, suggestions."""

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Incident

from .. import services
from .contexts import (
    editable_postmortem_for,
    editor_postmortem_for,
    related_context,
    suggestions_context,
)

_REFERENCE = re.compile(r"^\s*(?:INC-?)?(\d+)\s*$", re.IGNORECASE)


def _related_response(request, postmortem):
    if request.htmx:
        context = related_context(request, postmortem)
        return render(request, "postmortems/postmortem_edit.html#related", context)
    return redirect(reverse("postmortems:edit", args=[postmortem.incident.number]) + "#related")


@require_POST
def related_add(request, number: int):
    postmortem = editable_postmortem_for(request, number)
    found = _REFERENCE.match(request.POST.get("reference", "")[:40])
    other = (
        Incident.objects.visible_to(request.user).filter(number=int(found.group(1))).first()
        if found and len(found.group(1)) < 10
        else None
    )
    if other is None:
        messages.error(request, "No incident with that reference; use the form INC-1042.")
        return _related_response(request, postmortem)
    try:
        services.link_related(incident=postmortem.incident, other=other, by=request.user)
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
    else:
        messages.success(request, f"Linked {other.reference}.")
    return _related_response(request, postmortem)


@require_POST
def related_remove(request, number: int, other: int):
    postmortem = editable_postmortem_for(request, number)
    linked = get_object_or_404(postmortem.incident.related.visible_to(request.user), number=other)
    services.unlink_related(incident=postmortem.incident, other=linked, by=request.user)
    messages.success(request, f"Unlinked {linked.reference}.")
    return _related_response(request, postmortem)


@require_GET
def related_suggestions(request, number: int):
    """The editor's suggestions, asked for once it has loaded; without htmx, the editor with
    them shown in place."""
    postmortem = editor_postmortem_for(request, number)
    if not request.htmx:
        url = reverse("postmortems:edit", args=[postmortem.incident.number])
        return redirect(f"{url}?suggestions=1#related")
    context = suggestions_context(request, postmortem)
    return render(request, "postmortems/postmortem_edit.html#suggestions", context)
