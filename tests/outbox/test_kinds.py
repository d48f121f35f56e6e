"""Each of the six kinds of email goes through the one ledger, and a second run sends nothing."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from actions import jobs
from actions.metrics import Period
from outbox import ledger
from outbox.models import Dispatch
from postmortems import meetings, services
from postmortems.models import MeetingAttendee, ReviewInvitation

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    UserFactory,
)
from .support import send_pending

pytestmark = pytest.mark.django_db
Kind = Dispatch.Kind
MONDAY = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def _sent_once(kind: str, count: int) -> list[Dispatch]:
    """`count` rows of `kind`, each sent after one attempt, and as many emails."""
    rows = list(Dispatch.objects.filter(kind=kind))
    assert len(rows) == count and {(r.state, r.attempts) for r in rows} == {("sent", 1)}
    assert len(mail.outbox) == count
    return rows


def _reclaim(rows: list[Dispatch]) -> ledger.Claim:
    """Claim the same keys again, as a second run (or a parallel one) would."""
    return ledger.claim(ledger.Key(r.kind, r.recipient_id, r.period, r.scope) for r in rows)


def test_owner_reminders():
    owner = UserFactory()
    ActionItemFactory(owner=owner, due_on=MONDAY.date() - timedelta(days=2))
    assert jobs.run_reminders(MONDAY).emails_sent == 1
    _sent_once(Kind.REMINDER, 1)
    assert jobs.run_reminders(MONDAY + timedelta(hours=1)).emails_sent == 0
    assert len(mail.outbox) == 1


def test_manager_notes():
    team, manager = TeamFactory(), UserFactory(username="mia")
    team.managers.add(manager)
    ActionItemFactory(postmortem__incident__team=team, due_on=MONDAY.date() - timedelta(days=30))
    jobs.run_reminders(MONDAY)
    [note] = [m for m in mail.outbox if m.to == [manager.email]]
    rows = list(Dispatch.objects.filter(kind=Kind.MANAGER_NOTE))
    assert [(r.recipient_id, r.state, r.period) for r in rows] == [(manager.pk, "sent", "2026-W10")]
    jobs.run_reminders(MONDAY + timedelta(days=2))
    assert len([m for m in mail.outbox if m.to == [manager.email]]) == 1


def test_monthly_digests():
    team = TeamFactory(slug="payments")
    team.members.add(UserFactory(username="mo"))
    team.managers.add(UserFactory(username="mia"))
    IncidentFactory(team=team, started_at=datetime(2026, 10, 3, tzinfo=UTC))
    october = Period.month("2026-10")
    assert jobs.run_digests(october, team="payments").emails_sent == 2
    rows = _sent_once(Kind.DIGEST, 2)
    assert {(r.scope, r.period) for r in rows} == {("team:payments", "2026-10")}
    second = jobs.run_digests(october, team="payments")
    assert second.emails_sent == 0 and second.skipped_already_sent == 2
    assert len(mail.outbox) == 2


def test_review_invitations(user, other_user):
    pm = PostmortemFactory(author=user)
    services.request_review(postmortem=pm, reviewers=[other_user], by=user)
    assert send_pending() == 1
    [row] = _sent_once(Kind.REVIEW_INVITATION, 1)
    invitation = ReviewInvitation.objects.get()
    assert row.recipient == other_user and list(row.about(ReviewInvitation)) == [invitation]
    assert invitation.sent_at is not None  # kept in step with the ledger
    assert send_pending() == 0 and _reclaim([row]).already_settled == 1
    assert len(mail.outbox) == 1
    # A new review round is a new invitation, so a new email.
    services.request_review(postmortem=pm, reviewers=[other_user], by=user)
    assert send_pending() == 1 and len(mail.outbox) == 2


def test_meeting_invites_with_their_calendar_file(user, other_user):
    pm = PostmortemFactory(author=user)
    meeting = meetings.schedule_meeting(
        postmortem=pm,
        scheduled_at=MONDAY + timedelta(days=1),
        facilitator=user,
        attendees=[other_user, UserFactory(username="nomail", email="")],
        by=user,
    )
    assert send_pending() == 2  # the person without an address is not claimed
    rows = _sent_once(Kind.MEETING_INVITE, 2)
    assert {r.scope for r in rows} == {f"reviewmeeting:{meeting.pk}"}
    assert all(m.attachments[0][0] == "review.ics" for m in mail.outbox)
    assert MeetingAttendee.objects.filter(invited_at__isnull=False).count() == 2
    assert send_pending() == 0 and _reclaim(rows).already_settled == 2
    assert len(mail.outbox) == 2


def test_meeting_summaries(user, other_user):
    pm = PostmortemFactory(author=user)
    with time_machine.travel(MONDAY, tick=False):
        meeting = meetings.schedule_meeting(
            postmortem=pm,
            scheduled_at=MONDAY,
            facilitator=user,
            attendees=[other_user],
            by=user,
        )
        send_pending(Kind.MEETING_INVITE)
        mail.outbox.clear()
        for action in ("start", "end"):
            meeting = meetings.drive_meeting(meeting=meeting, action=action, by=user)
        meeting.postmortem = pm
        meetings.request_summary_email(meeting=meeting, by=user)
    assert send_pending() == 2
    rows = _sent_once(Kind.MEETING_SUMMARY, 2)
    assert all(m.subject.startswith("Review summary:") for m in mail.outbox)
    assert MeetingAttendee.objects.filter(summary_sent_at__isnull=False).count() == 2
    assert send_pending() == 0 and _reclaim(rows).already_settled == 2
    assert len(mail.outbox) == 2
