"""Every change to incidents, their timelines and a person's preferences goes through here.

Each function takes the acting person as `by` and asks incidents.permissions before it writes,
so the incident page, the meeting capture, the timeline paste and the import get one answer.
Edits are decided by the database: the row is updated only if it still has the version the
editor loaded, otherwise EditConflict carries the row as it is now.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Model
from django.utils import timezone

from audit import trail

from . import bounds, permissions
from .models import Incident, Profile, Severity, TimelineEvent
from .policy import PATTERN_WINDOW, decide_postmortem

FIRST_NUMBER = 1001
TIMELINE_FIELDS = ("occurred_at", "phase", "text", "source", "source_detail")
TIMELINE_TEXT_LIMIT = TimelineEvent._meta.get_field("text").max_length
INCIDENT_MOMENTS = ("started_at", "detected_at", "mitigated_at", "resolved_at")
PREFERENCE_FIELDS = ("timezone", "notify_due_soon", "reminder_hour")


class EditConflict(Exception):
    """Someone saved the row after the version the editor loaded; `current` is the row now."""

    def __init__(self, current: Model):
        super().__init__(f"{type(current).__name__} {current.pk} changed meanwhile")
        self.current = current

    def differences(self, typed: dict, labels: dict | None = None) -> list[str]:
        """What the other save left that differs from what this editor typed, as
        "Label: “theirs”" lines, so the refused editor sees what changed."""
        lines = []
        for name, mine in typed.items():
            try:
                field = type(self.current)._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if field.many_to_many or field.name == "version":
                continue
            theirs = getattr(self.current, name)
            if _comparable(theirs) != _comparable(mine):
                label = (labels or {}).get(name) or str(field.verbose_name).capitalize()
                shown = dict(field.flatchoices).get(theirs, theirs) if field.choices else theirs
                lines.append(f"{label}: “{_shown(shown)}”")
        return lines

    def message(
        self, what: str, typed: dict, *, labels: dict | None = None, replace: bool = True
    ) -> str:
        """The refusal as the editor reads it: who won, what they left, what to do.

        `replace`: the form now carries their version, so saving again replaces it.
        """
        changed = self.differences(typed, labels)
        text = (
            f"Someone else saved this {what} while you were editing; your changes were not "
            "saved and are still in the form below."
        )
        if changed:
            text += " Their version differs in " + "; ".join(changed) + "."
        if replace:
            return text + " Check theirs, then save again to replace it."
        return text + " Reload the page in another tab to see theirs, then save again."


def _comparable(value):
    return getattr(value, "pk", value)


def _shown(value) -> str:
    if value is None or value == "":
        return "(empty)"
    if hasattr(value, "astimezone"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


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


@trail.audited
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
    _check_moments(fields)
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


def describe_event(event: TimelineEvent) -> str:
    """A timeline event in full, as the audit trail keeps a pasted or imported one."""
    moment = event.occurred_at.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC · {event.get_phase_display()} · {event.text}"


def _check_moments(fields: dict) -> None:
    """Every route to a row (forms, imports, commands) keeps its times within the range."""
    errors = {}
    for name in INCIDENT_MOMENTS + ("occurred_at",):
        try:
            bounds.check_moment(fields.get(name))
        except ValidationError as err:
            errors[name] = err.messages
    if errors:
        raise ValidationError(errors)


def update_if_unchanged(row: Model, version: int | None, **changes) -> None:
    """UPDATE the row only if it still has `version` (None: whatever it has); bump it.

    The database decides: of several saves from one loaded version exactly one matches; the
    others update nothing and raise EditConflict with the row as it is now. Raises
    `DoesNotExist` when the row was deleted meanwhile.
    """
    before = trail.snapshot(row)  # an UPDATE sends no signal: the trail is written here
    model = type(row)
    rows = model.objects.filter(pk=row.pk)
    if version is not None:
        rows = rows.filter(version=version)
    fields = {f.name for f in model._meta.concrete_fields}
    stamp = {"updated_at": timezone.now()} if "updated_at" in fields else {}
    if not rows.update(**changes, **stamp, version=F("version") + 1):
        raise EditConflict(current=model.objects.get(pk=row.pk))
    if changes:
        trail.record_update(before, changes, row=row)
    row.refresh_from_db(fields=["version", *stamp])


def claim_version(row: Model, version: int | None) -> None:
    """Take the row for an edit made of several saves: bump its version if it is still
    `version` (the row stays locked until the transaction ends), else EditConflict."""
    update_if_unchanged(row, version)


@trail.audited
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
    _check_moments(fields)
    for name, value in fields.items():
        setattr(incident, name, value)
    apply_postmortem_policy(incident)
    changes = {name: getattr(incident, name) for name in fields}
    changes["postmortem_requirement"] = incident.postmortem_requirement
    changes["postmortem_reason"] = incident.postmortem_reason
    update_if_unchanged(incident, version, **changes)
    _save_members(incident, services, members)
    _refresh_later_same_pattern(incident)
    return incident


@trail.audited
def add_timeline_event(*, incident: Incident, by, **fields) -> TimelineEvent:
    """Record a fact on the incident's timeline."""
    permissions.require(by, "edit", incident)
    _check_moments(fields)
    return TimelineEvent.objects.create(incident=incident, author=by, **fields)


def _check_events(events: Iterable) -> None:
    """Facts from a paste or an import are held to what a typed one is held to."""
    for event in events:
        bounds.check_moment(event.occurred_at)
        bounds.check_text(event.text)
        bounds.check_line(event.source_detail)
        if len(event.text) > TIMELINE_TEXT_LIMIT:
            raise ValidationError(
                f"A timeline event holds at most {TIMELINE_TEXT_LIMIT:,} characters."
            )


@trail.audited
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
    _check_events(events)
    seen = set(incident.timeline.values_list("occurred_at", "text"))
    added = []
    for event in events:
        if (event.occurred_at, event.text) in seen:
            continue
        seen.add((event.occurred_at, event.text))
        fields = {name: getattr(event, name) for name in TIMELINE_FIELDS}
        added.append(TimelineEvent(incident=incident, author=by, origin=origin, **fields))
    # One INSERT for the whole paste, not one per line; one audit entry lists every line.
    created = TimelineEvent.objects.bulk_create(added)
    trail.record_added(incident, "timeline", created, describe=describe_event)
    return created


@trail.audited
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
    _check_moments(fields)
    update_if_unchanged(event, version, **fields)
    for name, value in fields.items():
        setattr(event, name, value)
    return event


@trail.audited
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
