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

from outbox import ledger, queue
from outbox.models import Dispatch

from . import digests, emails, reminders
from .metrics import Period


@dataclass
class Summary:
    emails_sent: int = 0
    recipients: list[str] = field(default_factory=list)
    items: int = 0
    skipped_already_sent: int = 0
    nothing_to_send: int = 0
    failed: int = 0
    queued: int = 0
    dry_run: bool = False
    previews: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        if not self.dry_run:
            data.pop("previews")
        return data


def _send(claim: ledger.Claim, summary: Summary, *, enqueue: bool) -> None:
    """Send what was claimed: after the commit through Celery, or now in this process."""
    summary.skipped_already_sent += claim.already_settled
    if enqueue:
        summary.queued += len(claim.pending_ids)
        queue.send_after_commit(claim.pending_ids)
        return
    for pk in claim.pending_ids:
        message = ledger.send(pk, final_attempt=True)
        if message is not None:
            summary.emails_sent += 1
            summary.recipients.append(message.to)
            summary.items += message.item_count
    settled = Dispatch.objects.filter(pk__in=claim.pending_ids).values_list("state", flat=True)
    summary.nothing_to_send += sum(state == Dispatch.State.SKIPPED for state in settled)
    summary.failed += sum(state == Dispatch.State.FAILED for state in settled)


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


def run_reminders(
    now: datetime | None = None, *, dry_run: bool = False, enqueue: bool = False
) -> Summary:
    """Owner reminders and weekly manager notes due at `now`, each at most once."""
    now = now or timezone.now()
    plans = reminders.plan_reminders(now) + reminders.plan_manager_notes(now)
    summary = Summary(dry_run=dry_run)
    if dry_run:
        _dry_run_reminders(plans, now, summary)
        return summary
    with transaction.atomic():
        claim = ledger.claim([p.key for p in plans], now=now)
        if enqueue:
            _send(claim, summary, enqueue=True)
    if not enqueue:
        _send(claim, summary, enqueue=False)
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
) -> Summary:
    """The monthly digests for `period` (default: the month before `today`), each once."""
    period = period or Period.previous_month(today or timezone.now().date())
    summary = Summary(dry_run=dry_run)
    for scope in digests.scopes(team):
        if dry_run:
            _dry_run_digest(period, scope, summary)
            continue
        with transaction.atomic():
            _, claim = digests.build_and_claim(period, scope)
            if enqueue:
                _send(claim, summary, enqueue=True)
        if not enqueue:
            _send(claim, summary, enqueue=False)
    return summary
