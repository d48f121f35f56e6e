"""The one send path: claim a row, render it with its kind's builder, send, record the outcome."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from actions import jobs, reminders, services
from outbox import ledger
from outbox.models import Dispatch
from outbox.tasks import send_due, send_email

from ..factories import ActionItemFactory, PostmortemFactory, UserFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def _overdue_owner():
    owner = UserFactory(username="dana")
    ActionItemFactory(owner=owner, due_on=MONDAY.date() - timedelta(days=1))
    return owner


def _claim_one() -> int:
    [pk] = ledger.claim([p.key for p in reminders.plan_reminders(MONDAY)], now=MONDAY).pending_ids
    return pk


def test_every_kind_of_email_has_exactly_one_builder():
    assert set(ledger._builders) == set(Dispatch.Kind.values)
    assert ledger.check_builders() == []


def test_a_second_builder_for_a_kind_is_refused():
    with pytest.raises(ValueError, match="already built by actions.emails.reminder"):
        ledger.builder(Dispatch.Kind.REMINDER)(lambda dispatch: None)


def test_a_kind_without_a_builder_fails_the_system_check(monkeypatch):
    monkeypatch.delitem(ledger._builders, Dispatch.Kind.DIGEST)
    [error] = ledger.check_builders()
    assert error.id == "outbox.E001" and "'digest'" in error.msg
    with pytest.raises(LookupError, match="digest"):
        ledger.build(Dispatch(kind=Dispatch.Kind.DIGEST))
    with pytest.raises(Exception, match="outbox.E001"):
        call_command("check")


def test_claiming_twice_claims_once():
    owner = UserFactory()
    key = ledger.Key(Dispatch.Kind.REMINDER, owner.pk, "2026-03-02")
    first = ledger.claim([key, key])
    second = ledger.claim([key])
    assert len(first.pending_ids) == 1 and second.pending_ids == first.pending_ids
    assert Dispatch.objects.count() == 1
    Dispatch.objects.update(state=Dispatch.State.SENT)
    assert ledger.claim([key]).already_settled == 1


def test_a_key_about_a_row_finds_that_row_again():
    pm, owner = PostmortemFactory(), UserFactory()
    key = ledger.Key.about(Dispatch.Kind.REVIEW_INVITATION, owner.pk, pm)
    assert key.scope == f"postmortem:{pm.pk}" and key.period == ""
    [pk] = ledger.claim([key]).pending_ids
    row = Dispatch.objects.get(pk=pk)
    assert list(row.about(type(pm))) == [pm]
    assert not row.about(UserFactory._meta.model).exists()  # another model: nothing


def test_links_are_the_site_url_and_the_reversed_path(settings):
    settings.SITE_URL = "https://debrief.example.com"
    assert ledger.link("actions:done", 7) == "https://debrief.example.com/actions/7/done/"
    assert ledger.link("actions:team", query="overdue=on").endswith("/actions/team/?overdue=on")
    assert ledger.link("actions:detail", 7, fragment="due").endswith("/actions/7/#due")
    pm = PostmortemFactory()
    assert ledger.link_to(pm) == f"https://debrief.example.com{pm.get_absolute_url()}"


def test_a_crash_halfway_is_retried_and_sends_once(monkeypatch):
    _overdue_owner()
    calls = {"n": 0}
    real_send = ledger.Message.send

    def flaky(message):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionResetError("SMTP connection lost")
        real_send(message)

    monkeypatch.setattr(ledger.Message, "send", flaky)
    pk = _claim_one()
    with pytest.raises(ledger.SendFailed):
        ledger.send(pk)
    row = Dispatch.objects.get()
    assert row.state == "pending" and "SMTP connection lost" in row.error and row.attempts == 1
    # The next tick finds the pending row once it is due and sends it; later ticks send nothing.
    with time_machine.travel(row.next_try_at + timedelta(seconds=1)):
        summary = jobs.run_reminders(MONDAY + timedelta(hours=1))
        assert summary.emails_sent == 1
        assert jobs.run_reminders(MONDAY + timedelta(hours=2)).emails_sent == 0
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.state == "sent" and row.attempts == 2 and row.error == ""


def test_the_task_leaves_a_failed_send_pending_with_its_next_try(monkeypatch):
    _overdue_owner()

    def broken(message):
        raise OSError("connection refused")

    monkeypatch.setattr(ledger.Message, "send", broken)
    pk = _claim_one()
    assert send_email(pk) is False
    row = Dispatch.objects.get()
    assert row.state == "pending" and row.attempts == 1 and "connection refused" in row.error
    assert row.next_try_at > timezone.now()
    monkeypatch.undo()
    assert send_email(pk) is False  # not due yet: it waits out its backoff
    with time_machine.travel(row.next_try_at + timedelta(seconds=1)):
        assert send_email(pk) is True and send_email(pk) is False
    assert len(mail.outbox) == 1


def test_a_send_that_keeps_failing_is_marked_failed_after_the_last_try(
    monkeypatch, caplog, settings
):
    settings.DEBRIEF_EMAIL_MAX_ATTEMPTS = 3
    _overdue_owner()

    def broken(message):
        raise OSError("connection refused")

    monkeypatch.setattr(ledger.Message, "send", broken)
    pk = _claim_one()
    for _ in range(3):
        row = Dispatch.objects.get()
        assert row.state == "pending"
        with time_machine.travel(row.next_try_at + timedelta(seconds=1)):
            send_email(pk)
    row = Dispatch.objects.get()
    assert row.state == "failed" and row.attempts == 3 and "connection refused" in row.error
    assert "failed for good" in caplog.text


def test_a_row_with_nothing_left_to_say_is_skipped():
    owner = _overdue_owner()
    pk = _claim_one()
    services.change_status(item=owner.action_items.get(), status="done", by=owner)
    assert ledger.send(pk, final_attempt=True) is None
    assert Dispatch.objects.get().state == "skipped" and not mail.outbox


def test_recording_the_delivery_cannot_undo_the_send(monkeypatch, caplog):
    _overdue_owner()
    real_build = ledger.build

    def build_with_broken_stamp(dispatch):
        message = real_build(dispatch)
        message.on_sent = lambda: 1 / 0
        return message

    monkeypatch.setattr(ledger, "build", build_with_broken_stamp)
    pk = _claim_one()
    assert ledger.send(pk, final_attempt=True) is not None
    assert Dispatch.objects.get().state == "sent" and len(mail.outbox) == 1
    assert "recording the delivery failed" in caplog.text
    assert ledger.send(pk, final_attempt=True) is None and len(mail.outbox) == 1


def test_rows_whose_task_was_lost_are_queued_by_the_tick_once(monkeypatch):
    _overdue_owner()
    pk = _claim_one()  # claimed, but its task never ran
    queued = []
    monkeypatch.setattr(send_email, "delay", lambda *args: queued.append(args))
    assert send_due() == 0  # within the claim's grace its own task is expected to send it
    later = Dispatch.objects.get().next_try_at + timedelta(seconds=1)
    with time_machine.travel(later):
        assert send_due() == 1 and queued == [(pk, 0)]
        assert send_due() == 0  # leased: the next tick does not queue it again
        assert send_email(pk, 0) is True and send_email(pk, 0) is False
    assert len(mail.outbox) == 1
