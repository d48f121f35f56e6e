"""Two sweeps at once must still send each reminder once.

On PostgreSQL (CI) the threads really interleave: each has its own connection, the ledger's
unique constraint and ON CONFLICT DO NOTHING decide who claims a row, and select_for_update
(skip_locked) keeps two senders off one row. On SQLite the threads take turns (tests/races.py
says why), so there these tests check only the second-run path; their ids say which it was.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from actions import jobs, reminders
from outbox import ledger
from outbox.models import Dispatch

from ..factories import ActionItemFactory, UserFactory
from ..races import REAL, race, report, run_together

MONDAY = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
OWNERS = 12


@race
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_send_each_reminder_once(race_mode, capsys):
    for n in range(OWNERS):
        owner = UserFactory(username=f"owner{n}")
        ActionItemFactory.create_batch(2, owner=owner, due_on=MONDAY.date() - timedelta(days=2))
    run = run_together(lambda: jobs.run_reminders(MONDAY))
    summaries = run.results
    owners = sorted(f"owner{n}@example.com" for n in range(OWNERS))
    # Each owner was emailed by exactly one of the two sweeps.
    assert sorted(to for s in summaries for to in s.recipients) == owners
    assert sorted(m.to[0] for m in mail.outbox) == owners
    assert Dispatch.objects.filter(state="sent").count() == OWNERS == Dispatch.objects.count()
    if REAL:
        # A sweep counts an owner once at most: sent by it, seen sent, or lost to the other.
        assert all(s.emails_sent + s.skipped_already_sent <= OWNERS for s in summaries)
    else:
        # The second turn found every reminder already sent.
        outcomes = [(s.emails_sent, s.skipped_already_sent) for s in summaries]
        assert outcomes == [(OWNERS, 0), (0, OWNERS)]
    report(
        capsys,
        f"two sweeps sent {[s.emails_sent for s in summaries]} of {OWNERS} reminders, "
        f"{[s.skipped_already_sent for s in summaries]} seen as already sent; "
        f"calls overlapped: {run.overlapped}",
    )


@race
@pytest.mark.django_db(transaction=True)
def test_four_workers_sending_the_same_row_send_it_once(race_mode, capsys):
    owner = UserFactory()
    ActionItemFactory(owner=owner, due_on=MONDAY.date() - timedelta(days=1))
    [pk] = ledger.claim([p.key for p in reminders.plan_reminders(MONDAY)], now=MONDAY).pending_ids
    run = run_together(lambda: ledger.send(pk, final_attempt=True), 4)
    sent = [r for r in run.results if r is not None]
    assert len(sent) == 1 and sent[0].to == owner.email
    if not REAL:
        assert run.results[0] is not None  # the first turn sent it; the rest found it sent
    assert [m.to for m in mail.outbox] == [[owner.email]]
    dispatch = Dispatch.objects.get(pk=pk)
    assert (dispatch.state, dispatch.attempts) == ("sent", 1)
    report(capsys, f"4 workers, 1 sent the row; calls overlapped: {run.overlapped}")
