"""Every change to incidents, their timelines and a person's preferences goes through here.

Each function takes the acting person as `by` and asks incidents.permissions before it writes,
so the incident page, the meeting capture, the timeline paste and the import get one answer.
Edits are decided by the database: the row is updated only if it still has the version the
editor loaded, otherwise EditConflict carries the row as it is now.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Model
from django.utils import timezone

from . import permissions
from .models import Incident, Profile, Severity, TimelineEvent
from .policy import PATTERN_WINDOW, decide_postmortem

FIRST_NUMBER = 1001
TIMELINE_FIELDS = ("occurred_at", "phase", "text", "source", "source_detail")
PREFERENCE_FIELDS = ("timezone", "notify_due_soon", "reminder_hour")


class EditConflict(Exception):
    """Someone saved the row after the version the editor loaded; `current` is the row now."""

    def __init__(self, current: Model):
        super().__init__(f"{type(current).__name__} {current.pk} changed meanwhile")
        self.current = current


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


def _privacy_changes(incident: Incident, private, members) -> bool:
    """Whether the edit changes who may read the incident (its privacy or its members)."""
    if private is not None and bool(private) != incident.private:
        return True
    if members is None:
        return False
    current = set(incident.members.values_list("pk", flat=True))
    return {m.pk for m in members} != current


def create_incident(
    *,
    by: AbstractBaseUser | None = None,
    services=None,
    members=None,
    created_by: AbstractBaseUser | None = None,
    **fields,
) -> Incident:
    """Open an incident under the next free INC number.

    `by` is who opens it and is asked; None is an operator's command (the Markdown import at
    the console, demo data), with nobody to ask. `created_by` is who the incident is recorded
    as opened by when that is someone else (an import on behalf of its author).
    """
    if by is not None:
        permissions.require(by, "open_incident")
    for attempt in range(5):
        incident = Incident(created_by=created_by or by, **fields)
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


def _update_if_unchanged(row: Model, version: int | None, **changes) -> None:
    """UPDATE the row only if it still has `version` (None: whatever it has); bump it.

    Raises EditConflict with the row as it is now when someone saved in between, and
    `DoesNotExist` when it was deleted meanwhile.
    """
    rows = type(row).objects.filter(pk=row.pk)
    if version is not None:
        rows = rows.filter(version=version)
    if not rows.update(**changes, updated_at=timezone.now(), version=F("version") + 1):
        raise EditConflict(current=type(row).objects.get(pk=row.pk))
    row.refresh_from_db(fields=["version", "updated_at"])


@transaction.atomic
def update_incident(
    *, incident: Incident, by, version: int, services=None, members=None, **fields
) -> Incident:
    """Save edited fields if nobody saved since `version`; keep the postmortem policy in step.

    `incident` is the row as loaded (its access is what is asked), `fields` the new values.
    Making it private or public, or changing its members, is asked separately
    ("change_privacy"): a member must not lock the team out nor publish a private incident.
    """
    permissions.require(by, "edit", incident)
    if _privacy_changes(incident, fields.get("private"), members):
        permissions.require(by, "change_privacy", incident)
    for name, value in fields.items():
        setattr(incident, name, value)
    apply_postmortem_policy(incident)
    changes = {name: getattr(incident, name) for name in fields}
    changes["postmortem_requirement"] = incident.postmortem_requirement
    changes["postmortem_reason"] = incident.postmortem_reason
    _update_if_unchanged(incident, version, **changes)
    _save_members(incident, services, members)
    _refresh_later_same_pattern(incident)
    return incident


def add_timeline_event(*, incident: Incident, by, **fields) -> TimelineEvent:
    """Record a fact on the incident's timeline."""
    permissions.require(by, "edit", incident)
    return TimelineEvent.objects.create(incident=incident, author=by, **fields)


@transaction.atomic
def insert_timeline_events(
    *, incident: Incident, events: Iterable, by, origin: str = TimelineEvent.Origin.PASTE
) -> list[TimelineEvent]:
    """Add several facts at once (a pasted timeline): all or none, each fact once.

    `events` have the timeline fields as attributes (incidents.timeline_paste.ParsedEvent).
    A fact already on the timeline (same moment, same text) is skipped, so confirming a
    paste twice adds nothing the second time.
    """
    permissions.require(by, "edit", incident)
    seen = set(incident.timeline.values_list("occurred_at", "text"))
    added = []
    for event in events:
        if (event.occurred_at, event.text) in seen:
            continue
        seen.add((event.occurred_at, event.text))
        fields = {name: getattr(event, name) for name in TIMELINE_FIELDS}
        added.append(TimelineEvent(incident=incident, author=by, origin=origin, **fields))
    # One INSERT for the whole paste, not one per line.
    return TimelineEvent.objects.bulk_create(added)


@transaction.atomic
def update_timeline_event(
    *, event: TimelineEvent, by, version: int | None, **fields
) -> TimelineEvent:
    """Correct a timeline event if nobody saved it since `version`.

    `version` None replaces whatever is there, for callers that locked the row themselves.
    """
    permissions.require(by, "edit", event)
    unknown = set(fields) - set(TIMELINE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    _update_if_unchanged(event, version, **fields)
    for name, value in fields.items():
        setattr(event, name, value)
    return event


def delete_timeline_event(*, event: TimelineEvent, by) -> None:
    """Remove a fact from the timeline."""
    permissions.require(by, "edit", event)
    event.delete()


def save_preferences(*, user, by, **fields) -> Profile:
    """Save a person's display and email preferences (their profile is made if missing)."""
    profile = Profile.objects.filter(user=user).first() or Profile(user=user)
    permissions.require(by, "change_preferences", profile)
    unknown = set(fields) - set(PREFERENCE_FIELDS)
    if unknown:
        raise ValueError(f"Not a preference: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean(exclude=["user"])
    profile.save()
    return profile
