"""Captures and controls from several laptops at once each get their own meeting version.

On PostgreSQL the threads really interleave and select_for_update on the meeting row queues
them; on SQLite they only take turns (tests/races.py), and their ids say so.
"""

import itertools

import pytest

from outbox.models import Dispatch
from postmortems import meetings
from postmortems.models import MeetingAttendee, MeetingCapture, ReviewMeeting

from ..factories import (
    IncidentFactory,
    PostmortemFactory,
    ReviewMeetingFactory,
    UserFactory,
    on_team,
)
from ..outbox.support import send_pending
from ..races import REAL, race, report, run_together

pytestmark = [pytest.mark.django_db(transaction=True), race]


def _fresh(pk):
    return ReviewMeeting.objects.select_related("postmortem__incident").get(pk=pk)


def test_simultaneous_captures_each_get_a_version_and_none_is_lost(race_mode, capsys):
    facilitator = UserFactory(username="fran")
    meeting = ReviewMeetingFactory(facilitator=facilitator)
    on_team(meeting.postmortem.incident, facilitator)
    start = meeting.version
    numbers = itertools.count()  # next() on it is atomic; a generator would not be

    def capture():
        return meetings.capture_decision(
            meeting=_fresh(meeting.pk), by=facilitator, text=f"decision {next(numbers)}"
        )

    run = run_together(capture, 4)
    versions = sorted(MeetingCapture.objects.values_list("version", flat=True))
    assert versions == [start + 1, start + 2, start + 3, start + 4]
    assert sorted(MeetingCapture.objects.values_list("text", flat=True)) == [
        f"decision {n}" for n in range(4)
    ]
    assert ReviewMeeting.objects.get(pk=meeting.pk).version == start + 4
    report(capsys, f"4 captures got versions {versions}; calls overlapped: {run.overlapped}")


def test_simultaneous_next_presses_move_one_step_each(race_mode, capsys):
    facilitator = UserFactory(username="fran")
    meeting = ReviewMeetingFactory(facilitator=facilitator)
    on_team(meeting.postmortem.incident, facilitator)
    start = meeting.version
    run = run_together(
        lambda: meetings.drive_meeting(meeting=_fresh(meeting.pk), action="next", by=facilitator),
        3,
    )
    meeting = ReviewMeeting.objects.get(pk=meeting.pk)
    assert (meeting.step, meeting.version) == (3, start + 3)
    report(capsys, f"3 presses moved 3 steps; calls overlapped: {run.overlapped}")


def test_two_invite_tasks_at_once_send_each_invite_once(race_mode, capsys, mailoutbox):
    people = [UserFactory(username=f"p{n}") for n in range(6)]
    meetings.schedule_meeting(
        postmortem=PostmortemFactory(incident=on_team(IncidentFactory(), people[0])),
        scheduled_at=people[0].date_joined,
        facilitator=people[0],
        attendees=people[1:],
        by=people[0],
    )
    assert Dispatch.objects.filter(kind="meeting_invite", state="pending").count() == 6
    run = run_together(lambda: send_pending("meeting_invite"), 2)
    assert sum(run.results) == 6 and len(mailoutbox) == 6
    if not REAL:
        assert run.results == [6, 0]  # the second turn found every invite sent
    assert sorted(m.to[0] for m in mailoutbox) == sorted(f"p{n}@example.com" for n in range(6))
    assert not MeetingAttendee.objects.filter(invited_at__isnull=True).exists()
    report(capsys, f"two tasks sent {run.results} of 6 invites; calls overlapped: {run.overlapped}")
