"""Capture in the room: every change lands in the document through its own service, with
history, and the meeting keeps what it changed for the close step and the summary email."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from actions import meeting_items
from actions.models import ActionItem, ActionItemEvent
from incidents.models import Profile, TimelineEvent
from outbox.models import Dispatch
from outbox.tasks import send_email
from postmortems import meetings
from postmortems.models import MeetingAttendee, MeetingCapture, ReviewMeeting, SectionRevision

from ..factories import (
    ContributingFactorFactory,
    ReviewMeetingFactory,
    TimelineEventFactory,
    UserFactory,
    on_team,
)
from ..outbox.support import send_pending
from .test_meeting_present import HTMX, drive, fresh, url

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def meeting(user, other_user):
    meeting = ReviewMeetingFactory(facilitator=user, attendees=[user, other_user])
    on_team(meeting.postmortem.incident, user, other_user)  # the team captures in the room
    return meeting


def test_adding_a_timeline_event_lands_on_the_incident_and_lights_up(client, user, meeting):
    Profile.objects.filter(user=user).update(timezone="Europe/Berlin")
    ReviewMeeting.objects.filter(pk=meeting.pk).update(step=1)
    client.force_login(user)
    start = meeting.postmortem.incident.started_at.astimezone(UTC)
    local = (start + timedelta(minutes=12)).astimezone(ZoneInfo("Europe/Berlin"))
    response = client.post(
        url("meeting-event", meeting),
        {
            "occurred_at": local.strftime("%Y-%m-%dT%H:%M"),
            "phase": "diagnosis",
            "text": "On-call found the config push in the deploy log",
            "source": "log",
            "source_detail": "deploy-bot",
        },
        headers=HTMX,
    )
    page = response.content.decode()
    assert response.status_code == 200
    event = TimelineEvent.objects.get(text__startswith="On-call found")
    assert event.incident == meeting.postmortem.incident and event.author == user
    assert event.occurred_at == start.replace(second=0, microsecond=0) + timedelta(minutes=12)
    capture = MeetingCapture.objects.get()
    assert capture.kind == "event_added" and capture.event == event and capture.step == 1
    assert fresh(meeting).version == capture.version == meeting.version + 1
    # The form comes back blank, saying what was saved; the deck and poller move on (oob).
    assert page.lstrip().startswith('<form id="form-event"')
    assert "Saved: timeline event added" in page
    assert f'<tr id="ev-{event.pk}" class="fresh">' in page
    assert f'?v={capture.version}"' in page


def test_a_correction_keeps_what_the_event_said_before(client, user, meeting):
    event = TimelineEventFactory(
        incident=meeting.postmortem.incident, text="Alert fired", phase="detection"
    )
    old_time = event.occurred_at
    client.force_login(user)
    form = client.get(url("meeting-correct-event", meeting, event.pk), headers=HTMX)
    assert 'id="form-event"' in form.content.decode() and "Save correction" in form.content.decode()
    new_time = old_time.replace(second=0, microsecond=0) + timedelta(minutes=4)
    response = client.post(
        url("meeting-correct-event", meeting, event.pk),
        {
            "occurred_at": new_time.strftime("%Y-%m-%dT%H:%M"),
            "phase": "detection",
            "text": "Checkout 5xx alert fired (paged on-call)",
            "source": "alert",
            "source_detail": "",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    event.refresh_from_db()
    assert (
        event.text == "Checkout 5xx alert fired (paged on-call)" and event.occurred_at == new_time
    )
    capture = MeetingCapture.objects.get(kind="event_corrected")
    assert capture.before["text"] == "Alert fired"
    assert capture.after["text"] == "Checkout 5xx alert fired (paged on-call)"
    changes = meetings.meeting_summary(fresh(meeting)).corrections[0].changes
    labels = [label for label, _, _ in changes]
    assert labels == ["Time", "Event"]
    assert ("Event", "Alert fired", "Checkout 5xx alert fired (paged on-call)") in changes
    # Saving the same values again records nothing.
    client.post(
        url("meeting-correct-event", meeting, event.pk),
        {
            "occurred_at": new_time.strftime("%Y-%m-%dT%H:%M"),
            "phase": "detection",
            "text": "Checkout 5xx alert fired (paged on-call)",
            "source": "alert",
            "source_detail": "",
        },
        headers=HTMX,
    )
    assert MeetingCapture.objects.count() == 1


def test_an_event_of_another_incident_cannot_be_corrected_here(client, user, meeting):
    elsewhere = TimelineEventFactory(text="Someone else's incident")
    client.force_login(user)
    response = client.post(
        url("meeting-correct-event", meeting, elsewhere.pk), {"text": "hijack"}, headers=HTMX
    )
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.text == "Someone else's incident"


def test_adding_a_factor_goes_through_the_postmortem_service(client, other_user, meeting):
    ContributingFactorFactory(postmortem=meeting.postmortem, position=1)
    ReviewMeeting.objects.filter(pk=meeting.pk).update(step=2)
    client.force_login(other_user)  # a follower can capture too, as in the editor
    response = client.post(
        url("meeting-factor", meeting),
        {
            "category": "alerting",
            "description": "The error-rate alert used a 10-minute window",
            "whys_text": "- Why so long?\n  - the window was copied from a batch job",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    factor = meeting.postmortem.factors.get(category="alerting")
    assert factor.position == 2 and factor.whys[0]["children"][0]["text"].startswith("the window")
    assert f'<li id="fa-{factor.pk}" class="fresh">' in response.content.decode()
    assert MeetingCapture.objects.get().author == other_user


def test_adding_an_action_item_records_its_history(client, user, other_user, meeting):
    ReviewMeeting.objects.filter(pk=meeting.pk).update(step=3)
    meeting.postmortem.incident.team.members.add(user)  # items are added by the team
    client.force_login(user)
    response = client.post(
        reverse("actions:meeting-item", args=[meeting.postmortem.incident.number, meeting.pk]),
        {
            "title": "Add a canary gate to checkout deploys",
            "owner": other_user.pk,
            "due_on": "2030-01-15",
            "priority": 1,
            "leverage": "prevention",
            "ticket_key": "PAY-123",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    item = ActionItem.objects.get()
    assert item.owner == other_user and item.due_on == date(2030, 1, 15)
    assert item.created_by == user and item.postmortem == meeting.postmortem
    assert ActionItemEvent.objects.filter(item=item, kind="created").exists()
    assert MeetingCapture.objects.get().item == item
    page = response.content.decode()
    assert f'<tr id="item-{item.pk}" class="fresh">' in page and "PAY-123" in page


def test_an_action_item_without_owner_or_date_is_refused_with_the_typing_kept(
    client, user, meeting
):
    client.force_login(user)
    response = client.post(
        reverse("actions:meeting-item", args=[meeting.postmortem.incident.number, meeting.pk]),
        {"title": "Improve monitoring", "priority": 1},
        headers=HTMX,
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'value="Improve monitoring"' in page and 'id="deck"' not in page
    assert not ActionItem.objects.exists() and not MeetingCapture.objects.exists()
    assert fresh(meeting).version == meeting.version


def test_a_note_for_a_section_is_appended_as_a_new_revision(client, user, meeting):
    pm = meeting.postmortem
    pm.went_poorly = "- Finding the change took too long."
    pm.save()
    client.force_login(user)
    response = client.post(
        url("meeting-note", meeting),
        {
            "kind": "note",
            "text": "- The status page lagged by 20 minutes.",
            "section": "went_poorly",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    pm.refresh_from_db()
    assert pm.went_poorly == (
        "- Finding the change took too long.\n\n- The status page lagged by 20 minutes."
    )
    # The text written before any revision is kept as revision 0, the note is revision 1.
    original = SectionRevision.objects.get(postmortem=pm, section="went_poorly", number=0)
    assert original.text == "- Finding the change took too long."
    revision = SectionRevision.objects.get(postmortem=pm, section="went_poorly", number=1)
    assert revision.author == user
    capture = MeetingCapture.objects.get()
    assert capture.kind == "note" and capture.revision == revision


def test_a_decision_is_recorded_with_the_meeting(client, user, meeting):
    client.force_login(user)
    response = client.post(
        url("meeting-note", meeting),
        {"kind": "decision", "text": "Freeze config pushes on Fridays until the check ships."},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert MeetingCapture.objects.get().kind == "decision"
    refused = client.post(
        url("meeting-note", meeting),
        {"kind": "decision", "text": "x", "section": "lessons"},
        headers=HTMX,
    )
    assert (
        refused.status_code == 422
        and "A decision stays with the meeting" in refused.content.decode()
    )


def test_capture_works_without_javascript_too(client, user, meeting):
    client.force_login(user)
    response = client.post(url("meeting-note", meeting), {"kind": "decision", "text": "Ship it"})
    assert response.status_code == 302 and response["Location"] == url("meeting-present", meeting)
    invalid = client.post(url("meeting-note", meeting), {"kind": "decision", "text": ""})
    assert invalid.status_code == 422 and 'data-open-capture="note"' in invalid.content.decode()


def test_an_ended_meeting_captures_nothing_more(client, user, meeting):
    client.force_login(user)
    drive(client, meeting, "start")
    drive(client, meeting, "end")
    response = client.post(
        url("meeting-note", meeting), {"kind": "decision", "text": "Too late"}, headers=HTMX
    )
    assert response.status_code == 422 and "The meeting has ended" in response.content.decode()
    assert not MeetingCapture.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_close_step_summarises_and_the_summary_is_emailed_once(
    client,
    user,
    other_user,
    meeting,
    django_capture_on_commit_callbacks,
    mailoutbox,
    monkeypatch,
):
    owner = UserFactory(username="dana", first_name="Dana", last_name="Kim")
    meeting.postmortem.incident.team.members.add(user)  # items are added by the team
    event = TimelineEventFactory(incident=meeting.postmortem.incident, text="Alert fired")
    m = fresh(meeting)
    meeting_items.capture_item(
        meeting=m,
        by=user,
        title="Add a canary gate",
        owner=owner,
        due_on=date(2026, 3, 20),
        priority=1,
        leverage="prevention",
        ticket_key="PAY-9",
    )
    meetings.correct_event(
        meeting=fresh(meeting), event=event, by=user, text="Checkout alert fired"
    )
    meetings.capture_decision(meeting=fresh(meeting), by=user, text="Publish after the fix ships")
    client.force_login(user)
    drive(client, meeting, "goto", step="5")
    response = drive(client, meeting, "publish")  # unknown control: refused, nothing changes
    assert "Unknown control" in response.content.decode()
    response = client.post(
        url("meeting-publish-date", meeting), {"publish_by": "2026-03-06"}, headers=HTMX
    )
    page = response.content.decode()
    assert "5/5</span> Close" in page and "2026-03-06" in page
    assert "Add a canary gate" in page and "Dana Kim" in page and "2026-03-20" in page
    assert "<del>Alert fired</del>" in page and "<ins>Checkout alert fired</ins>" in page
    assert "Publish after the fix ships" in page and "PAY-9" in page

    # Not before the meeting has ended: the summary would be incomplete.
    early = client.post(url("meeting-summary", meeting), headers=HTMX)
    assert "End the meeting first" in early.content.decode()
    drive(client, meeting, "end")
    queued = []
    monkeypatch.setattr(send_email, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("meeting-summary", meeting), headers=HTMX)
    assert len(queued) == 2 and "Summary emailed" in response.content.decode()
    assert mailoutbox == []  # claimed with the request, sent by the worker
    again = client.post(url("meeting-summary", meeting), headers=HTMX)
    assert "already emailed" in again.content.decode()
    assert drive(client, meeting, "reopen").content.decode().count("the record is final") == 1

    assert [send_email(pk) for pk in queued] == [True, True]
    assert [send_email(pk) for pk in queued] == [False, False]  # a retried task sends nothing
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.com", "bob@example.com"]
    body = mailoutbox[0].body
    assert "Add a canary gate — Dana Kim, due 2026-03-20 (PAY-9)" in body
    assert "Event: Alert fired -> Checkout alert fired" in body
    assert "Publish after the fix ships" in body and "Publish by: 2026-03-06" in body
    assert "Alice Ng, Bob Reyes" in body
    assert f"/postmortems/{meeting.postmortem.incident.number}/" in body
    assert "<del>Alert fired</del>" in mailoutbox[0].alternatives[0][0]
    assert MeetingAttendee.objects.filter(summary_sent_at__isnull=True).count() == 0


def test_no_summary_is_sent_unless_asked(user, meeting, mailoutbox):
    for action in ("start", "end"):
        meetings.drive_meeting(meeting=fresh(meeting), action=action, by=user)
    assert not Dispatch.objects.filter(kind=Dispatch.Kind.MEETING_SUMMARY).exists()
    assert send_pending() == 0 and mailoutbox == []


def test_the_document_shows_the_meeting_record(client, user, other_user, meeting):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False) as clock:
        drive(client, meeting, "start")
        meetings.capture_decision(
            meeting=fresh(meeting), by=user, text="Adopt staged config rollout"
        )
        event = TimelineEventFactory(incident=meeting.postmortem.incident, text="Alert fired")
        meetings.correct_event(meeting=fresh(meeting), event=event, by=user, text="Paged")
        meetings.capture_event(
            meeting=fresh(meeting), by=user, occurred_at=NOW, text="Rolled back", phase="other"
        )
        meetings.capture_event(
            meeting=fresh(meeting), by=user, occurred_at=NOW, text="Healthy", phase="other"
        )
        meetings.capture_note(meeting=fresh(meeting), by=user, text="Ask the DBAs", section="")
        clock.shift(timedelta(minutes=52))
        drive(client, meeting, "end")
    page = client.get(
        reverse("postmortems:detail", args=[meeting.postmortem.incident.number])
    ).content.decode()
    assert "Review meeting" in page
    assert "2026-03-03 10:00 UTC" in page and "52 m" in page
    assert "Alice Ng, Bob Reyes" in page
    assert "Adopt staged config rollout" in page and "Ask the DBAs" in page
    assert meeting.get_absolute_url() in page
    # The record counts what the meeting page lists in full.
    assert "(0 new items, 1 correction, 2 new events, 0 new factors)" in page


def test_summary_email_times_are_utc_whatever_timezone_is_active(user, meeting, mailoutbox):
    from django.utils import timezone

    start = NOW.replace(hour=14, minute=5)
    with time_machine.travel(NOW, tick=False):
        meetings.capture_event(
            meeting=fresh(meeting),
            by=user,
            occurred_at=start,
            text="Rollback finished",
            phase="mitigation",
            source="deploy",
        )
    ReviewMeeting.objects.filter(pk=meeting.pk).update(
        started_at=NOW, ended_at=NOW + timedelta(minutes=50)
    )
    meetings.request_summary_email(meeting=fresh(meeting), by=user)
    with timezone.override("Asia/Tokyo"):  # a worker or request in another zone
        assert send_pending() == 2
    body = mailoutbox[0].body
    assert "Held: 2026-03-03 10:00 UTC, 50 m" in body
    assert "03-03 14:05 UTC Rollback finished" in body


def test_correcting_without_javascript_opens_the_form_in_the_full_view(client, user, meeting):
    event = TimelineEventFactory(incident=meeting.postmortem.incident, text="Alert fired")
    client.force_login(user)
    page = client.get(url("meeting-correct-event", meeting, event.pk)).content.decode()
    assert "<!doctype html>" in page and 'data-open-capture="event"' in page
    assert "Save correction" in page and "Alert fired</textarea>" in page
    blank = client.get(url("meeting-event", meeting))
    assert blank.status_code == 302 and blank["Location"] == url("meeting-present", meeting)
