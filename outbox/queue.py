"""Emails claimed with the change that causes them, and sent by a worker after the commit.

A service calls `queue_emails(keys)` inside its transaction: the ledger rows commit (or roll
back) with the change, so an email is never lost to a broker outage (the rows stay pending and
the outbox tick, `tasks.send_due`, sends them) and never sent for a change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from . import ledger, tasks


def send_after_commit(dispatch_ids: list[int]) -> None:
    """Enqueue one send task per ledger row once the current transaction commits."""
    if not dispatch_ids:
        return
    ids = list(dispatch_ids)
    # robust: the change is committed either way; a broker outage is logged and the rows stay
    # pending for the tick (send_due) rather than turning the page into an error.
    transaction.on_commit(lambda: [tasks.send_email.delay(pk) for pk in ids], robust=True)


def queue_emails(keys: Iterable[ledger.Key]) -> ledger.Claim:
    """Claim these emails now, in the caller's transaction; each is sent after the commit."""
    claim = ledger.claim(keys)
    send_after_commit(claim.pending_ids)
    return claim
