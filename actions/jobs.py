"""The periodic jobs, shared by beat (tasks.py) and cron (the management commands).

A tick claims ledger rows in one transaction and then sends: through Celery after the commit
(`enqueue=True`, beat), or inline in this process (`enqueue=False`, commands).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from . import digests, ledger, reminders
from .metrics import Period
from .models import Dispatch


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


def _deliver_inline(ids: list[int], summary: Summary) -> None:
    for pk in ids:
        message = ledger.send(pk, reminders.build, final_attempt=True)
        if message is not None:
            summary.emails_sent += 1
            summary.recipients.append(message.to)
            summary.items += message.item_count
    settled = Dispatch.objects.filter(pk__in=ids).values_list("state", flat=True)
    summary.nothing_to_send += sum(state == Dispatch.State.SKIPPED for state in settled)
    summary.failed += sum(state == Dispatch.State.FAILED for state in settled)


def _enqueue(ids: list[int], summary: Summary) -> None:
    from .tasks import send_email

    summary.queued += len(ids)
    transaction.on_commit(lambda: [send_email.delay(pk) for pk in ids])


def _preview(message: ledger.Message | None, summary: Summary) -> None:
    if message is None:
        return
    summary.emails_sent += 1
    summary.recipients.append(message.to)
    summary.items += message.item_count
    summary.previews.append(f"To: {message.to}\nSubject: {message.subject}\n\n{message.text}")


def run_reminders(
    now: datetime | None = None, *, dry_run: bool = False, enqueue: bool = False
) -> Summary:
    """Owner reminders and weekly manager notes due at `now`, each at most once."""
    now = now or timezone.now()
    plans = reminders.plan_reminders(now) + reminders.plan_manager_notes(now)
    summary = Summary(dry_run=dry_run)
    if dry_run:
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
            _preview(reminders.build(fake), summary)
        return summary
    with transaction.atomic():
        claim = ledger.claim([p.key for p in plans], now=now)
        summary.skipped_already_sent = claim.already_settled
        if enqueue:
            _enqueue(claim.pending_ids, summary)
    if not enqueue:
        _deliver_inline(claim.pending_ids, summary)
    return summary


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
            existing = Dispatch.objects.filter(
                kind=Dispatch.Kind.DIGEST, scope=scope.key, period=period.label
            )
            if existing.exists():
                summary.skipped_already_sent += existing.count()
                continue
            figures = digests.compute_figures(period, scope)
            emails = list(
                digests.User.objects.filter(pk__in=digests.recipients(scope.team))
                .order_by("email")
                .values_list("email", flat=True)
            )
            if emails:
                title = f"{scope.label} review"
                message = digests.render_digest(figures, ", ".join(emails), title, "(dry run)")
                _preview(message, summary)
                summary.recipients[-1:] = emails
                summary.emails_sent += len(emails) - 1
            continue
        with transaction.atomic():
            _, claim = digests.build_and_claim(period, scope)
            summary.skipped_already_sent += claim.already_settled
            if enqueue:
                _enqueue(claim.pending_ids, summary)
        if not enqueue:
            _deliver_inline(claim.pending_ids, summary)
    return summary


def resend_stuck(minutes: int = 30) -> int:
    """Re-enqueue ledger rows left pending (a lost task); sending them twice is impossible."""
    from .tasks import send_email

    ids = ledger.pending_since(minutes)
    for pk in ids:
        send_email.delay(pk)
    return len(ids)
