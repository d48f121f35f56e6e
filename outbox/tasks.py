"""The outbox's Celery tasks: send one ledger row, and the tick that sends what is due."""

from __future__ import annotations

from celery import shared_task

from . import heartbeat, ledger


@shared_task(acks_late=True)
def send_email(dispatch_id: int, attempt: int | None = None) -> bool:
    """Send one claimed ledger row (of any kind) at most once.

    A failure is not retried by Celery: the ledger row records its next try and the tick
    (`send_due`) queues it then, so retries survive worker restarts and broker outages.
    """
    try:
        return ledger.send(dispatch_id, attempt=attempt) is not None
    except ledger.SendFailed:
        return False


@shared_task
def send_due() -> int:
    """Every minute from beat: queue each pending email whose next try has come (retries after
    a failure, and claims whose task was lost). Also beat's heartbeat for /healthz."""
    heartbeat.record(heartbeat.BEAT)
    rows = ledger.lease_due()
    for pk, attempts in rows:
        send_email.delay(pk, attempts)
    return len(rows)
