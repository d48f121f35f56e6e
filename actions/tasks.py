"""Celery tasks: each takes ids, calls one domain function and is harmless when run twice."""

from __future__ import annotations

from celery import shared_task

from . import webhooks

WEBHOOK_MAX_RETRIES = 6  # 30 s, 1, 2, 4, 8, 16 min: about half an hour before giving up
EMAIL_MAX_RETRIES = 4  # 1, 2, 4, 8 min; the ledger row records each attempt and the error


@shared_task(bind=True, max_retries=WEBHOOK_MAX_RETRIES, acks_late=True)
def deliver_webhook(self, delivery_id: int) -> bool:
    """POST one webhook delivery; retries with exponential backoff, then records the failure."""
    final = self.request.retries >= self.max_retries
    try:
        return webhooks.deliver(delivery_id, final_attempt=final)
    except webhooks.DeliveryFailed as err:
        raise self.retry(exc=err, countdown=30 * 2**self.request.retries) from err


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES, acks_late=True)
def send_email(self, dispatch_id: int) -> bool:
    """Send one claimed ledger row (reminder, manager note or digest) at most once."""
    from . import ledger, reminders

    final = self.request.retries >= self.max_retries
    try:
        return ledger.send(dispatch_id, reminders.build, final_attempt=final) is not None
    except ledger.SendFailed as err:
        raise self.retry(exc=err, countdown=60 * 2**self.request.retries) from err


@shared_task
def send_reminders() -> dict:
    """Hourly tick: claim the reminders and manager notes due now, send after the commit."""
    from . import jobs

    jobs.resend_stuck()
    return jobs.run_reminders(enqueue=True).as_dict()


@shared_task
def send_digests() -> dict:
    """Daily tick: the previous month's digests if not sent yet (a missed 1st is harmless)."""
    from . import jobs

    return jobs.run_digests(enqueue=True).as_dict()
