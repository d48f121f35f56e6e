"""The outbox's Celery tasks: send one ledger row, and resend rows whose task was lost."""

from __future__ import annotations

from celery import shared_task

from . import ledger

EMAIL_MAX_RETRIES = 4  # 1, 2, 4, 8 min; the ledger row records each attempt and the error


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES, acks_late=True)
def send_email(self, dispatch_id: int) -> bool:
    """Send one claimed ledger row (of any kind) at most once."""
    final = self.request.retries >= self.max_retries
    try:
        return ledger.send(dispatch_id, final_attempt=final) is not None
    except ledger.SendFailed as err:
        raise self.retry(exc=err, countdown=60 * 2**self.request.retries) from err


@shared_task
def resend_stuck(minutes: int = 30) -> int:
    """Hourly: re-enqueue rows left pending (a lost task); sending one twice is impossible."""
    ids = ledger.pending_since(minutes)
    for pk in ids:
        send_email.delay(pk)
    return len(ids)
