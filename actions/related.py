"""Unfinished fixes from earlier incidents like this one, pointed out in the editor."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from incidents.models import Incident
from postmortems.models import ContributingFactor

from .models import ActionItem


def earlier_open_items(
    incident: Incident, user, limit: int = 10, *, service_ids=None, categories=None
):
    """Open action items from earlier postmortems on the same services or factor categories.

    `service_ids` and `categories` (of the incident's factors) may be given by a page that has
    read them already."""
    if service_ids is None:
        service_ids = list(incident.services.values_list("pk", flat=True))
    if categories is None:
        categories = list(
            ContributingFactor.objects.filter(postmortem__incident=incident)
            .values_list("category", flat=True)
            .distinct()
        )
    service_ids, categories = list(service_ids), sorted(set(categories))
    if not service_ids and not categories:
        return []
    # EXISTS per item, in the list's index order: most earlier items match (categories are
    # few), so the database walks open items by due date and stops after `limit`, instead of
    # joining every earlier item to its services and factors first (grew with history).
    match = Q(pk__in=[])
    if service_ids:
        match |= Exists(
            Incident.services.through.objects.filter(
                incident_id=OuterRef("postmortem__incident_id"), service_id__in=service_ids
            )
        )
    if categories:
        match |= Exists(
            ContributingFactor.objects.filter(
                postmortem_id=OuterRef("postmortem_id"), category__in=categories
            )
        )
    return list(
        ActionItem.objects.visible_to(user)
        .open()
        .filter(postmortem__incident__started_at__lt=incident.started_at)
        .exclude(postmortem__incident=incident)
        .filter(match)
        .select_related("owner", "postmortem__incident")
        .order_by("due_on", "priority", "pk")[:limit]
    )
