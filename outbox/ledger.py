"""Exactly-once email: claim a unique ledger row, then render, send and record the outcome.

Every email Debrief sends goes through here, whatever its kind:

1. plan: the domain works out who should get what, as `Key`s (kind, recipient, scope, period);
2. claim: `claim(keys)` inserts one `Dispatch` row per key with ON CONFLICT DO NOTHING, so a
   second tick, a parallel worker or a re-run claims nothing new;
3. send: `send(dispatch_id)` locks the row (`select_for_update(skip_locked)`), checks it is
   still pending, renders it with the builder registered for its kind, sends it and marks it
   sent in the same transaction. A failure is recorded on the row (attempts, error) and the
   row stays pending for a retry; after the last attempt it is marked failed.

Builders are registered per kind by each domain app's `emails` module, imported from its
AppConfig.ready, so this bottom app renders emails it knows nothing about:

    @ledger.builder(Dispatch.Kind.REMINDER)
    def reminder(dispatch: Dispatch) -> ledger.Message | None: ...

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
from django.core import checks
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import Dispatch

logger = logging.getLogger(__name__)

BATCH = 500
Kind = Dispatch.Kind


# --- Messages and links -----------------------------------------------------------------------


@dataclass
class Message:
    """A rendered email, ready to send or to print in a dry run."""

    to: str
    subject: str
    text: str
    html: str
    item_count: int = 0
    attachments: list[tuple[str, str, str]] = field(default_factory=list)  # name, body, type
    # What the domain records once this email is delivered (e.g. "invited at" on its own row).
    on_sent: Callable[[], None] | None = None

    def send(self) -> None:
        email = EmailMultiAlternatives(self.subject, self.text, to=[self.to])
        email.attach_alternative(self.html, "text/html")
        for name, content, mimetype in self.attachments:
            email.attach(name, content, mimetype)
        email.send()


def render(
    *, to: str, subject: str, template: str, context: dict, items: int = 0, **extra
) -> Message:
    """Render `<template>.txt` and `<template>.html` into a Message (`extra`: its other fields)."""
    context = {"site": settings.SITE_URL, "subject": subject, **context}
    return Message(
        to=to,
        subject=subject,
        text=render_to_string(f"{template}.txt", context),
        html=render_to_string(f"{template}.html", context),
        item_count=items,
        **extra,
    )


def link(viewname: str, *args, query: str = "", fragment: str = "") -> str:
    """An absolute link for an email: the site URL and the path `reverse()` gives."""
    url = settings.SITE_URL + reverse(viewname, args=args)
    if query:
        url += f"?{query}"
    if fragment:
        url += f"#{fragment}"
    return url


def link_to(obj: models.Model) -> str:
    """An absolute link to a row's own page (its `get_absolute_url`, built with reverse())."""
    return settings.SITE_URL + obj.get_absolute_url()


# --- The builders, one per kind ---------------------------------------------------------------

Builder = Callable[[Dispatch], Message | None]
_builders: dict[str, Builder] = {}


def builder(kind: str) -> Callable[[Builder], Builder]:
    """Register the function that renders emails of `kind` from their ledger row.

    It returns the Message to send, or None when there is nothing left to say (e.g. every
    item was finished since the claim): the row is then marked skipped.
    """

    def register(fn: Builder) -> Builder:
        known = _builders.get(kind)
        if known is not None and _name(known) != _name(fn):
            raise ValueError(f"{kind!r} emails are already built by {_name(known)}")
        _builders[kind] = fn
        return fn

    return register


def _name(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def build(dispatch: Dispatch) -> Message | None:
    """Render one ledger row with the builder registered for its kind."""
    try:
        fn = _builders[dispatch.kind]
    except KeyError:
        raise LookupError(f"no message builder is registered for {str(dispatch.kind)!r}") from None
    return fn(dispatch)


def check_builders(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: every kind of email has a builder once the apps are loaded."""
    return [
        checks.Error(
            f"No message builder is registered for {kind!r} emails.",
            hint="Register one with @ledger.builder in the owning app's emails module, "
            "imported from its AppConfig.ready().",
            id="outbox.E001",
        )
        for kind in Kind.values
        if kind not in _builders
    ]


# --- Claiming ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """What makes an email unique: at most one is ever sent per key."""

    kind: str
    recipient_id: int
    period: str = ""
    scope: str = ""

    @classmethod
    def about(cls, kind: str, recipient_id: int, obj: models.Model, period: str = "") -> Key:
        """The key of an email about one row, once per recipient (see `Dispatch.about`)."""
        return cls(kind, recipient_id, period, f"{obj._meta.model_name}:{obj.pk}")


@dataclass
class Claim:
    """What one claim found: ledger ids to send now, and how many were already settled."""

    pending_ids: list[int] = field(default_factory=list)
    already_settled: int = 0


def claim(keys: Iterable[Key], *, now=None) -> Claim:
    """Insert a ledger row per key unless one exists; return the rows still waiting to send.

    Rows left pending by an earlier, interrupted run are returned too, so they get sent.
    Bounded queries: one insert and one select per batch of keys, never one per key.
    """
    keys = list(dict.fromkeys(keys))
    created_at = now or timezone.now()
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
                    created_at=created_at,
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


# --- Sending ----------------------------------------------------------------------------------


class SendFailed(Exception):
    """The mail server refused or could not be reached; the caller retries with backoff."""


def send(dispatch_id: int, *, final_attempt: bool) -> Message | None:
    """Send one claimed email at most once; returns the message sent, or None if nothing was.

    Raises SendFailed when the send failed and a retry should follow; the row stays pending
    with its attempt count and error.
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
            return None  # sent, settled for good, or being sent by another worker right now
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
            _record_delivery(dispatch, message)
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
            dispatch.period or dispatch.scope,
            dispatch.recipient.email,
            dispatch.attempts,
            "failed for good" if failed else "failed, will retry",
            error,
        )
        if not failed:
            raise SendFailed(error)
        return None
    return message


def _record_delivery(dispatch: Dispatch, message: Message) -> None:
    """Run the domain's `on_sent` in a savepoint: the email is out, so its failure must not
    roll back the ledger row (that would send the email again); it is logged instead."""
    if message.on_sent is None:
        return
    try:
        with transaction.atomic():
            message.on_sent()
    except Exception:  # noqa: BLE001 - the ledger row is the record that counts
        logger.exception("%s email %s: recording the delivery failed", dispatch.kind, dispatch.pk)


def pending_since(minutes: int) -> list[int]:
    """Pending rows older than `minutes`: their task was lost, so they are sent again."""
    cutoff = timezone.now() - timedelta(minutes=minutes)
    return list(
        Dispatch.objects.filter(state=Dispatch.State.PENDING, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
