"""Celery tasks: each takes ids, calls one domain function and is harmless when run twice.

Tasks are the top of the app: they import the domain modules and none of those imports them.
Emails are sent by the outbox's own task (outbox.tasks.send_email), whatever their kind.
"""

from __future__ import annotations

from celery import shared_task

from . import jobs, webhooks

WEBHOOK_MAX_RETRIES = 6  # 30 s, 1, 2, 4, 8, 16 min: about half an hour before giving up


@shared_task(bind=True, max_retries=WEBHOOK_MAX_RETRIES, acks_late=True)
def deliver_webhook(self, delivery_id: int) -> bool:
    """POST one webhook delivery; retries with exponential backoff, then records the failure."""
    final = self.request.retries >= self.max_retries
    try:
        return webhooks.deliver(delivery_id, final_attempt=final)
    except webhooks.DeliveryFailed as err:
        raise self.retry(exc=err, countdown=30 * 2**self.request.retries) from err


@shared_task
def send_reminders() -> dict:
    """Hourly tick: plan the reminders and manager notes due now, claim them, send after commit."""
    return jobs.run_reminders(enqueue=True).as_dict()


@shared_task
def send_digests() -> dict:
    """Daily tick: the previous month's digests if not sent yet (a missed 1st is harmless)."""
    return jobs.run_digests(enqueue=True).as_dict()
