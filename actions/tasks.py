"""Celery tasks: each takes ids, calls one domain function and is harmless when run twice."""

from __future__ import annotations

from celery import shared_task

from . import webhooks

WEBHOOK_MAX_RETRIES = 6  # 30 s, 1, 2, 4, 8, 16 min: about half an hour before giving up


@shared_task(bind=True, max_retries=WEBHOOK_MAX_RETRIES, acks_late=True)
def deliver_webhook(self, delivery_id: int) -> bool:
    """POST one webhook delivery; retries with exponential backoff, then records the failure."""
    final = self.request.retries >= self.max_retries
    try:
        return webhooks.deliver(delivery_id, final_attempt=final)
    except webhooks.DeliveryFailed as err:
        raise self.retry(exc=err, countdown=30 * 2**self.request.retries) from err
