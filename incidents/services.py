from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from .models import Incident, Severity, TimelineEvent
from .policy import PATTERN_WINDOW, decide_postmortem

FIRST_NUMBER = 1001


def _earlier_sev3_same_pattern(incident: Incident) -> int:
    if not incident.pattern or incident.severity != Severity.SEV3:
        return 0
    return (
        Incident.objects.filter(
            pattern=incident.pattern,
            severity=Severity.SEV3,
            started_at__gte=incident.started_at - PATTERN_WINDOW,
            started_at__lt=incident.started_at,
        )
        .exclude(pk=incident.pk)
        .count()
    )


def apply_postmortem_policy(incident: Incident) -> None:
    """Set the incident's postmortem requirement and reason from the policy (no save)."""
    decision = decide_postmortem(
        incident,
        now=timezone.now(),
        earlier_sev3_same_pattern=_earlier_sev3_same_pattern(incident),
    )
    incident.postmortem_requirement = decision.level
    incident.postmortem_reason = decision.reason[:300]


def _refresh_later_same_pattern(incident: Incident) -> None:
    """A new or moved Sev3 can make a later one of the same pattern the third in 90 days."""
    if not incident.pattern:
        return
    later = Incident.objects.filter(
        pattern=incident.pattern,
        severity=Severity.SEV3,
        started_at__gt=incident.started_at,
        started_at__lte=incident.started_at + PATTERN_WINDOW,
    ).exclude(pk=incident.pk)
    for other in later:
        before = (other.postmortem_requirement, other.postmortem_reason)
        apply_postmortem_policy(other)
        if before != (other.postmortem_requirement, other.postmortem_reason):
            other.save(update_fields=["postmortem_requirement", "postmortem_reason"])


def _save_members(incident: Incident, services, members) -> None:
    if services is not None:
        incident.services.set(services)
    if members is not None:
        incident.members.set(members)
    if incident.private:
        # The commander and creator of a private incident must keep seeing it.
        keep = [u for u in (incident.commander, incident.created_by) if u is not None]
        if keep:
            incident.members.add(*keep)


def create_incident(
    *, created_by: AbstractBaseUser | None, services=None, members=None, **fields
) -> Incident:
    """Open an incident under the next free INC number."""
    for attempt in range(5):
        incident = Incident(created_by=created_by, **fields)
        apply_postmortem_policy(incident)
        try:
            with transaction.atomic():
                top = Incident.objects.aggregate(top=Max("number"))["top"]
                incident.number = (top or FIRST_NUMBER - 1) + 1
                incident.save()
                _save_members(incident, services, members)
                _refresh_later_same_pattern(incident)
            return incident
        except IntegrityError:
            # Two people opened incidents at the same moment and took the same number.
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def update_incident(*, incident: Incident, services=None, members=None) -> Incident:
    """Save edited fields and keep the postmortem requirement in step with them."""
    apply_postmortem_policy(incident)
    incident.save()
    _save_members(incident, services, members)
    _refresh_later_same_pattern(incident)
    return incident


def add_timeline_event(*, incident: Incident, author, **fields) -> TimelineEvent:
    """Record a fact on the incident's timeline."""
    return TimelineEvent.objects.create(incident=incident, author=author, **fields)


@transaction.atomic
def insert_timeline_events(*, incident: Incident, events: list[dict], by) -> list[TimelineEvent]:
    """Add several events at once (a confirmed paste): all of them or none."""
    return [add_timeline_event(incident=incident, author=by, **fields) for fields in events]
