"""The periodic jobs, shared by beat (tasks.py) and cron (the management commands).

Each reads straight through: plan (who is due, reminders.py / digests.py) → claim (one ledger
row per email, in one transaction) → send: through Celery after the commit (`enqueue=True`,
beat) or inline in this process (`enqueue=False`, commands). Rendering happens at send time,
by the builders in emails.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from outbox import heartbeat, ledger, queue
from outbox.models import Dispatch

from . import digests, emails, reminders
from .metrics import Period


@dataclass
class Summary:
    emails_sent: int = 0
    recipients: list[str] = field(default_factory=list)
    items: int = 0
    skipped_already_sent: int = 0  # delivered (or nothing to say) earlier: never sent again
    nothing_to_send: int = 0
    failed: int = 0  # given up on (refused for good, or out of tries): see --retry-failed
    retrying: int = 0  # failed for now; tried again by the next tick or run
    retried_sent: int = 0  # earlier failures (any kind of email) delivered by this run
    queued: int = 0
    dry_run: bool = False
    previews: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        if not self.dry_run:
            data.pop("previews")
        return data


def _send(claim: ledger.Claim, summary: Summary, *, enqueue: bool) -> None:
    """Send what was claimed: after the commit through Celery, or now in this process.

    A row that failed earlier is reported as failed, never as already sent.
    """
    summary.skipped_already_sent += claim.already_settled
    summary.failed += len(claim.failed_ids)
    if enqueue:
        summary.queued += len(claim.pending_ids)
        queue.send_after_commit(claim.pending_ids)
        return
    _count(ledger.send_inline(claim.pending_ids), summary)


def _count(outcome: ledger.Outcome, summary: Summary) -> None:
    for message in outcome.sent:
        summary.emails_sent += 1
        summary.recipients.append(message.to)
        summary.items += message.item_count
    summary.nothing_to_send += outcome.skipped
    summary.failed += outcome.failed
    summary.retrying += outcome.retrying + outcome.not_tried


def _resend_failed(claim: ledger.Claim) -> None:
    """This run's keys that failed earlier are sent again with it (the same rows)."""
    ledger.retry_now(Dispatch.objects.filter(pk__in=claim.failed_ids))
    claim.pending_ids += claim.failed_ids
    claim.failed_ids = []


def retry_due(summary: Summary, *, kinds=None, retry_failed: bool = False) -> None:
    """What the tick does, for cron: send every pending email whose next try is due (any kind:
    invitations and meeting emails too). `retry_failed`: first make this job's failed emails,
    and those waiting out a backoff, due now; each is the same ledger row, sent at most once."""
    if retry_failed:
        rows = Dispatch.objects.all()
        if kinds:
            rows = rows.filter(kind__in=kinds)
        ledger.retry_now(rows)
    due = list(Dispatch.objects.due().order_by("next_try_at", "pk").values_list("pk", flat=True))
    outcome = ledger.send_inline(due)
    summary.retried_sent += len(outcome.sent)
    summary.failed += outcome.failed
    summary.retrying += outcome.retrying + outcome.not_tried


def _preview(message: ledger.Message | None, summary: Summary) -> None:
    if message is None:
        return
    summary.emails_sent += 1
    summary.recipients.append(message.to)
    summary.items += message.item_count
    summary.previews.append(f"To: {message.to}\nSubject: {message.subject}\n\n{message.text}")


def _dry_run_reminders(plans: list[reminders.Plan], now: datetime, summary: Summary) -> None:
    settled = set(
        Dispatch.objects.filter(
            kind__in={p.key.kind for p in plans},
            period__in={p.key.period for p in plans},
            recipient_id__in={p.key.recipient_id for p in plans},
        ).values_list("kind", "recipient_id", "period", "scope")
    )
    for plan in plans:
        key = plan.key
        if (key.kind, key.recipient_id, key.period, key.scope) in settled:
            summary.skipped_already_sent += 1
            continue
        fake = Dispatch(
            kind=key.kind, recipient_id=key.recipient_id, period=key.period, created_at=now
        )
        _preview(ledger.build(fake), summary)


REMINDER_KINDS = (Dispatch.Kind.REMINDER, Dispatch.Kind.MANAGER_NOTE)


def run_reminders(
    now: datetime | None = None,
    *,
    dry_run: bool = False,
    enqueue: bool = False,
    retry_failed: bool = False,
) -> Summary:
    """Owner reminders and weekly manager notes due at `now`, each at most once.

    Inline (a command under cron) it also sends every email whose retry is due, as the tick
    does under beat; `retry_failed` resends this job's failed emails now.
    """
    now = now or timezone.now()
    plans = reminders.plan_reminders(now) + reminders.plan_manager_notes(now)
    summary = Summary(dry_run=dry_run)
    if dry_run:
        _dry_run_reminders(plans, now, summary)
        return summary
    heartbeat.record(heartbeat.SWEEP)
    with transaction.atomic():
        claim = ledger.claim([p.key for p in plans], now=now)
        if enqueue:
            _send(claim, summary, enqueue=True)
    if not enqueue:
        if retry_failed:
            _resend_failed(claim)
        _send(claim, summary, enqueue=False)
        retry_due(summary, kinds=REMINDER_KINDS, retry_failed=retry_failed)
    return summary


def _dry_run_digest(period: Period, scope, summary: Summary) -> None:
    existing = Dispatch.objects.filter(
        kind=Dispatch.Kind.DIGEST, scope=scope.key, period=period.label
    )
    if existing.exists():
        summary.skipped_already_sent += existing.count()
        return
    figures = digests.compute_figures(period, scope)
    addresses = list(
        digests.User.objects.filter(pk__in=digests.recipients(scope.team))
        .order_by("email")
        .values_list("email", flat=True)
    )
    if addresses:
        title = f"{scope.label} review"
        message = emails.digest_message(figures, ", ".join(addresses), title, "(dry run)")
        _preview(message, summary)
        summary.recipients[-1:] = addresses
        summary.emails_sent += len(addresses) - 1


def run_digests(
    period: Period | None = None,
    *,
    team: str | None = None,
    today=None,
    dry_run: bool = False,
    enqueue: bool = False,
    retry_failed: bool = False,
) -> Summary:
    """The monthly digests for `period` (default: the month before `today`), each once.

    Inline it also sends due retries (any kind); `retry_failed` resends failed digests now.
    """
    period = period or Period.previous_month(today or timezone.now().date())
    summary = Summary(dry_run=dry_run)
    if not dry_run:
        heartbeat.record(heartbeat.SWEEP)
    for scope in digests.scopes(team):
        if dry_run:
            _dry_run_digest(period, scope, summary)
            continue
        with transaction.atomic():
            _, claim = digests.build_and_claim(period, scope)
            if enqueue:
                _send(claim, summary, enqueue=True)
        if not enqueue:
            if retry_failed:
                _resend_failed(claim)
            _send(claim, summary, enqueue=False)
    if not enqueue and not dry_run:
        retry_due(summary, kinds=(Dispatch.Kind.DIGEST,), retry_failed=retry_failed)
    return summary
