"""Reminders and digests sent in batches: one connection, bulk marking, once per key.

A batch is locked, built and marked sent together; these tests break it in the middle.
"""

import smtplib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from actions import emails, jobs
from actions.metrics import Period
from actions.models import ActionItem, Digest
from outbox import heartbeat, ledger
from outbox.models import Dispatch

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    UserFactory,
)
from ..races import REAL, race, report, run_together

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def _owners(count: int, prefix: str = "owner") -> list:
    owners = []
    for n in range(count):
        owner = UserFactory(username=f"{prefix}{n}")
        ActionItemFactory(owner=owner, due_on=MONDAY.date() - timedelta(days=2))
        ActionItemFactory(owner=owner, due_on=MONDAY.date() + timedelta(days=1))
        owners.append(owner)
    return owners


def _failing_on(monkeypatch, calls: set[int], error: Exception) -> list:
    """Message.send raises `error` on these calls (1-based); returns the addresses it sent."""
    real_send, seen, sent = ledger.Message.send, {"n": 0}, []

    def send(message):
        seen["n"] += 1
        if seen["n"] in calls:
            raise error
        real_send(message)
        sent.append(message.to)

    monkeypatch.setattr(ledger.Message, "send", send)
    return sent


def test_a_sweep_opens_one_mail_connection_per_batch(monkeypatch):
    _owners(5)
    monkeypatch.setattr(ledger, "SEND_BATCH", 2)
    opened = []
    real = ledger.get_connection
    monkeypatch.setattr(ledger, "get_connection", lambda: opened.append(1) or real())
    summary = jobs.run_reminders(MONDAY)
    assert summary.emails_sent == 5 and len(mail.outbox) == 5
    assert len(opened) == 3  # batches of 2, 2 and 1


def test_the_sweeps_queries_do_not_grow_with_the_emails_it_sends():
    heartbeat.record(heartbeat.SWEEP)  # its first write inserts the row: one query more
    counts = []
    for owners in (3, 30):
        Dispatch.objects.all().delete()
        ActionItem.objects.all().delete()
        _owners(owners, prefix=f"o{owners}-")
        with CaptureQueriesContext(connection) as queries:
            summary = jobs.run_reminders(MONDAY)
        assert summary.emails_sent == owners
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_connection_lost_mid_batch_leaves_the_unsent_pending_and_never_sent(monkeypatch):
    owners = _owners(6)
    sent = _failing_on(monkeypatch, {3}, smtplib.SMTPServerDisconnected("lost"))
    summary = jobs.run_reminders(MONDAY)
    assert summary.emails_sent == 2 and len(sent) == 2 and len(mail.outbox) == 2
    assert summary.retrying == 4  # the one that failed, and three never tried
    rows = {r.recipient.email: r for r in Dispatch.objects.select_related("recipient")}
    assert {e for e, r in rows.items() if r.state == "sent"} == set(sent)
    unsent = [r for r in rows.values() if r.state != "sent"]
    assert {r.state for r in unsent} == {"pending"} and all(r.sent_at is None for r in unsent)
    # Only the message that met the broken connection used a try; the rest were not tried.
    assert sorted(r.attempts for r in unsent) == [0, 0, 0, 1]

    monkeypatch.undo()
    later = max(r.next_try_at for r in unsent) + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        again = jobs.run_reminders(MONDAY + timedelta(hours=1))
        assert jobs.run_reminders(MONDAY + timedelta(hours=2)).emails_sent == 0
    assert again.emails_sent + again.retried_sent == 4
    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.email for o in owners)
    assert set(Dispatch.objects.values_list("state", flat=True)) == {"sent"}


def test_a_refused_recipient_mid_batch_fails_alone_and_the_rest_go_out(monkeypatch):
    _owners(5)
    refused = smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"No such user")})
    sent = _failing_on(monkeypatch, {2}, refused)
    summary = jobs.run_reminders(MONDAY)
    assert summary.emails_sent == 4 == len(sent) and summary.failed == 1
    failed = Dispatch.objects.get(state="failed")
    assert failed.attempts == 1 and "550" in failed.error and failed.sent_at is None
    assert Dispatch.objects.filter(state="sent").count() == 4


def test_a_4xx_mid_batch_is_retried_later_and_sent_once(monkeypatch):
    _owners(4)
    busy = smtplib.SMTPRecipientsRefused({"x@example.com": (451, b"Try later")})
    _failing_on(monkeypatch, {1}, busy)
    summary = jobs.run_reminders(MONDAY)
    assert summary.emails_sent == 3 and summary.retrying == 1
    row = Dispatch.objects.get(state="pending")
    assert row.attempts == 1 and row.next_try_at > MONDAY
    monkeypatch.undo()
    assert jobs.run_reminders(MONDAY).emails_sent == 0  # still waiting out its backoff
    with time_machine.travel(row.next_try_at + timedelta(seconds=1), tick=False):
        due = jobs.run_reminders(MONDAY)
    assert due.emails_sent + due.retried_sent == 1 and due.skipped_already_sent == 3
    assert len(mail.outbox) == 4 and len({m.to[0] for m in mail.outbox}) == 4


def test_a_row_that_breaks_its_batch_builder_costs_only_its_own_email(monkeypatch):
    _owners(3)
    real = emails.reminder_batch

    def fussy(dispatches):
        if len(dispatches) > 1:
            raise RuntimeError("one bad row")
        return real(dispatches)

    monkeypatch.setitem(ledger._batch_builders, Dispatch.Kind.REMINDER, fussy)
    assert jobs.run_reminders(MONDAY).emails_sent == 3  # rebuilt one by one


def test_the_batch_lists_exactly_what_each_owner_may_read(settings):
    """The batch query applies the read rule per row; it must agree with visible_to per owner,
    in both read modes, for members, reviewers, managers and outsiders of private incidents."""
    team, other = TeamFactory(), TeamFactory()
    owners = UserFactory.create_batch(4)
    member, reviewer, manager, outsider = owners
    team.members.add(member)
    team.managers.add(manager)
    private = PostmortemFactory(incident=IncidentFactory(team=team, private=True))
    private.incident.members.add(member)
    public_elsewhere = PostmortemFactory(incident=IncidentFactory(team=other))
    public_elsewhere.reviewers.add(reviewer)
    public_here = PostmortemFactory(incident=IncidentFactory(team=team))
    for owner in owners:
        for pm in (private, public_elsewhere, public_here):
            ActionItemFactory(owner=owner, postmortem=pm, due_on=MONDAY.date() - timedelta(1))
    for mode in ("organisation", "team"):
        settings.DEBRIEF_READ_ACCESS = mode
        dispatches = [
            Dispatch(pk=o.pk, kind="reminder", recipient=o, period=MONDAY.date().isoformat())
            for o in owners
        ]
        built = emails.reminder_batch(dispatches)
        texts = {}
        for owner in owners:
            expected = {i.pk for i in emails.reminder_items(owner, MONDAY.date(), True)}
            message = built[owner.pk]
            listed = {int(u.rstrip("/").rsplit("/", 1)[-1]) for u in _detail_links(message)}
            assert listed == expected, (mode, owner.username)
            texts[owner] = message.text if message else ""
        assert private.incident.reference not in texts[outsider] + texts[reviewer]
        assert (
            private.incident.reference in texts[member]
            and private.incident.reference in (texts[manager])
        )
        assert public_elsewhere.incident.reference in texts[reviewer]
        # Team-only reading: a public incident of another team stays out, unless involved.
        assert (public_here.incident.reference in texts[outsider]) is (mode == "organisation")
        assert (public_elsewhere.incident.reference in texts[member]) is (mode == "organisation")


def _detail_links(message) -> list[str]:
    if message is None:
        return []
    return [
        line.split()[-1] for line in message.text.splitlines() if line.strip().startswith("Open:")
    ]


@race
@pytest.mark.django_db(transaction=True)
def test_two_batched_sweeps_racing_send_each_email_once(race_mode, capsys, monkeypatch):
    monkeypatch.setattr(ledger, "SEND_BATCH", 4)  # several batches each, interleaving
    owners = _owners(20)
    run = run_together(lambda: jobs.run_reminders(MONDAY))
    emailed = sorted(m.to[0] for m in mail.outbox)
    assert emailed == sorted(o.email for o in owners)
    assert sum(s.emails_sent for s in run.results) == 20
    assert Dispatch.objects.filter(state="sent").count() == 20 == Dispatch.objects.count()
    if not REAL:
        assert [s.emails_sent for s in run.results] == [20, 0]
    report(
        capsys,
        f"two batched sweeps sent {[s.emails_sent for s in run.results]} of 20; "
        f"calls overlapped: {run.overlapped}",
    )


# --- Digests ----------------------------------------------------------------------------------

FEBRUARY = Period.month("2026-02")


def _team_digest_with_an_owed_incident():
    team = TeamFactory(slug="payments", name="Payments")
    people = UserFactory.create_batch(5)
    team.members.add(*people[:4])
    team.managers.add(people[4])
    incident = IncidentFactory(
        team=team,
        severity=1,
        title="Ledger drift",
        started_at=datetime(2026, 2, 3, 12, tzinfo=UTC),
        resolved_at=datetime(2026, 2, 3, 14, tzinfo=UTC),
    )
    return team, people, incident


def test_a_digest_is_rendered_once_for_all_its_recipients(monkeypatch):
    _team_digest_with_an_owed_incident()
    renders = []
    real = emails.digest_message
    monkeypatch.setattr(emails, "digest_message", lambda *a: renders.append(a[3]) or real(*a))
    summary = jobs.run_digests(FEBRUARY)
    assert summary.emails_sent == len(mail.outbox) == 5 + 1  # the team's five, the org's one
    assert len(renders) == 2  # once per scope
    team_mails = [m for m in mail.outbox if "Payments" in m.subject]
    assert len({m.to[0] for m in team_mails}) == 5
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 6
    assert all("Ledger drift" in m.body for m in team_mails)


def test_a_digests_copies_leave_out_an_incident_made_private_for_those_outside_it(
    monkeypatch,
):
    team, people, incident = _team_digest_with_an_owed_incident()
    # Built and claimed, not sent yet: the incident turns private in between.
    with time_machine.travel(datetime(2026, 3, 1, 8, tzinfo=UTC), tick=False):
        monkeypatch.setattr(ledger, "send_inline", lambda ids: ledger.Outcome())
        jobs.run_digests(FEBRUARY)
        monkeypatch.undo()
    assert Digest.objects.filter(scope="team:payments").exists() and not mail.outbox
    incident.private = True
    incident.save(update_fields=["private"])
    incident.members.add(people[0])  # people[4] manages the team: reads it too
    renders = []
    real = emails.digest_message
    monkeypatch.setattr(emails, "digest_message", lambda *a: renders.append(a[3]) or real(*a))
    jobs.run_digests(FEBRUARY)
    by_address = {m.to[0]: m for m in mail.outbox if "Payments" in m.subject}
    assert len(by_address) == 5
    for person in people:
        sees = person in (people[0], people[4])
        message = by_address[person.email]
        assert ("Ledger drift" in message.body) is sees, person.username
        assert (incident.reference in message.alternatives[0][0]) is sees
    assert len(renders) == 3  # the team's two versions; the org's one recipient manages it


def test_a_manager_note_lists_exactly_what_the_read_rule_gives_the_manager(settings):
    """The batch reads no per-row rule for managers: the rule lets a team's managers read all
    of its incidents. This pins that reasoning to the live rule, private incidents included."""
    managed, elsewhere = TeamFactory(), TeamFactory()
    manager = UserFactory()
    managed.managers.add(manager)
    long_ago = MONDAY.date() - timedelta(days=60)
    for team in (managed, elsewhere):
        for private in (False, True):
            pm = PostmortemFactory(incident=IncidentFactory(team=team, private=private))
            ActionItemFactory(postmortem=pm, due_on=long_ago)
    for mode in ("organisation", "team"):
        settings.DEBRIEF_READ_ACCESS = mode
        note = Dispatch(pk=1, kind="manager_note", recipient=manager, created_at=MONDAY)
        message = emails.manager_note_batch([note])[1]
        cutoff = MONDAY.date() - timedelta(days=settings.DEBRIEF_MANAGER_OVERDUE_DAYS)
        live = (
            ActionItem.objects.visible_to(manager)
            .open()
            .filter(postmortem__incident__team__managers=manager, due_on__lt=cutoff)
        )
        assert {int(u.rstrip("/").rsplit("/", 1)[-1]) for u in _links(message)} == {
            i.pk for i in live
        }
        assert live.count() == 2, mode


def _links(message) -> list[str]:
    # Each item's own link sits alone on its line; the closing team link does not.
    return [line.strip() for line in message.text.splitlines() if line.startswith("  http")]
