"""Email that survives a mail server outage: against a real SMTP server on localhost.

Each test here failed on the code before the retry schedule: a refused connection marked the
email failed after one try and the next run counted it "already sent".
"""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from actions import jobs
from outbox import ledger
from outbox.models import Dispatch
from outbox.queue import queue_emails
from outbox.tasks import send_due, send_email
from postmortems.models import ReviewInvitation

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    ReviewMeetingFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
OWNERS = 6


def _due_reminders_and_a_manager_note():
    team = TeamFactory()
    manager = UserFactory(username="manager")
    team.managers.add(manager)
    for n in range(OWNERS):
        owner = UserFactory(username=f"owner{n}")
        ActionItemFactory(
            owner=owner,
            due_on=MONDAY.date() - timedelta(days=30),
            postmortem=PostmortemFactory(incident=IncidentFactory(team=team)),
        )
    return OWNERS + 1  # a reminder per owner and one weekly note


def _command(name: str, *args) -> dict:
    out = StringIO()
    call_command(name, "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def _tick_inline(monkeypatch):
    """Beat's tick with the worker in this process: queued sends run at once."""
    monkeypatch.setattr(send_email, "delay", lambda *args: send_email(*args))
    return send_due()


def test_a_sweep_while_the_mail_server_refuses_connections_sends_everything_once_it_is_back(
    smtp_sink,
):
    expected = _due_reminders_and_a_manager_note()
    smtp_sink.stop()
    with time_machine.travel(MONDAY, tick=False):
        down = _command("send_reminders")
    assert down["emails_sent"] == 0 and down["failed"] == 0
    assert down["retrying"] == expected
    rows = Dispatch.objects.all()
    assert {r.state for r in rows} == {"pending"}
    # The first refusal stops the run: one try, not one per email.
    assert sum(r.attempts for r in rows) == 1

    smtp_sink.start()
    with time_machine.travel(MONDAY + timedelta(hours=1), tick=False):
        back = _command("send_reminders")
        again = _command("send_reminders")
    assert back["emails_sent"] + back["retried_sent"] == expected
    assert back["skipped_already_sent"] == 0 and back["failed"] == 0
    assert again["emails_sent"] == again["retried_sent"] == 0
    assert again["skipped_already_sent"] == expected
    assert len(smtp_sink.messages) == expected == len(set(smtp_sink.ledger_keys()))
    assert set(Dispatch.objects.values_list("state", flat=True)) == {"sent"}


def test_a_months_digest_with_the_mail_server_down_is_sent_when_it_comes_back(smtp_sink):
    team = TeamFactory()
    people = UserFactory.create_batch(4)
    team.members.add(*people[:3])
    team.managers.add(people[3])
    smtp_sink.stop()
    down = _command("send_digest", "--month", "2026-02")
    assert down["emails_sent"] == 0 and down["failed"] == 0 and down["retrying"] > 0
    expected = Dispatch.objects.filter(kind="digest").count()
    assert expected == 4 + 1  # the team's four, and the organisation's one manager

    smtp_sink.start()
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        back = _command("send_digest", "--month", "2026-02")
        again = _command("send_digest", "--month", "2026-02")
    assert back["emails_sent"] + back["retried_sent"] == expected
    assert again["emails_sent"] == again["retried_sent"] == 0
    assert len(smtp_sink.messages) == expected == len(set(smtp_sink.ledger_keys()))


def test_beat_retries_with_backoff_until_the_server_is_back(smtp_sink, monkeypatch):
    _due_reminders_and_a_manager_note()
    smtp_sink.stop()
    monkeypatch.setattr(send_email, "delay", lambda *args: send_email(*args))
    with time_machine.travel(MONDAY, tick=False):
        jobs.run_reminders(MONDAY, enqueue=False)  # a refused first try, the rest untried
    waits = []
    clock = MONDAY
    for _ in range(4):  # the tick keeps trying while the server is down, waiting longer each time
        row = Dispatch.objects.filter(attempts__gt=0).order_by("-attempts").first()
        clock = row.next_try_at + timedelta(seconds=1)
        with time_machine.travel(clock, tick=False):
            _tick_inline(monkeypatch)
        row.refresh_from_db()
        waits.append(row.next_try_at - clock)
    assert waits == sorted(waits) and waits[-1] > waits[0]
    assert not Dispatch.objects.filter(state="failed").exists()

    smtp_sink.start()
    with time_machine.travel(clock + timedelta(hours=7), tick=False):
        _tick_inline(monkeypatch)
        _tick_inline(monkeypatch)
    assert set(Dispatch.objects.values_list("state", flat=True)) == {"sent"}
    assert len(smtp_sink.messages) == Dispatch.objects.count() == len(set(smtp_sink.ledger_keys()))


def test_review_invitations_meeting_invites_and_summaries_are_retried(smtp_sink, monkeypatch):
    reviewer, attendee = UserFactory(), UserFactory()
    invitation = ReviewInvitation.objects.create(
        postmortem=PostmortemFactory(), reviewer=reviewer, round_started_at=timezone.now()
    )
    meeting = ReviewMeetingFactory(attendees=[attendee], started_at=timezone.now())
    K = Dispatch.Kind
    queue_emails(
        [
            ledger.Key.about(K.REVIEW_INVITATION, reviewer.pk, invitation),
            ledger.Key.about(K.MEETING_INVITE, attendee.pk, meeting),
            ledger.Key.about(K.MEETING_SUMMARY, attendee.pk, meeting),
        ]
    )
    smtp_sink.stop()
    assert [send_email(pk) for pk in Dispatch.objects.values_list("pk", flat=True)] == [False] * 3
    assert set(Dispatch.objects.values_list("state", "attempts")) == {("pending", 1)}

    smtp_sink.start()
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert _tick_inline(monkeypatch) == 3
    kinds = sorted(k.split("/")[0] for k in smtp_sink.ledger_keys())
    assert kinds == ["meeting_invite", "meeting_summary", "review_invitation"]
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_a_line_break_in_an_incident_title_no_longer_fails_its_emails(smtp_sink):
    pm = PostmortemFactory(incident=IncidentFactory(title="Checkout down\r\nBcc: everyone@x"))
    reviewer = UserFactory()
    invitation = ReviewInvitation.objects.create(
        postmortem=pm, reviewer=reviewer, round_started_at=timezone.now()
    )
    queue_emails([ledger.Key.about(Dispatch.Kind.REVIEW_INVITATION, reviewer.pk, invitation)])
    [pk] = Dispatch.objects.values_list("pk", flat=True)
    assert send_email(pk) is True
    [message] = smtp_sink.messages
    assert message["Subject"].endswith("Checkout down Bcc: everyone@x")
    assert message["Bcc"] is None and message["To"] == reviewer.email
    assert Dispatch.objects.get().state == "sent"


def test_single_line_collapses_every_control_character():
    assert ledger.single_line("a\r\nb\x00c\td\x1be\u2028f  g") == "a b c d e f g"
    message = ledger.Message(to=" x@y.z\n", subject="One\rTwo", text="", html="")
    assert (message.to, message.subject) == ("x@y.z", "One Two")


def test_a_refused_address_fails_at_once_and_a_4xx_is_retried(smtp_sink):
    people = UserFactory.create_batch(2)
    team = TeamFactory()
    team.members.add(*people)
    smtp_sink.handler.refuse_rcpt = "550 5.1.1 No such mailbox"
    refused = _command("send_digest", "--month", "2026-02", "--team", team.slug)
    assert refused["failed"] == 2 and refused["retrying"] == 0
    assert set(Dispatch.objects.values_list("state", "attempts")) == {("failed", 1)}
    assert "550" in Dispatch.objects.first().error

    smtp_sink.handler.refuse_rcpt = "451 4.3.0 Mailbox busy, try later"
    retried = _command("send_digest", "--month", "2026-02", "--team", team.slug, "--retry-failed")
    assert retried["failed"] == 0 and retried["retrying"] == 2
    assert set(Dispatch.objects.values_list("state", "attempts")) == {("pending", 2)}
    assert not smtp_sink.messages


def test_retry_failed_resends_the_same_rows_now_and_only_once(smtp_sink, settings):
    settings.DEBRIEF_EMAIL_MAX_ATTEMPTS = 1
    expected = _due_reminders_and_a_manager_note()
    smtp_sink.stop()
    with time_machine.travel(MONDAY, tick=False):
        _command("send_reminders")
        for _ in range(expected):  # each row gets its one try and is given up on
            _command("send_reminders")
    assert Dispatch.objects.filter(state="failed").count() == expected
    smtp_sink.start()
    with time_machine.travel(MONDAY + timedelta(minutes=10), tick=False):
        plain = _command("send_reminders")
        assert plain["failed"] == expected and plain["skipped_already_sent"] == 0
        assert not smtp_sink.messages  # failed is reported as failed, never as already sent
        retried = _command("send_reminders", "--retry-failed")
        again = _command("send_reminders", "--retry-failed")
    assert retried["emails_sent"] + retried["retried_sent"] == expected
    assert again["emails_sent"] == again["retried_sent"] == 0
    assert Dispatch.objects.count() == expected == len(set(smtp_sink.ledger_keys()))
    assert len(smtp_sink.messages) == expected


def test_backoff_grows_from_minutes_to_hours(settings):
    settings.DEBRIEF_EMAIL_RETRY_SECONDS, settings.DEBRIEF_EMAIL_RETRY_MAX_SECONDS = 120, 6 * 3600
    delays = [ledger.retry_delay(n).total_seconds() for n in range(1, 11)]
    assert delays[:3] == [120, 240, 480] and delays[-1] == 6 * 3600
    assert sum(delays[:9]) / 3600 > 12  # the default ten tries outlast a night's outage
