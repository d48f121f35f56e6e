"""Exactly-once email: claim a unique ledger row, then send and record the outcome on it.

The shape: a tick (beat or a command) works out what is due and inserts one `Dispatch` row per
(kind, recipient, scope, period) with ON CONFLICT DO NOTHING, so a second tick, a parallel
worker or a re-run claims nothing new. Sending locks the row (`select_for_update(skip_locked)`),
checks it is still pending, sends and marks it sent in the same transaction; a failure is
recorded with its error and retried a bounded number of times, then marked failed.

The one gap no ledger can close: if the process dies after the SMTP server accepted the
message but before the commit, the row stays pending and the email goes out again. That is
the lesser failure (twice rather than never) and needs a crash in a window of milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Dispatch

logger = logging.getLogger(__name__)

BATCH = 500


@dataclass
class Message:
    """A rendered email, ready to send or to print in a dry run."""

    to: str
    subject: str
    text: str
    html: str
    item_count: int = 0

    def send(self) -> None:
        email = EmailMultiAlternatives(self.subject, self.text, to=[self.to])
        email.attach_alternative(self.html, "text/html")
        email.send()


def render_message(*, to: str, subject: str, template: str, context: dict, items: int) -> Message:
    """Render `<template>.txt` and `<template>.html` with absolute links (settings.SITE_URL)."""
    context = {"site": settings.SITE_URL, "subject": subject, **context}
    return Message(
        to=to,
        subject=subject,
        text=render_to_string(f"actions/email/{template}.txt", context),
        html=render_to_string(f"actions/email/{template}.html", context),
        item_count=items,
    )


@dataclass(frozen=True)
class Key:
    kind: str
    recipient_id: int
    period: str
    scope: str = ""


@dataclass
class Claim:
    """What one tick claimed: ledger ids to send now, and how many were already settled."""

    pending_ids: list[int] = field(default_factory=list)
    already_settled: int = 0


def claim(keys: Iterable[Key], *, digest_ids: dict[str, int] | None = None, now=None) -> Claim:
    """Insert a ledger row per key unless one exists; return the rows still waiting to send.

    Rows left pending by an earlier, interrupted run are returned too, so they get sent.
    Bounded queries: one insert and one select per batch of keys, never one per key.
    """
    keys = list(dict.fromkeys(keys))
    result = Claim()
    for start in range(0, len(keys), BATCH):
        batch = keys[start : start + BATCH]
        Dispatch.objects.bulk_create(
            [
                Dispatch(
                    kind=k.kind,
                    recipient_id=k.recipient_id,
                    period=k.period,
                    scope=k.scope,
                    digest_id=(digest_ids or {}).get(k.scope),
                    created_at=now or timezone.now(),
                )
                for k in batch
            ],
            ignore_conflicts=True,
        )
        rows = Dispatch.objects.filter(
            kind__in={k.kind for k in batch},
            period__in={k.period for k in batch},
            recipient_id__in={k.recipient_id for k in batch},
        ).values_list("pk", "kind", "recipient_id", "period", "scope", "state")
        wanted = set(batch)
        for pk, kind, recipient_id, period, scope, state in rows:
            if Key(kind, recipient_id, period, scope) not in wanted:
                continue
            if state == Dispatch.State.PENDING:
                result.pending_ids.append(pk)
            else:
                result.already_settled += 1
    return result


class SendFailed(Exception):
    """The mail server refused or could not be reached; the caller retries with backoff."""


def send(
    dispatch_id: int,
    build: Callable[[Dispatch], Message | None],
    *,
    final_attempt: bool,
) -> Message | None:
    """Send one claimed email at most once; returns the message sent, or None if nothing was.

    `build` renders the message from the row (None: nothing left to say, e.g. every item was
    finished since the claim). Raises SendFailed when a retry should follow.
    """
    error = ""
    with transaction.atomic():
        dispatch = (
            Dispatch.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "recipient__profile")
            .filter(pk=dispatch_id, state=Dispatch.State.PENDING)
            .first()
        )
        if dispatch is None:
            return None  # sent, failed for good, or being sent by another worker right now
        message = build(dispatch)
        dispatch.attempts += 1
        if message is None:
            dispatch.state = Dispatch.State.SKIPPED
        else:
            try:
                message.send()
            except Exception as err:  # noqa: BLE001 - any transport error is recorded, not lost
                error = f"{type(err).__name__}: {err}"[:2000]
        if message is not None and not error:
            dispatch.state, dispatch.sent_at = Dispatch.State.SENT, timezone.now()
            dispatch.item_count = message.item_count
            dispatch.error = ""
        elif error:
            dispatch.error = error
            if final_attempt or dispatch.attempts >= settings.DEBRIEF_EMAIL_MAX_ATTEMPTS:
                dispatch.state = Dispatch.State.FAILED
        dispatch.save()
    if error:
        failed = dispatch.state == Dispatch.State.FAILED
        logger.log(
            logging.ERROR if failed else logging.WARNING,
            "%s email %s to %s attempt %s %s: %s",
            dispatch.kind,
            dispatch.period,
            dispatch.recipient.email,
            dispatch.attempts,
            "failed for good" if failed else "failed, will retry",
            error,
        )
        if not failed:
            raise SendFailed(error)
        return None
    return message


def pending_since(minutes: int) -> list[int]:
    """Pending rows older than `minutes`: their task was lost, so the next tick resends."""
    cutoff = timezone.now() - timedelta(minutes=minutes)
    return list(
        Dispatch.objects.filter(state=Dispatch.State.PENDING, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
