"""Unfinished fixes from earlier incidents like this one, pointed out in the editor."""

from __future__ import annotations

from django.db.models import Q

from incidents.models import Incident
from postmortems.models import ContributingFactor

from .models import ActionItem


def earlier_open_items(incident: Incident, user, limit: int = 10):
    """Open action items from earlier postmortems on the same services or factor categories."""
    service_ids = list(incident.services.values_list("pk", flat=True))
    categories = list(
        ContributingFactor.objects.filter(postmortem__incident=incident)
        .values_list("category", flat=True)
        .distinct()
    )
    if not service_ids and not categories:
        return []
    match = Q(pk__in=[])
    if service_ids:
        match |= Q(postmortem__incident__services__in=service_ids)
    if categories:
        match |= Q(postmortem__factors__category__in=categories)
    matching = (
        ActionItem.objects.visible_to(user)
        .open()
        .filter(postmortem__incident__started_at__lt=incident.started_at)
        .exclude(postmortem__incident=incident)
        .filter(match)
        .values("pk")
    )
    return list(
        ActionItem.objects.filter(pk__in=matching)
        .select_related("owner", "postmortem__incident")
        .order_by("due_on", "pk")[:limit]
    )
