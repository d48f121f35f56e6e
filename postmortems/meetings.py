"""Review meetings: scheduling, invites, the facilitator's live state, capture in the room,
and the summary afterwards (docs/domain.md, "The review meeting").

Everything captured in the meeting goes through the services that own the row (timeline
events, factors, action items, section revisions) and is also logged as a MeetingCapture, so
the document changes as usual and the meeting keeps a record of what it changed and what was
there before. Every change bumps `ReviewMeeting.version`, which is all a follower polls for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from audit import trail
from incidents import permissions
from incidents.models import TimelineEvent
from incidents.services import TIMELINE_FIELDS, add_timeline_event, update_timeline_event
from outbox.ledger import Key
from outbox.models import Dispatch
from outbox.queue import queue_emails

from . import services
from .models import MeetingAttendee, MeetingCapture, Postmortem, ReviewMeeting

Kind = MeetingCapture.Kind
AGENDA = ReviewMeeting.AGENDA
EVENT_FIELDS = TIMELINE_FIELDS  # what a timeline event has, as the incident page edits it
EVENT_LABELS = {
    "occurred_at": "Time",
    "phase": "Phase",
    "text": "Event",
    "source": "Source",
    "source_detail": "Source detail",
}


def _name(user) -> str:
    if user is None:
        return "nobody"
    return user.get_full_name() or user.get_username()


# --- Scheduling -------------------------------------------------------------------------------


def schedule_warnings(*, postmortem: Postmortem, facilitator, scheduled_at) -> list[str]:
    """What the practice would question about this schedule; none of it blocks scheduling."""
    incident = postmortem.incident
    warnings = []
    if facilitator is not None and facilitator.pk == incident.commander_id:
        warnings.append(
            f"{_name(facilitator)} was the incident commander. The practice asks for a "
            "facilitator who was not, so the room can question the response freely."
        )
    if scheduled_at is not None and incident.resolved_at is not None:
        late = scheduled_at - incident.resolved_at
        if late > ReviewMeeting.REVIEW_WITHIN:
            days = late.total_seconds() / 86400
            warnings.append(
                f"That is {days:.0f} days after the incident was resolved. The practice holds "
                "the review within 5 days, while memories and chat logs are fresh."
            )
    if scheduled_at is not None and incident.resolved_at is None:
        warnings.append("The incident is not resolved yet; review it once it is.")
    if scheduled_at is not None and scheduled_at < timezone.now():
        warnings.append("That time is in the past.")
    return warnings


@trail.audited
@transaction.atomic
def schedule_meeting(
    *,
    postmortem: Postmortem,
    scheduled_at: datetime,
    facilitator: AbstractBaseUser,
    attendees: list,
    location: str = "",
    by: AbstractBaseUser,
) -> ReviewMeeting:
    """Schedule a review and email each attendee (the facilitator too) an invite after commit."""
    permissions.require(by, "edit", postmortem)
    people = {u.pk: u for u in [facilitator, *attendees]}
    incident = postmortem.incident
    unseeing = [u for u in people.values() if not incident.is_visible_to(u)]
    if unseeing:
        names = ", ".join(sorted(u.get_username() for u in unseeing))
        raise ValidationError(
            f"{names} cannot see this private incident; add them as members of the incident first."
        )
    meeting = ReviewMeeting.objects.create(
        postmortem=postmortem,
        scheduled_at=scheduled_at,
        facilitator=facilitator,
        location=location.strip(),
        created_by=by,
        step_times=[[0, 0] for _ in AGENDA],
    )
    MeetingAttendee.objects.bulk_create(
        [MeetingAttendee(meeting=meeting, user=u) for u in people.values()]
    )
    # Claimed with the meeting, sent after the commit (postmortems/emails.py renders them); the
    # page shows each as "not sent yet" until it is delivered.
    _queue_attendee_emails(meeting, Dispatch.Kind.MEETING_INVITE, people.values())
    return meeting


# --- Calendar files ---------------------------------------------------------------------------


def _agenda_text() -> str:
    return "\n".join(
        f"{n}. {title}, {minutes} min" for n, (_, title, minutes) in enumerate(AGENDA, start=1)
    )


def meeting_event(meeting: ReviewMeeting, *, stamp: datetime, attendees=()) -> Event:
    """The meeting as an iCalendar event; the same UID in the invite and the feed."""
    incident = meeting.postmortem.incident
    url = settings.SITE_URL + meeting.get_absolute_url()
    event = Event()
    event.add("uid", f"review-meeting-{meeting.pk}@debrief")
    event.add("dtstamp", stamp)
    event.add("dtstart", meeting.scheduled_at.astimezone(UTC))
    event.add("dtend", meeting.ends_at.astimezone(UTC))
    event.add("summary", f"Postmortem review: {incident.reference} {incident.title}")
    event.add(
        "description",
        f"Blameless review of {incident.reference}, facilitated by "
        f"{_name(meeting.facilitator)}.\n\n{_agenda_text()}\n\nFollow along: {url}",
    )
    event.add("url", url)
    if meeting.location:
        event.add("location", meeting.location)
    event.add("status", "CONFIRMED")
    event.add("sequence", 0)
    facilitator = meeting.facilitator
    if facilitator is not None and facilitator.email:
        organizer = vCalAddress(f"mailto:{facilitator.email}")
        organizer.params["cn"] = vText(_name(facilitator))
        event.add("organizer", organizer)
    for person in attendees:
        if not person.email:
            continue
        address = vCalAddress(f"mailto:{person.email}")
        address.params["cn"] = vText(_name(person))
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["partstat"] = vText("NEEDS-ACTION")
        address.params["rsvp"] = vText("TRUE")
        event.add("attendee", address, encode=0)
    return event


def invite_ics(meeting: ReviewMeeting, attendees=()) -> str:
    """A METHOD:REQUEST calendar with the one meeting, as mail clients expect of an invite."""
    cal = Calendar()
    cal.add("prodid", "-//Debrief//Review meetings//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    cal.add_component(meeting_event(meeting, stamp=timezone.now(), attendees=attendees))
    return cal.to_ical().decode()


def calendar_events(user, *, stamp: datetime) -> list[Event]:
    """Review meetings the user facilitates or attends, from a month back, for their feed."""
    meetings = (
        ReviewMeeting.objects.visible_to(user)
        .filter(Q(facilitator=user) | Q(invites__user=user))
        .filter(scheduled_at__gte=timezone.now() - timedelta(days=30))
        .select_related("postmortem__incident", "facilitator")
        .distinct()
        .order_by("scheduled_at", "pk")
    )
    return [meeting_event(m, stamp=stamp) for m in meetings]


# --- Emails: invites and the summary, each at most once per attendee --------------------------


def _queue_attendee_emails(meeting: ReviewMeeting, kind: str, people) -> None:
    """Claim one email per attendee with an address, sent after the commit (see emails.py)."""
    queue_emails(Key.about(kind, u.pk, meeting) for u in people if u.email)


@transaction.atomic
def request_summary_email(*, meeting: ReviewMeeting, by: AbstractBaseUser) -> ReviewMeeting:
    """Queue the summary email to the attendees: once per meeting, after it has ended."""
    permissions.require(by, "drive_meeting", meeting)
    locked = _lock(meeting)
    if locked.ended_at is None:
        raise ValidationError("End the meeting first, so the summary is complete.")
    if locked.summary_requested_at is not None:
        local = timezone.localtime(locked.summary_requested_at)
        raise ValidationError(f"The summary was already emailed at {local:%Y-%m-%d %H:%M}.")
    locked.summary_requested_at = timezone.now()
    locked.version += 1
    locked.save(update_fields=["summary_requested_at", "version"])
    attendees = [i.user for i in locked.invites.select_related("user")]
    _queue_attendee_emails(locked, Dispatch.Kind.MEETING_SUMMARY, attendees)
    return locked


# --- Driving the meeting: steps and the countdown ---------------------------------------------

DRIVE_ACTIONS = ("start", "toggle", "pause", "resume", "extend", "next", "skip", "prev", "goto")
DRIVE_ACTIONS += ("end", "reopen")


def _lock(meeting: ReviewMeeting) -> ReviewMeeting:
    """The meeting row, locked for this transaction; related rows reused from `meeting`."""
    locked = ReviewMeeting.objects.select_for_update().get(pk=meeting.pk)
    locked.postmortem = meeting.postmortem  # already loaded by the caller, with its incident
    return locked


def _rows(meeting: ReviewMeeting) -> list[list[int]]:
    rows = [list(map(int, r)) for r in (meeting.step_times or [])]
    return rows + [[0, 0] for _ in range(len(AGENDA) - len(rows))]


def _fold(meeting: ReviewMeeting, now: datetime, *, keep_running: bool) -> None:
    """Add the running stretch to the current step's time spent."""
    rows = _rows(meeting)
    if meeting.running_since is not None:
        rows[meeting.step][0] += max(round((now - meeting.running_since).total_seconds()), 0)
    meeting.step_times = rows
    meeting.running_since = now if keep_running and meeting.running_since else None


def _run(meeting: ReviewMeeting, now: datetime) -> None:
    if meeting.started_at is None:
        meeting.started_at = now
    if meeting.running_since is None:
        meeting.running_since = now


def _move(meeting: ReviewMeeting, step: int, now: datetime) -> None:
    step = min(max(step, 0), ReviewMeeting.LAST_STEP)
    _fold(meeting, now, keep_running=False)
    meeting.step = step
    _run(meeting, now)  # a new step starts its countdown at once


@trail.audited
@transaction.atomic
def drive_meeting(
    *, meeting: ReviewMeeting, action: str, by: AbstractBaseUser, step: int | None = None
) -> ReviewMeeting:
    """Apply one of the facilitator's controls; returns the meeting as stored afterwards."""
    if action not in DRIVE_ACTIONS:
        raise ValidationError(f"Unknown control {action!r}.")
    permissions.require(by, "drive_meeting", meeting)
    locked = _lock(meeting)
    now = timezone.now()
    if locked.ended_at is not None and action != "reopen":
        raise ValidationError("The meeting has ended; reopen it to carry on.")
    if action == "toggle":
        action = "pause" if locked.running_since else "resume"
    if action in ("start", "resume"):
        _run(locked, now)
    elif action == "pause":
        _fold(locked, now, keep_running=False)
    elif action == "extend":
        rows = _rows(locked)
        rows[locked.step][1] += ReviewMeeting.EXTEND_SECONDS
        locked.step_times = rows
    elif action in ("next", "skip"):
        _move(locked, locked.step + 1, now)
    elif action == "prev":
        _move(locked, locked.step - 1, now)
    elif action == "goto":
        if step is None or not 0 <= step <= ReviewMeeting.LAST_STEP:
            raise ValidationError("Choose one of the five agenda steps.")
        _move(locked, step, now)
    elif action == "end":
        if locked.started_at is None:
            raise ValidationError("Start the meeting before ending it.")
        _fold(locked, now, keep_running=False)
        locked.ended_at = now
    elif action == "reopen":
        if locked.ended_at is None:
            return locked
        if locked.summary_requested_at is not None:
            raise ValidationError("The summary has been emailed; the record is final.")
        locked.ended_at = None
        _run(locked, now)
    locked.version += 1
    locked.save(
        update_fields=["step", "running_since", "step_times", "started_at", "ended_at", "version"]
    )
    return locked


# --- Capture in the room ----------------------------------------------------------------------


def record_capture(meeting: ReviewMeeting, kind: str, by, **fields) -> MeetingCapture:
    """Log one capture under the next meeting version (the caller holds the row lock)."""
    meeting.version += 1
    ReviewMeeting.objects.filter(pk=meeting.pk).update(version=meeting.version)
    return MeetingCapture.objects.create(
        meeting=meeting, kind=kind, version=meeting.version, step=meeting.step, author=by, **fields
    )


def open_for_capture(meeting: ReviewMeeting, by) -> ReviewMeeting:
    """Lock a running meeting for one capture by `by`, who must be allowed to edit its document."""
    permissions.require(by, "edit", meeting.postmortem)
    locked = _lock(meeting)
    if locked.ended_at is not None:
        raise ValidationError(
            "The meeting has ended; change the postmortem in the editor instead, or reopen the "
            "meeting."
        )
    return locked


def _event_snapshot(event: TimelineEvent) -> dict:
    return {
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "phase": event.phase,
        "text": event.text,
        "source": event.source,
        "source_detail": event.source_detail,
    }


@transaction.atomic
def capture_event(*, meeting: ReviewMeeting, by, **fields) -> MeetingCapture:
    """Add a timeline event to the incident, as the incident page would."""
    locked = open_for_capture(meeting, by)
    event = add_timeline_event(
        incident=locked.postmortem.incident,
        by=by,
        origin=TimelineEvent.Origin.MANUAL,
        **{k: v for k, v in fields.items() if k in EVENT_FIELDS},
    )
    return record_capture(locked, Kind.EVENT_ADDED, by, event=event, after=_event_snapshot(event))


@transaction.atomic
def correct_event(*, meeting: ReviewMeeting, event: TimelineEvent, by, **fields):
    """Correct a timeline event; the capture keeps what it said before. None if unchanged."""
    locked = open_for_capture(meeting, by)
    if event.incident_id != locked.postmortem.incident_id:
        raise ValidationError("That event belongs to another incident.")
    current = TimelineEvent.objects.select_for_update().get(pk=event.pk)
    before = _event_snapshot(current)
    changes = {name: fields[name] for name in EVENT_FIELDS if name in fields}
    for name, value in changes.items():
        setattr(current, name, value)
    after = _event_snapshot(current)
    if after == before:
        return None
    # Through the incident's service, so the edit bumps the event's version and an editor
    # holding the old one is told of the conflict. The row is locked above.
    update_timeline_event(event=current, by=by, version=None, **changes)
    return record_capture(
        locked, Kind.EVENT_CORRECTED, by, event=current, before=before, after=after
    )


@transaction.atomic
def capture_factor(
    *, meeting: ReviewMeeting, by, category: str, description: str, whys: list
) -> MeetingCapture:
    """Add a contributing factor through the postmortem's own service."""
    locked = open_for_capture(meeting, by)
    factor = services.add_factor(
        postmortem=locked.postmortem, by=by, category=category, description=description, whys=whys
    )
    after = {"category": category, "description": description}
    return record_capture(locked, Kind.FACTOR_ADDED, by, factor=factor, after=after)


@transaction.atomic
def capture_decision(*, meeting: ReviewMeeting, by, text: str) -> MeetingCapture:
    """Record a decision the room made; it is shown with the meeting on the document."""
    text = text.strip()
    if not text:
        raise ValidationError("Write the decision first.")
    return record_capture(open_for_capture(meeting, by), Kind.DECISION, by, text=text)


def _append(postmortem: Postmortem, section: str, text: str, by):
    """Append a paragraph to a section as a new revision; re-read and retry if someone saved
    the section in between (appending never overwrites their text)."""
    for _ in range(3):
        base = postmortem.revisions.filter(section=section).order_by("-number").first()
        current = Postmortem.objects.values_list(section, flat=True).get(pk=postmortem.pk)
        joined = f"{current.rstrip()}\n\n{text}" if current.strip() else text
        try:
            return services.save_section(
                postmortem=postmortem,
                section=section,
                text=joined,
                base=base.number if base else 0,
                by=by,
            )
        except services.SectionConflict:
            continue
    raise ValidationError("The section kept changing while the note was added; try again.")


@transaction.atomic
def capture_note(*, meeting: ReviewMeeting, by, text: str, section: str = "") -> MeetingCapture:
    """Record a note; with a section, the note is also appended to it as a new revision."""
    text = text.strip()
    if not text:
        raise ValidationError("Write the note first.")
    if section and section not in Postmortem.SECTION_LABELS:
        raise ValidationError("Choose one of the document's sections.")
    locked = open_for_capture(meeting, by)
    revision = _append(locked.postmortem, section, text, by) if section else None
    return record_capture(locked, Kind.NOTE, by, text=text, section=section, revision=revision)


@trail.audited
@transaction.atomic
def agree_publish_date(*, meeting: ReviewMeeting, by, publish_by: date) -> MeetingCapture:
    """The close step's decision: when the document will be published."""
    permissions.require(by, "drive_meeting", meeting)
    locked = open_for_capture(meeting, by)
    locked.publish_by = publish_by
    locked.save(update_fields=["publish_by"])
    text = f"Publish the postmortem by {publish_by:%Y-%m-%d}."
    return record_capture(
        locked, Kind.DECISION, by, text=text, after={"publish_by": str(publish_by)}
    )


# --- Reading a meeting: the current step, what is new, the summary ---------------------------


@dataclass
class Fresh:
    """What changed after a follower's last version, to highlight it."""

    events: set = field(default_factory=set)
    factors: set = field(default_factory=set)
    items: set = field(default_factory=set)
    captures: set = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.events or self.factors or self.items or self.captures)


def fresh_since(meeting: ReviewMeeting, version: int | None) -> Fresh:
    fresh = Fresh()
    if version is None or version >= meeting.version:
        return fresh
    rows = meeting.captures.filter(version__gt=version).values_list(
        "pk", "event_id", "factor_id", "item_id"
    )
    for pk, event_id, factor_id, item_id in rows:
        fresh.captures.add(pk)
        if event_id:
            fresh.events.add(event_id)
        if factor_id:
            fresh.factors.add(factor_id)
        if item_id:
            fresh.items.add(item_id)
    return fresh


def latest_captures(meeting: ReviewMeeting, count: int = 1) -> list[MeetingCapture]:
    return list(
        meeting.captures.select_related("author", "item__owner", "factor", "event").order_by(
            "-version"
        )[:count]
    )


def step_data(meeting: ReviewMeeting) -> dict:
    """The rows the current agenda step shows; one query per step, whatever its size."""
    postmortem = meeting.postmortem
    key = AGENDA[meeting.step][0]
    if key == "timeline":
        return {"events": list(postmortem.incident.timeline.for_table())}
    if key == "factors":
        factors = list(postmortem.factors.all())
        groups: dict[str, list] = {}
        for factor in factors:
            groups.setdefault(factor.get_category_display(), []).append(factor)
        return {"factors": factors, "factor_groups": sorted(groups.items())}
    if key == "actions":
        items = list(postmortem.action_items.select_related("owner"))
        return {
            "items": items,
            "no_prevention": bool(items) and all(i.leverage != "prevention" for i in items),
        }
    if key == "close":
        return {"summary": meeting_summary(meeting)}
    return {}


@dataclass
class Correction:
    capture: MeetingCapture
    changes: list[tuple[str, str, str]]


@dataclass
class StepTime:
    title: str
    planned_minutes: int
    spent_seconds: int

    @property
    def over(self) -> bool:
        return self.spent_seconds > self.planned_minutes * 60

    @property
    def spent_minutes(self) -> int:
        return round(self.spent_seconds / 60)


@dataclass
class MeetingSummary:
    meeting: ReviewMeeting
    items: list = field(default_factory=list)
    events: list = field(default_factory=list)
    corrections: list = field(default_factory=list)
    factors: list = field(default_factory=list)
    decisions: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    attendees: list = field(default_factory=list)
    steps: list = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return any([self.items, self.events, self.corrections, self.factors, self.decisions])

    @property
    def tickets(self) -> list[str]:
        return [c.item.ticket_key for c in self.items if c.item and c.item.ticket_key]


def _show(name: str, value) -> str:
    if name == "occurred_at":
        return datetime.fromisoformat(value).astimezone(UTC).strftime("%m-%d %H:%M UTC")
    if name == "phase":
        return TimelineEvent.Phase(value).label if value in TimelineEvent.Phase.values else value
    if name == "source":
        return TimelineEvent.Source(value).label if value in TimelineEvent.Source.values else value
    return value or "—"


def correction_changes(before: dict, after: dict) -> list[tuple[str, str, str]]:
    """(field label, old, new) for each field a correction changed."""
    return [
        (EVENT_LABELS[name], _show(name, before.get(name)), _show(name, after.get(name)))
        for name in EVENT_FIELDS
        if before.get(name) != after.get(name)
    ]


def meeting_summary(meeting: ReviewMeeting, *, rows: bool = True) -> MeetingSummary:
    """What the meeting changed, who was there and how long each step took (two queries).

    `rows=False` leaves out the rows the captures point at (items, events, factors, authors):
    the document's record shows only the captures' counts and texts."""
    summary = MeetingSummary(meeting=meeting)
    captures = meeting.captures.order_by("version")
    if rows:
        captures = captures.select_related("author", "event", "factor", "item", "item__owner")
    for capture in captures:
        if capture.kind == Kind.ITEM_ADDED:
            summary.items.append(capture)
        elif capture.kind == Kind.EVENT_ADDED:
            summary.events.append(capture)
        elif capture.kind == Kind.EVENT_CORRECTED:
            changes = correction_changes(capture.before, capture.after)
            summary.corrections.append(Correction(capture, changes))
        elif capture.kind == Kind.FACTOR_ADDED:
            summary.factors.append(capture)
        elif capture.kind == Kind.DECISION:
            summary.decisions.append(capture)
        else:
            summary.notes.append(capture)
    summary.attendees = [
        i.user for i in meeting.invites.select_related("user").order_by("user__username")
    ]
    now = meeting.ended_at or timezone.now()
    summary.steps = [
        StepTime(title, minutes, meeting.spent_seconds(n, now))
        for n, (_, title, minutes) in enumerate(AGENDA)
    ]
    return summary
