from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from incidents.models import visible_incident_q
from postmortems.models import Postmortem

User = settings.AUTH_USER_MODEL


class ActionItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(visible_incident_q(user, prefix="postmortem__incident__"))

    def open(self):
        return self.filter(status__in=ActionItem.OPEN_STATUSES)

    def overdue(self, today=None):
        return self.open().filter(due_on__lt=today or timezone.localdate())

    def for_list(self):
        return self.select_related(
            "owner", "postmortem__incident", "postmortem__incident__team"
        ).order_by("due_on", "priority", "pk")


class ActionItem(models.Model):
    class Priority(models.IntegerChoices):
        P0 = 0, "P0 · today"
        P1 = 1, "P1 · this sprint"
        P2 = 2, "P2 · this quarter"
        P3 = 3, "P3 · backlog"

    class Leverage(models.TextChoices):
        PREVENTION = "prevention", "Prevention"
        DETECTION = "detection", "Detection"
        MITIGATION = "mitigation", "Mitigation"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        BLOCKED = "blocked", "Blocked"
        DONE = "done", "Done"
        WONT_DO = "wont_do", "Won't do"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.BLOCKED)
    STATUSES_NEEDING_REASON = (Status.BLOCKED, Status.WONT_DO)

    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.CASCADE, related_name="action_items"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="action_items")
    due_on = models.DateField()
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, default=Priority.P2, db_index=True
    )
    leverage = models.CharField(max_length=12, choices=Leverage.choices, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    reason = models.TextField(blank=True, help_text="Why it is blocked or will not be done.")
    ticket_key = models.CharField(max_length=100, blank=True)
    ticket_url = models.URLField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "priority", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "due_on"]),
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["postmortem", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["blocked", "wont_do"]) | ~Q(reason=""),
                name="actionitem_reason_when_blocked_or_dropped",
            ),
            models.CheckConstraint(
                condition=Q(status="done", completed_at__isnull=False)
                | (~Q(status="done") & Q(completed_at__isnull=True)),
                name="actionitem_completed_at_iff_done",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("actions:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_overdue(self, today=None) -> bool:
        return self.is_open and self.due_on < (today or timezone.localdate())

    @property
    def priority_code(self) -> str:
        return f"P{self.priority}"

    def clean(self):
        if self.status in self.STATUSES_NEEDING_REASON and not self.reason.strip():
            raise ValidationError(
                {"reason": f"Say why the item is {self.get_status_display().lower()}."}
            )
