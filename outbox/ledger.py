"""Exactly-once email: claim a unique ledger row, then render, send and record the outcome.

Every email Debrief sends goes through here, whatever its kind:

1. plan: the domain works out who should get what, as `Key`s (kind, recipient, scope, period);
2. claim: `claim(keys)` inserts one `Dispatch` row per key with ON CONFLICT DO NOTHING, so a
   second tick, a parallel worker or a re-run claims nothing new;
3. send: `send(dispatch_id)` locks the row (`select_for_update(skip_locked)`), checks it is
   still pending, renders it with the builder registered for its kind, sends it and marks it
   sent in the same transaction. A failure is recorded on the row (attempts, error, and
   `next_try_at` with a backoff growing from minutes to hours) and the row stays pending:
   the outbox tick (beat, every minute) or the next sweep command sends it again once due.
   Only a permanent refusal (the server refused the address, 5xx) or the last of
   DEBRIEF_EMAIL_MAX_ATTEMPTS marks it failed; "failed" is never "already sent", and a
   resend (admin page, `--retry-failed`) reuses the same row.

Sweeps run inline (the cron commands, `send_inline`) send in batches (`send_batch`): up to
SEND_BATCH rows locked together, built by the kind's batch builder with a few queries for the
whole batch, marked sent in one UPDATE, sent over one mail connection, and put back one by one
if refused (or untried, if the server went away). The Celery path keeps one task per row, so a
killed worker can repeat at most the email it was sending (see docs/reliability.md).

Builders are registered per kind by each domain app's `emails` module, imported from its
AppConfig.ready, so this bottom app renders emails it knows nothing about:

    @ledger.builder(Dispatch.Kind.REMINDER)
    def reminder(dispatch: Dispatch) -> ledger.Message | None: ...

The one gap no ledger can close: if the process dies after the SMTP server accepted the
message but before the commit, the row stays pending and the email goes out again. The send
shrinks that window to the COMMIT itself (the row is marked sent before the server answers,
QUIT comes after the commit), and each email's stable Message-ID lets clients fold a copy.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.mail import EmailMultiAlternatives, get_connection
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
    headers: dict[str, str] = field(default_factory=dict)
    # An SMTP connection the ledger opened (it closes it after the commit), or None.
    connection: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Header values come from user text (incident titles, names): a CR/LF would make
        # Django refuse the whole email (BadHeaderError), so every header is one clean line.
        self.to = single_line(self.to)
        self.subject = single_line(self.subject)
        self.attachments = [(single_line(n), body, t) for n, body, t in self.attachments]

    def send(self) -> None:
        headers = {single_line(k): single_line(v) for k, v in self.headers.items()}
        email = EmailMultiAlternatives(
            self.subject, self.text, to=[self.to], headers=headers, connection=self.connection
        )
        email.attach_alternative(self.html, "text/html")
        for name, content, mimetype in self.attachments:
            email.attach(name, content, mimetype)
        email.send()


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def single_line(text: str, limit: int = 900) -> str:
    """Text fit for an email header: control characters (CR/LF included) become one space."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())[:limit]


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


BatchBuilder = Callable[[list[Dispatch]], dict[int, Message | None]]
_batch_builders: dict[str, BatchBuilder] = {}


def batch_builder(kind: str) -> Callable[[BatchBuilder], BatchBuilder]:
    """Register a function that renders many rows of `kind` at once, with a bounded number of
    queries: {dispatch pk: Message or None}. Optional: kinds without one are built row by row.
    Its answer for a row must be what the row's own builder says (both render at send time)."""

    def register(fn: BatchBuilder) -> BatchBuilder:
        known = _batch_builders.get(kind)
        if known is not None and _name(known) != _name(fn):
            raise ValueError(f"{kind!r} batches are already built by {_name(known)}")
        _batch_builders[kind] = fn
        return fn

    return register


def build_many(dispatches: list[Dispatch]) -> dict[int, Message | None | Exception]:
    """Render rows in groups per kind; a row whose rendering fails maps to its exception.

    A batch builder that raises is not trusted for any of its rows: they are rebuilt one by one,
    so one broken row costs its own email only.
    """
    built: dict[int, Message | None | Exception] = {}
    by_kind: dict[str, list[Dispatch]] = {}
    for dispatch in dispatches:
        by_kind.setdefault(dispatch.kind, []).append(dispatch)
    for kind, rows in by_kind.items():
        fn = _batch_builders.get(kind)
        if fn is not None and len(rows) > 1:
            try:
                with transaction.atomic():
                    found = fn(rows)
                built.update((d.pk, found.get(d.pk)) for d in rows)
                continue
            except Exception:  # noqa: BLE001 - fall back to row by row, logged per row below
                logger.warning("%s emails: building the batch failed", kind, exc_info=True)
        for dispatch in rows:
            try:
                with transaction.atomic():
                    built[dispatch.pk] = build(dispatch)
            except Exception as err:  # noqa: BLE001 - a rendering bug is retried, not lost
                logger.exception("%s email %s: rendering failed", dispatch.kind, dispatch.pk)
                built[dispatch.pk] = err
    return built


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
    already_settled: int = 0  # sent, or nothing left to say: never sent again
    failed_ids: list[int] = field(default_factory=list)  # given up: resend, never "sent"


def claim(keys: Iterable[Key], *, now=None) -> Claim:
    """Insert a ledger row per key unless one exists; return the rows still waiting to send.

    Rows left pending by an earlier, interrupted run are returned too, so they get sent.
    Bounded queries: one insert and one select per batch of keys, never one per key.
    """
    keys = list(dict.fromkeys(keys))
    created_at = now or timezone.now()
    # The claimer's task normally sends it at once; if that task is lost, the tick sends it
    # once this grace has passed (wall clock: `now` may be a planning time in the past).
    grace = timezone.now() + lease()
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
                    next_try_at=grace,
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
            elif state == Dispatch.State.FAILED:
                result.failed_ids.append(pk)
            else:
                result.already_settled += 1
    return result


# --- Sending ----------------------------------------------------------------------------------


class SendFailed(Exception):
    """This try failed for now (server down, 4xx, timeout): the row waits for its next try."""

    def __init__(self, error: str, *, unreachable: bool = False):
        super().__init__(error)
        self.unreachable = unreachable  # the server could not be reached at all


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: doubling from minutes up to a cap in hours."""
    first = settings.DEBRIEF_EMAIL_RETRY_SECONDS
    cap = settings.DEBRIEF_EMAIL_RETRY_MAX_SECONDS
    return timedelta(seconds=min(cap, first * 2 ** max(0, attempts - 1)))


def lease() -> timedelta:
    """How long a queued row waits for its task before the tick queues it again: long enough
    for a busy queue to drain (a shorter one only queues duplicates, which are harmless but
    slow the queue down further), short enough that a lost task costs minutes."""
    return max(retry_delay(1) * 5, timedelta(minutes=1))


def is_permanent(err: BaseException) -> bool:
    """Only what no retry can fix: the server refused the recipient (5xx), or the address is
    invalid. A refused connection, a timeout, any 4xx or a 5xx about the sender is retried."""
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in err.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    # Django refuses an address it cannot encode or parse with a ValueError.
    return isinstance(err, ValueError) and not isinstance(err, OSError)


def is_unreachable(err: BaseException) -> bool:
    """The mail server itself is out of reach: trying the next email now is pointless."""
    return isinstance(
        err,
        ConnectionError
        | TimeoutError
        | smtplib.SMTPConnectError
        | smtplib.SMTPServerDisconnected
        | smtplib.SMTPHeloError,
    ) or (isinstance(err, OSError) and not isinstance(err, smtplib.SMTPException))


def _headers(dispatch: Dispatch) -> dict[str, str]:
    # One stable Message-ID per ledger row: in the one case an email goes out twice (a crash
    # between the server's "250 OK" and our commit) mail clients and archives can fold them.
    host = urlsplit(settings.SITE_URL).hostname or "debrief.invalid"
    return {
        "Message-ID": f"<dispatch.{dispatch.pk}@{host}>",
        "X-Debrief-Email": dispatch.key_label,
    }


def send(
    dispatch_id: int, *, final_attempt: bool = False, attempt: int | None = None
) -> Message | None:
    """Send one claimed email at most once; returns the message sent, or None if nothing was.

    `attempt`: send only if the row has been tried exactly that many times (the tick's queued
    retry, which is then harmless if another worker already made it); without it, send a row
    that was never tried or whose next try is due. Raises SendFailed when this try failed and
    a retry will follow: the row stays pending with its attempts, error and `next_try_at`.
    `final_attempt`: the caller will not retry, so a failure marks the row failed at once.
    """
    error, permanent, unreachable = "", False, False
    now, smtp = timezone.now(), None
    with transaction.atomic():
        dispatch = (
            Dispatch.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "recipient__profile")
            .filter(pk=dispatch_id, state=Dispatch.State.PENDING)
            .first()
        )
        if dispatch is None:
            return None  # sent, settled for good, or being sent by another worker right now
        if attempt is not None and dispatch.attempts != attempt:
            return None  # that try was made already; the row has its own next one
        if attempt is None and dispatch.attempts and not dispatch.is_due(now):
            return None  # waiting out its backoff; the tick sends it when due
        dispatch.attempts += 1
        try:
            with transaction.atomic():
                message = build(dispatch)
        except Exception as err:  # noqa: BLE001 - a rendering bug is retried, not lost
            logger.exception("%s email %s: rendering failed", dispatch.kind, dispatch.pk)
            message, error = None, f"Rendering failed: {type(err).__name__}: {err}"[:2000]
        if message is None and not error:
            dispatch.state = Dispatch.State.SKIPPED
        elif message is not None:
            message.headers = {**_headers(dispatch), **message.headers}
            if not message.to:
                error, permanent = "The recipient has no email address.", True
            else:
                smtp = get_connection()
                error, permanent, unreachable = _deliver(dispatch, message, smtp)
        if error:
            _fail(dispatch, error, permanent or final_attempt, now)
        if dispatch.state != Dispatch.State.SENT:
            dispatch.save()
    if smtp is not None:
        _close(smtp)  # QUIT after the commit: the server's answer to it changes nothing
    if error:
        _log_failure(dispatch)  # its error is `error`, set above
        if dispatch.state != Dispatch.State.FAILED:
            raise SendFailed(error, unreachable=unreachable)
        return None
    return message


def _deliver(dispatch: Dispatch, message: Message, smtp) -> tuple[str, bool, bool]:
    """Mark the row sent, then hand the email to the server: (error, permanent, unreachable).

    Everything but the COMMIT is done by the time the server answers "250", so a crash can
    repeat an email only in that last instant; a refusal rolls the marking back.
    """
    savepoint = transaction.savepoint()
    dispatch.state, dispatch.sent_at = Dispatch.State.SENT, timezone.now()
    dispatch.item_count = message.item_count
    dispatch.error, dispatch.next_try_at = "", None
    dispatch.save()
    _record_delivery(dispatch, message)
    try:
        smtp.open()
        message.connection = smtp
        message.send()
    except Exception as err:  # noqa: BLE001 - any transport error is recorded, not lost
        transaction.savepoint_rollback(savepoint)
        dispatch.state, dispatch.sent_at, dispatch.item_count = Dispatch.State.PENDING, None, 0
        return f"{type(err).__name__}: {err}"[:2000], is_permanent(err), is_unreachable(err)
    transaction.savepoint_commit(savepoint)
    return "", False, False


def _close(smtp) -> None:
    try:
        smtp.close()
    except Exception:  # noqa: BLE001 - the email is delivered and recorded already
        logger.debug("closing the SMTP connection failed", exc_info=True)


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


# --- Retrying ---------------------------------------------------------------------------------


def lease_due(*, limit: int = 2000) -> list[tuple[int, int]]:
    """The tick's batch: due pending rows as (id, attempts), each pushed back by a lease so the
    next tick does not queue it again while its task waits (a lost task is queued again)."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Dispatch.objects.due(now)
            .select_for_update(skip_locked=True)
            .order_by("next_try_at", "pk")
            .values_list("pk", "attempts")[:limit]
        )
        Dispatch.objects.filter(pk__in=[pk for pk, _ in rows]).update(next_try_at=now + lease())
    return rows


def retry_now(rows: models.QuerySet | None = None) -> list[int]:
    """Resend now: failed rows, and pending ones waiting out a backoff, become due this moment.

    The same ledger rows are sent again (never a second row), so a resend is still at most
    one delivered email per key.
    """
    rows = Dispatch.objects.all() if rows is None else rows
    ids = list(
        rows.filter(state__in=[Dispatch.State.PENDING, Dispatch.State.FAILED]).values_list(
            "pk", flat=True
        )
    )
    Dispatch.objects.filter(
        pk__in=ids, state__in=[Dispatch.State.PENDING, Dispatch.State.FAILED]
    ).update(state=Dispatch.State.PENDING, next_try_at=timezone.now())
    return ids


@dataclass
class Outcome:
    """What sending a batch inline (a command, not a worker) did."""

    sent: list[Message] = field(default_factory=list)
    retrying: int = 0  # failed for now, next try scheduled
    failed: int = 0  # given up on: refused for good or out of attempts
    skipped: int = 0  # nothing left to say
    not_tried: int = 0  # left for the next tick: the mail server was unreachable
    unreachable: bool = False  # the batch stopped because the mail server was out of reach


# Emails per transaction and mail connection. A process killed mid-batch rolls the whole batch
# back to pending, so the emails the server had accepted in it go out again (with the same
# Message-ID): the batch trades that window for one connection and a few queries per batch.
SEND_BATCH = 200
_MARKED = ["state", "attempts", "sent_at", "item_count", "error", "next_try_at"]


def send_inline(ids: Iterable[int]) -> Outcome:
    """Send these rows in this process, in batches; stop trying once the mail server is
    unreachable (the rest stay pending and due, for the tick or the next run)."""
    outcome, ids = Outcome(), list(ids)
    for start in range(0, len(ids), SEND_BATCH):
        done = send_batch(ids[start : start + SEND_BATCH])
        outcome.sent += done.sent
        outcome.retrying += done.retrying
        outcome.not_tried += done.not_tried
        if done.unreachable:
            outcome.not_tried += max(0, len(ids) - start - SEND_BATCH)
            logger.warning(
                "mail server unreachable: %s email(s) left for the next try", outcome.not_tried
            )
            break
    states = Dispatch.objects.filter(pk__in=ids).values_list("state", flat=True)
    outcome.failed = sum(state == Dispatch.State.FAILED for state in states)
    outcome.skipped = sum(state == Dispatch.State.SKIPPED for state in states)
    return outcome


def send_batch(ids: list[int]) -> Outcome:
    """Send claimed rows over one mail connection, each at most once, marking them in bulk.

    The rows are locked (skip_locked: a parallel sweep sending them skips them here), built
    together (`build_many`), marked sent in one UPDATE before the server answers, then sent one
    by one. A message the server refuses is put back with its error and next try (or failed, as
    in `send`); when the server becomes unreachable the rest of the batch is put back untried.
    Queries per batch are constant whatever its size.
    """
    outcome, now, smtp = Outcome(), timezone.now(), None
    failures: list[Dispatch] = []  # tried and failed, logged after the commit
    with transaction.atomic():
        rows = [
            d
            for d in Dispatch.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "recipient__profile")
            .filter(pk__in=ids, state=Dispatch.State.PENDING)
            .order_by("pk")
            # As in `send`: a row waiting out its backoff is the tick's, once due.
            if not (d.attempts and not d.is_due(now))
        ]
        built = build_many(rows)
        ready: list[tuple[Dispatch, Message, tuple]] = []
        settled: list[Dispatch] = []
        for dispatch in rows:
            before = (dispatch.attempts, dispatch.error, dispatch.next_try_at)
            dispatch.attempts += 1
            message = built.get(dispatch.pk)
            if isinstance(message, Exception):
                error = f"Rendering failed: {type(message).__name__}: {message}"[:2000]
                _fail(dispatch, error, permanent=False, now=now)
                failures.append(dispatch)
            elif message is None:
                dispatch.state = Dispatch.State.SKIPPED
            elif not message.to:
                _fail(dispatch, "The recipient has no email address.", permanent=True, now=now)
                failures.append(dispatch)
            else:
                message.headers = {**_headers(dispatch), **message.headers}
                dispatch.state, dispatch.sent_at = Dispatch.State.SENT, now
                dispatch.item_count = message.item_count
                dispatch.error, dispatch.next_try_at = "", None
                ready.append((dispatch, message, before))
                continue
            settled.append(dispatch)
        # Marked sent before the server answers: a crash now rolls the whole batch back.
        _mark_sent([d for d, _, _ in ready], now)
        put_back: list[Dispatch] = []
        for index, (dispatch, message, _) in enumerate(ready):
            try:
                if smtp is None:
                    smtp = get_connection()
                    smtp.open()
                message.connection = smtp
                message.send()
            except Exception as err:  # noqa: BLE001 - any transport error is recorded, not lost
                dispatch.sent_at, dispatch.item_count = None, 0
                dispatch.state = Dispatch.State.PENDING
                _fail(dispatch, f"{type(err).__name__}: {err}"[:2000], is_permanent(err), now)
                put_back.append(dispatch)
                failures.append(dispatch)
                if is_unreachable(err):
                    for untried, _, (attempts, error, next_try_at) in ready[index + 1 :]:
                        untried.state, untried.sent_at, untried.item_count = (
                            Dispatch.State.PENDING,
                            None,
                            0,
                        )
                        untried.attempts, untried.error = attempts, error
                        untried.next_try_at = next_try_at
                        put_back.append(untried)
                    outcome.unreachable = True
                    outcome.not_tried = len(ready) - index - 1
                    break
                continue
            _record_delivery(dispatch, message)
            outcome.sent.append(message)
        Dispatch.objects.bulk_update(settled + put_back, _MARKED)
    if smtp is not None:
        _close(smtp)  # QUIT after the commit: the server's answer to it changes nothing
    for dispatch in failures:
        _log_failure(dispatch)
        outcome.retrying += dispatch.state == Dispatch.State.PENDING
    return outcome


def _mark_sent(rows: list[Dispatch], now) -> None:
    """One UPDATE for the batch. Only item_count differs between rows, and it takes few
    values: a CASE per distinct count, not bulk_update's CASE per row and field (seconds of
    expression building per thousand rows)."""
    if not rows:
        return
    by_count: dict[int, list[int]] = {}
    for dispatch in rows:
        by_count.setdefault(dispatch.item_count, []).append(dispatch.pk)
    Dispatch.objects.filter(pk__in=[d.pk for d in rows]).update(
        state=Dispatch.State.SENT,
        sent_at=now,
        error="",
        next_try_at=None,
        attempts=models.F("attempts") + 1,  # the rows are locked: the +1 done in memory too
        item_count=models.Case(
            *(models.When(pk__in=pks, then=models.Value(n)) for n, pks in by_count.items()),
            default=models.Value(0),
        ),
    )


def _fail(dispatch: Dispatch, error: str, permanent: bool, now) -> None:
    """Record a failed try on the row: failed for good, or pending until its next try."""
    dispatch.error = error
    if permanent or dispatch.attempts >= settings.DEBRIEF_EMAIL_MAX_ATTEMPTS:
        dispatch.state, dispatch.next_try_at = Dispatch.State.FAILED, None
    else:
        dispatch.next_try_at = now + retry_delay(dispatch.attempts)


def _log_failure(dispatch: Dispatch) -> None:
    failed = dispatch.state == Dispatch.State.FAILED
    logger.log(
        logging.ERROR if failed else logging.WARNING,
        "%s email %s to %s attempt %s %s: %s",
        dispatch.kind,
        dispatch.period or dispatch.scope,
        dispatch.recipient.email,
        dispatch.attempts,
        "failed for good" if failed else f"failed, next try at {dispatch.next_try_at:%H:%M:%S}",
        dispatch.error,
    )
