import json
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from actions import jobs, ledger, reminders, services
from actions.models import Dispatch
from actions.tasks import send_email, send_reminders

from ..factories import ActionItemFactory, IncidentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

# 10:30 UTC on a Monday: past the default 09:00 reminder hour in UTC.
MONDAY = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
MONDAY_DATE = MONDAY.date()


def _owner(username="dana", tz="UTC", hour=9, due_soon=True):
    owner = UserFactory(username=username, first_name="Dana", last_name="Kim")
    owner.profile.timezone, owner.profile.reminder_hour = tz, hour
    owner.profile.notify_due_soon = due_soon
    owner.profile.save()
    return owner


def _item(owner, days_from_today, today=MONDAY_DATE, **kwargs):
    return ActionItemFactory(owner=owner, due_on=today + timedelta(days=days_from_today), **kwargs)


def test_an_owner_gets_one_email_listing_all_items_most_overdue_first():
    owner = _owner()
    a = _item(owner, -2, title="Add the canary gate")
    b = _item(owner, -10, title="Alert on empty upstream lists", priority=0)
    c = _item(owner, 2, title="Write the failover runbook")
    _item(owner, 9, title="Not yet due")
    _item(owner, -5, status="done", completed_at=MONDAY, title="Finished already")
    summary = jobs.run_reminders(MONDAY)
    assert summary.emails_sent == 1 and summary.items == 3
    [email] = mail.outbox
    assert email.to == [owner.email]
    assert email.subject == "Debrief: 2 overdue action items, 1 due soon"
    text = email.body
    assert text.index(b.title) < text.index(a.title) < text.index(c.title)
    assert "Not yet due" not in text and "Finished already" not in text
    assert "10 days late" in text
    assert f"http://testserver/actions/{b.pk}/done/" in text.replace("127.0.0.1:8000", "testserver")
    html = email.alternatives[0][0]
    assert 'style="' in html and "<script" not in html
    assert f"/actions/{a.pk}/#due" in html


def test_links_are_absolute_with_the_site_url(settings):
    settings.SITE_URL = "https://debrief.example.com"
    owner = _owner()
    item = _item(owner, -1)
    jobs.run_reminders(MONDAY)
    assert f"https://debrief.example.com/actions/{item.pk}/done/" in mail.outbox[0].body


def test_a_second_tick_sends_nothing():
    owner = _owner()
    _item(owner, -1)
    assert jobs.run_reminders(MONDAY).emails_sent == 1
    second = jobs.run_reminders(MONDAY + timedelta(hours=1))
    assert second.emails_sent == 0 and second.skipped_already_sent == 1
    assert len(mail.outbox) == 1
    # The next local day is a new reminder.
    assert jobs.run_reminders(MONDAY + timedelta(days=1)).emails_sent == 1


def test_the_reminder_waits_for_the_owners_local_hour():
    # 10:30 UTC is 05:30 in New York (EST, before the March change).
    owner = _owner(tz="America/New_York", hour=8)
    _item(owner, -1)
    assert jobs.run_reminders(MONDAY).emails_sent == 0
    assert jobs.run_reminders(MONDAY + timedelta(hours=3)).emails_sent == 1  # 08:30 local


def test_a_daylight_saving_change_neither_skips_nor_repeats_a_day():
    # Europe/Berlin springs forward on 2026-03-29 (02:00 → 03:00) and falls back on 2026-10-25.
    owner = _owner(tz="Europe/Berlin", hour=2)
    _item(owner, -1, today=date(2026, 3, 29))
    sent = 0
    for hour in range(48):  # every hourly tick across the spring-forward weekend
        now = datetime(2026, 3, 28, 0, 5, tzinfo=UTC) + timedelta(hours=hour)
        sent += jobs.run_reminders(now).emails_sent
    assert sent == 2  # Saturday and Sunday, once each
    periods = sorted(Dispatch.objects.values_list("period", flat=True))
    assert periods == ["2026-03-28", "2026-03-29"]
    fall = 0
    for hour in range(24):  # the fall-back day has 25 local hours; 02:xx happens twice
        fall += jobs.run_reminders(
            datetime(2026, 10, 24, 22, 5, tzinfo=UTC) + timedelta(hours=hour)
        ).emails_sent
    assert fall == 1


def test_opting_out_of_due_soon_keeps_overdue_reminders():
    owner = _owner(due_soon=False)
    _item(owner, 1, title="Due tomorrow")
    assert jobs.run_reminders(MONDAY).emails_sent == 0
    _item(owner, -1, title="Overdue P1", priority=1)
    jobs.run_reminders(MONDAY)
    assert "Overdue P1" in mail.outbox[0].body and "Due tomorrow" not in mail.outbox[0].body


def test_a_reminder_never_reveals_a_private_incident_to_a_non_member():
    owner = _owner()
    secret = IncidentFactory(private=True, title="Credential leak")
    _item(owner, -3, postmortem__incident=secret, title="Rotate the leaked signing key")
    _item(owner, -1, title="Public item")
    jobs.run_reminders(MONDAY)
    body = mail.outbox[0].body + mail.outbox[0].alternatives[0][0]
    assert "Public item" in body
    assert "Rotate the leaked signing key" not in body and "Credential leak" not in body
    # A member of the private incident is reminded of it.
    secret.members.add(owner)
    jobs.run_reminders(MONDAY + timedelta(days=1))
    assert "Rotate the leaked signing key" in mail.outbox[1].body


def test_managers_get_a_weekly_note_of_long_overdue_items():
    team = TeamFactory(name="Payments")
    manager = _owner("mina")
    team.managers.add(manager)
    owner = _owner("omar")
    late = _item(owner, -20, postmortem__incident__team=team, title="Very late item")
    _item(owner, -3, postmortem__incident__team=team, title="Only a bit late")
    jobs.run_reminders(MONDAY)
    notes = [m for m in mail.outbox if m.to == [manager.email]]
    assert len(notes) == 1
    assert "Very late item" in notes[0].body and "Only a bit late" not in notes[0].body
    assert "PAYMENTS" in notes[0].body and str(late.pk) in notes[0].body
    for day in range(1, 7):  # the rest of the ISO week: no second note
        jobs.run_reminders(MONDAY + timedelta(days=day))
    assert len([m for m in mail.outbox if m.to == [manager.email]]) == 1
    jobs.run_reminders(MONDAY + timedelta(days=7))
    assert len([m for m in mail.outbox if m.to == [manager.email]]) == 2


def test_the_beat_task_claims_then_enqueues_after_commit(django_capture_on_commit_callbacks):
    owner = _owner()
    _item(owner, -1)
    with (
        time_machine.travel(MONDAY, tick=False),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        send_reminders()
    assert len(callbacks) == 1 and not mail.outbox
    dispatch = Dispatch.objects.get()
    assert dispatch.state == "pending"
    send_email(dispatch.pk)
    send_email(dispatch.pk)  # a duplicate delivery of the task is harmless
    assert len(mail.outbox) == 1
    dispatch.refresh_from_db()
    assert dispatch.state == "sent" and dispatch.attempts == 1 and dispatch.item_count == 1


def test_a_crash_halfway_is_retried_and_sends_once(monkeypatch):
    owner = _owner()
    _item(owner, -1)
    calls = {"n": 0}
    real_send = ledger.Message.send

    def flaky(message):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionResetError("SMTP connection lost")
        real_send(message)

    monkeypatch.setattr(ledger.Message, "send", flaky)
    claim = ledger.claim([p.key for p in reminders.plan_reminders(MONDAY)], now=MONDAY)
    [pk] = claim.pending_ids
    with pytest.raises(ledger.SendFailed):
        ledger.send(pk, reminders.build, final_attempt=False)
    row = Dispatch.objects.get()
    assert row.state == "pending" and "SMTP connection lost" in row.error and row.attempts == 1
    # The next tick finds the pending row and sends it; later ticks send nothing.
    summary = jobs.run_reminders(MONDAY + timedelta(hours=1))
    assert summary.emails_sent == 1
    assert jobs.run_reminders(MONDAY + timedelta(hours=2)).emails_sent == 0
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.state == "sent" and row.attempts == 2 and row.error == ""


def test_a_send_that_keeps_failing_is_marked_failed_and_logged(monkeypatch, caplog):
    owner = _owner()
    _item(owner, -1)

    def broken(message):
        raise OSError("connection refused")

    monkeypatch.setattr(ledger.Message, "send", broken)
    summary = jobs.run_reminders(MONDAY)
    assert summary.failed == 1 and summary.emails_sent == 0
    row = Dispatch.objects.get()
    assert row.state == "failed" and "connection refused" in row.error
    assert "failed for good" in caplog.text


def test_items_finished_after_the_claim_are_not_mailed():
    owner = _owner()
    item = _item(owner, -1)
    claim = ledger.claim([p.key for p in reminders.plan_reminders(MONDAY)], now=MONDAY)
    services.change_status(item=item, status="done", by=owner)
    assert ledger.send(claim.pending_ids[0], reminders.build, final_attempt=True) is None
    assert Dispatch.objects.get().state == "skipped" and not mail.outbox


def test_send_reminders_command_json_and_dry_run():
    owner = _owner()
    _item(owner, -1, title="Add the canary gate")
    with time_machine.travel(MONDAY, tick=False):
        out = StringIO()
        call_command("send_reminders", "--dry-run", "--json", stdout=out)
        preview = json.loads(out.getvalue())
        assert preview["emails_sent"] == 1 and "Add the canary gate" in preview["previews"][0]
        assert not mail.outbox and not Dispatch.objects.exists()
        out = StringIO()
        call_command("send_reminders", "--dry-run", stdout=out)
        assert "Subject: Debrief: 1 overdue action item" in out.getvalue()
        out = StringIO()
        call_command("send_reminders", "--json", stdout=out)
        first = json.loads(out.getvalue())
        assert first["emails_sent"] == 1 and first["recipients"] == [owner.email]
        assert first["items"] == 1 and first["skipped_already_sent"] == 0
        out = StringIO()
        call_command("send_reminders", "--json", stdout=out)
        second = json.loads(out.getvalue())
        assert second["emails_sent"] == 0 and second["skipped_already_sent"] == 1
    assert len(mail.outbox) == 1


def test_the_sweep_uses_a_bounded_number_of_queries(django_assert_max_num_queries):
    counts = []
    for owners in (3, 30):
        Dispatch.objects.all().delete()
        for n in range(owners):
            owner = _owner(f"o{owners}-{n}")
            _item(owner, -1)
            _item(owner, 1)
        with django_assert_max_num_queries(30) as plan_queries:
            keys = [p.key for p in reminders.plan_reminders(MONDAY)]
            ledger.claim(keys)
        counts.append(len(plan_queries))
    assert counts[0] == counts[1]
