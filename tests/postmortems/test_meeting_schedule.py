"""Scheduling a review meeting: the form, its warnings, the invites and the calendar feed."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from icalendar import Calendar

from actions.calendar import build_calendar
from incidents.models import Profile
from outbox.ledger import Key
from outbox.models import Dispatch
from outbox.queue import queue_emails
from outbox.tasks import send_email
from postmortems import meetings
from postmortems.models import MeetingAttendee, ReviewMeeting

from ..factories import (
    IncidentFactory,
    PostmortemFactory,
    ReviewMeetingFactory,
    UserFactory,
)
from ..outbox.support import send_pending

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def _resolved_incident(**kwargs):
    start = NOW - timedelta(days=1)
    return IncidentFactory(
        started_at=start,
        detected_at=start + timedelta(minutes=5),
        mitigated_at=start + timedelta(minutes=40),
        resolved_at=start + timedelta(hours=2),
        **kwargs,
    )


def _invite(meeting, people):
    queue_emails(Key.about(Dispatch.Kind.MEETING_INVITE, u.pk, meeting) for u in people)


def _post(client, pm, **data):
    form = {
        "scheduled_at": "2026-03-04T10:00",
        "facilitator": "",
        "attendees": [],
        "location": "Room 4 / https://meet.example.com/abc",
    }
    form.update(data)
    return client.post(reverse("postmortems:meeting-schedule", args=[pm.incident.number]), form)


@time_machine.travel(NOW, tick=False)
def test_scheduling_stores_utc_from_the_viewers_timezone_and_invites_after_commit(
    client, user, other_user, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    Profile.objects.filter(user=user).update(timezone="Europe/Berlin")
    facilitator = UserFactory(username="fran")
    pm = PostmortemFactory(incident=_resolved_incident(), author=user)
    queued = []
    monkeypatch.setattr(send_email, "delay", queued.append)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(client, pm, facilitator=facilitator.pk, attendees=[other_user.pk])
    meeting = ReviewMeeting.objects.get()
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    # 10:00 in Berlin (UTC+1 in March) is 09:00 UTC.
    assert meeting.scheduled_at == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    assert meeting.facilitator == facilitator and meeting.created_by == user
    invited = set(meeting.invites.values_list("user__username", flat=True))
    assert invited == {"bob", "fran"}  # the facilitator is invited too
    # One invite each, claimed with the meeting and queued once it is committed: none sent yet.
    assert len(callbacks) == 1 and len(queued) == 2 and mailoutbox == []
    rows = Dispatch.objects.filter(pk__in=queued).values_list("recipient__username", "kind")
    assert set(rows) == {("bob", "meeting_invite"), ("fran", "meeting_invite")}


@time_machine.travel(NOW, tick=False)
def test_the_invite_email_carries_an_ics_and_is_sent_once_per_attendee(
    user, other_user, mailoutbox
):
    Profile.objects.filter(user=other_user).update(timezone="America/New_York")
    facilitator = UserFactory(username="fran", email="fran@example.com")
    pm = PostmortemFactory(incident=_resolved_incident(title="Checkout 503s"), author=user)
    meeting = meetings.schedule_meeting(
        postmortem=pm,
        scheduled_at=datetime(2026, 3, 4, 15, 0, tzinfo=UTC),
        facilitator=facilitator,
        attendees=[user, other_user],
        location="https://meet.example.com/abc",
        by=user,
    )
    assert send_pending() == 3
    assert send_pending() == 0  # a retried task sends nothing more
    assert sorted(m.to[0] for m in mailoutbox) == [
        "alice@example.com",
        "bob@example.com",
        "fran@example.com",
    ]
    bob_mail = next(m for m in mailoutbox if m.to == ["bob@example.com"])
    assert pm.incident.reference in bob_mail.subject
    # Bob reads the time in his own timezone, with UTC beside it.
    assert (
        "Wed 4 Mar 2026, 10:00 (America/New_York)" in bob_mail.body
        and "2026-03-04 15:00 UTC" in bob_mail.body
    )
    assert f"/postmortems/{pm.incident.number}/meetings/{meeting.pk}/" in bob_mail.body
    [(name, content, mimetype)] = bob_mail.attachments
    assert name == "review.ics" and mimetype.startswith("text/calendar")
    assert "method=REQUEST" in mimetype
    cal = Calendar.from_ical(content)
    assert str(cal["method"]) == "REQUEST"
    [event] = cal.walk("VEVENT")
    assert str(event["uid"]) == f"review-meeting-{meeting.pk}@debrief"
    assert event.decoded("dtstart") == datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    assert str(event["summary"]) == f"Postmortem review: {pm.incident.reference} Checkout 503s"
    assert str(event["location"]) == "https://meet.example.com/abc"
    assert str(event["organizer"]) == "mailto:fran@example.com"
    attendees = sorted(str(a) for a in event["attendee"])
    assert attendees == [
        "mailto:alice@example.com",
        "mailto:bob@example.com",
        "mailto:fran@example.com",
    ]
    assert "Contributing factors, 20 min" in str(event["description"])
    assert MeetingAttendee.objects.filter(invited_at__isnull=True).count() == 0


@time_machine.travel(NOW, tick=False)
def test_an_attendee_added_later_gets_only_their_own_invite(user, other_user, mailoutbox):
    meeting = ReviewMeetingFactory(attendees=[user])
    _invite(meeting, [user])
    assert send_pending() == 1
    MeetingAttendee.objects.create(meeting=meeting, user=other_user)
    _invite(meeting, [user, other_user])  # as a second run of the plan would
    assert send_pending() == 1
    assert [m.to for m in mailoutbox] == [[user.email], [other_user.email]]


@time_machine.travel(NOW, tick=False)
def test_a_failed_send_leaves_the_invite_unsent_for_the_retry(user, mailoutbox, monkeypatch):
    meeting = ReviewMeetingFactory(attendees=[user])
    _invite(meeting, [user])
    from smtplib import SMTPException

    from django.core.mail import EmailMultiAlternatives

    def broken(self, *args, **kwargs):
        raise SMTPException("relay down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", broken)
    assert send_pending() == 0  # the worker records the failure; the ledger schedules the retry
    assert MeetingAttendee.objects.get(user=user).invited_at is None
    row = Dispatch.objects.get()
    assert row.state == "pending" and row.attempts == 1 and "relay down" in row.error
    monkeypatch.undo()
    assert send_pending() == 0  # not due yet
    with time_machine.travel(row.next_try_at, tick=False):
        assert send_pending() == 1
    assert MeetingAttendee.objects.get(user=user).invited_at == row.next_try_at


@time_machine.travel(NOW, tick=False)
def test_a_commander_as_facilitator_is_warned_and_needs_confirming(client, user, other_user):
    commander = UserFactory(username="cmd")
    pm = PostmortemFactory(incident=_resolved_incident(commander=commander), author=user)
    client.force_login(user)
    response = _post(client, pm, facilitator=commander.pk, attendees=[other_user.pk])
    assert response.status_code == 200
    assert not ReviewMeeting.objects.exists()
    assert "was the incident commander" in response.content.decode()
    assert "Schedule it anyway" in response.content.decode()
    response = _post(client, pm, facilitator=commander.pk, attendees=[other_user.pk], confirm="on")
    assert response.status_code == 302
    assert ReviewMeeting.objects.get().facilitator == commander


@time_machine.travel(NOW, tick=False)
def test_a_meeting_more_than_five_days_after_resolution_is_warned():
    pm = PostmortemFactory(incident=_resolved_incident())
    resolved = pm.incident.resolved_at
    on_time = meetings.schedule_warnings(
        postmortem=pm, facilitator=None, scheduled_at=resolved + timedelta(days=5)
    )
    late = meetings.schedule_warnings(
        postmortem=pm, facilitator=None, scheduled_at=resolved + timedelta(days=5, hours=1)
    )
    assert on_time == []
    assert len(late) == 1 and "within 5 days" in late[0]


@time_machine.travel(NOW, tick=False)
def test_warnings_appear_live_as_the_form_changes(client, user):
    commander = UserFactory(username="cmd")
    pm = PostmortemFactory(incident=_resolved_incident(commander=commander), author=user)
    client.force_login(user)
    url = reverse("postmortems:meeting-warnings", args=[pm.incident.number])
    quiet = client.get(url, {"scheduled_at": "2026-03-03T10:00", "facilitator": user.pk})
    assert quiet.status_code == 200 and "Before you schedule" not in quiet.content.decode()
    loud = client.get(
        url,
        {"scheduled_at": "2026-03-20T10:00", "facilitator": commander.pk},
        headers={"HX-Request": "true"},
    )
    body = loud.content.decode()
    assert "was the incident commander" in body and "within 5 days" in body
    assert 'id="schedule-warnings"' in body and "<html" not in body


@time_machine.travel(NOW, tick=False)
def test_the_form_suggests_a_time_two_days_after_resolution_and_the_usual_people(
    client, user, other_user
):
    commander = UserFactory(username="cmd")
    pm = PostmortemFactory(incident=_resolved_incident(commander=commander), author=user)
    pm.reviewers.add(other_user)
    client.force_login(user)
    response = client.get(reverse("postmortems:meeting-schedule", args=[pm.incident.number]))
    form = response.context["form"]
    # Resolved on Sunday 1 March: two days later is Tuesday 3 March, 10:00.
    assert form.initial["scheduled_at"] == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert set(form.initial["attendees"]) == {user.pk, other_user.pk, commander.pk}


def test_attendees_who_cannot_see_a_private_incident_are_refused(client, user, other_user):
    pm = PostmortemFactory(incident=IncidentFactory(private=True, members=[user], commander=user))
    client.force_login(user)
    response = _post(
        client,
        pm,
        scheduled_at="2030-01-02T10:00",
        facilitator=user.pk,
        attendees=[other_user.pk],
        confirm="on",
    )
    assert response.status_code == 422
    assert "bob cannot see this private incident" in response.content.decode()
    assert not ReviewMeeting.objects.exists()


def test_a_private_incidents_meetings_are_hidden_from_non_members(client, user, other_user):
    meeting = ReviewMeetingFactory(
        postmortem=PostmortemFactory(incident=IncidentFactory(private=True, members=[user]))
    )
    number = meeting.postmortem.incident.number
    client.force_login(other_user)
    for name in ("meeting", "meeting-invite", "meeting-present", "meeting-state"):
        assert (
            client.get(reverse(f"postmortems:{name}", args=[number, meeting.pk])).status_code == 404
        )
    assert client.get(reverse("postmortems:meeting-schedule", args=[number])).status_code == 404
    client.force_login(user)
    assert client.get(reverse("postmortems:meeting", args=[number, meeting.pk])).status_code == 200


def test_the_meeting_page_shows_who_was_invited_and_offers_the_ics(client, user, other_user):
    meeting = ReviewMeetingFactory(attendees=[user, other_user], location="Room 4")
    MeetingAttendee.objects.filter(user=user).update(invited_at=NOW)
    number = meeting.postmortem.incident.number
    client.force_login(user)
    page = client.get(reverse("postmortems:meeting", args=[number, meeting.pk])).content.decode()
    assert "Room 4" in page and "not sent yet" in page and "sent " in page
    ics = client.get(reverse("postmortems:meeting-invite", args=[number, meeting.pk]))
    assert ics["Content-Type"].startswith("text/calendar")
    [event] = Calendar.from_ical(ics.content).walk("VEVENT")
    assert str(event["uid"]) == f"review-meeting-{meeting.pk}@debrief"


def test_the_calendar_feed_lists_the_review_meetings_a_person_attends(user, other_user):
    attending = ReviewMeetingFactory(attendees=[user])
    facilitating = ReviewMeetingFactory(facilitator=user)
    ReviewMeetingFactory(attendees=[other_user])  # not theirs
    hidden = ReviewMeetingFactory(
        attendees=[user],
        postmortem=PostmortemFactory(incident=IncidentFactory(private=True)),
    )  # invited, but no longer able to see the incident
    cal = Calendar.from_ical(build_calendar(user))
    uids = {str(e["uid"]) for e in cal.walk("VEVENT")}
    assert uids == {
        f"review-meeting-{attending.pk}@debrief",
        f"review-meeting-{facilitating.pk}@debrief",
    }
    assert f"review-meeting-{hidden.pk}@debrief" not in uids


def test_the_document_and_the_editor_link_to_scheduling_and_presenting(client, user):
    pm = PostmortemFactory(author=user)
    number = pm.incident.number
    client.force_login(user)
    schedule = reverse("postmortems:meeting-schedule", args=[number])
    for name in ("postmortems:detail", "postmortems:edit"):
        assert schedule in client.get(reverse(name, args=[number])).content.decode()
    meeting = ReviewMeetingFactory(postmortem=pm)
    present = reverse("postmortems:meeting-present", args=[number, meeting.pk])
    page = client.get(reverse("postmortems:detail", args=[number])).content.decode()
    assert present in page and ">Present<" in page  # the author can drive


def test_only_someone_who_sees_the_incident_schedules_its_review(user, other_user):
    postmortem = PostmortemFactory(incident=IncidentFactory(private=True, members=[user]))
    with pytest.raises(PermissionDenied):
        meetings.schedule_meeting(
            postmortem=postmortem,
            scheduled_at=datetime(2030, 1, 7, 10, tzinfo=UTC),
            facilitator=user,
            attendees=[user],
            by=other_user,
        )
    assert not ReviewMeeting.objects.exists() and not Dispatch.objects.exists()
