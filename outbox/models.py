"""The ledger of outgoing emails: one row per email that should go out, ever.

This is the bottom app: it knows Django and auth, never a domain app. Domain apps describe
their emails by kind and register a builder for each (see `ledger.builder`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class DispatchQuerySet(models.QuerySet):
    def due(self, now=None):
        """Pending rows whose next try has come (the tick sends these)."""
        now = now or timezone.now()
        return self.filter(state=Dispatch.State.PENDING).filter(
            models.Q(next_try_at__lte=now) | models.Q(next_try_at__isnull=True)
        )

    def undelivered(self):
        """What the delivery page lists: still trying, or given up on."""
        return self.filter(state__in=[Dispatch.State.PENDING, Dispatch.State.FAILED])


class Dispatch(models.Model):
    """One email: claimed once by a unique insert, then sent, and its outcome recorded here.

    The key is (kind, recipient, scope, period). `scope` says what the email is about:
    "" (a reminder), "org" or "team:<slug>" (a digest), or "<model>:<pk>" for one row
    (`ledger.Key.about`), e.g. "reviewmeeting:12". `period` is the recipient's local day
    (2026-03-02), ISO week (2026-W10), month (2026-03), or "" for a one-off email.
    """

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Owner reminder"
        MANAGER_NOTE = "manager_note", "Weekly note to managers"
        DIGEST = "digest", "Monthly digest"
        REVIEW_INVITATION = "review_invitation", "Review invitation"
        REVIEW_REOPENED = "review_reopened", "Postmortem reopened"
        MEETING_INVITE = "meeting_invite", "Review meeting invite"
        MEETING_SUMMARY = "meeting_summary", "Review meeting summary"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Nothing left to send"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dispatches"
    )
    scope = models.CharField(max_length=120, blank=True, default="")
    period = models.CharField(max_length=10, blank=True, default="")
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a pending row is next due: a failed send waits here (backoff); a fresh claim gets a
    # short grace for its queued task before the outbox tick sends it itself.
    next_try_at = models.DateTimeField(null=True, blank=True)
    # The last error, kept on success-less rows only; "failed" rows say why here.
    error = models.TextField(blank=True)
    item_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = DispatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "recipient", "scope", "period"], name="outbox_dispatch_once"
            )
        ]
        indexes = [
            models.Index(fields=["state", "created_at"], name="dispatch_state_created"),
            # The outbox tick's question: which pending rows are due now.
            models.Index(fields=["state", "next_try_at"], name="dispatch_state_next_try"),
        ]
        verbose_name_plural = "dispatches"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient_id} for {self.period or self.scope}"

    @property
    def key_label(self) -> str:
        """The ledger key in one line (also the X-Debrief-Email header of the email)."""
        return f"{self.kind}/{self.recipient_id}/{self.scope or '-'}/{self.period or '-'}"

    def is_due(self, now=None) -> bool:
        return self.next_try_at is None or self.next_try_at <= (now or timezone.now())

    def about(self, model: type[models.Model]) -> models.QuerySet:
        """The row this email is about (scope "<model>:<pk>"), as a queryset of `model`."""
        name, _, pk = self.scope.partition(":")
        if name != model._meta.model_name or not pk.isdigit():
            return model._default_manager.none()
        return model._default_manager.filter(pk=int(pk))


class Heartbeat(models.Model):
    """When a periodic job last ran ("beat": any beat-driven task; "sweep": a reminder or
    digest sweep, from beat or cron). One row per name, overwritten: /healthz reads it by key."""

    name = models.CharField(max_length=20, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
