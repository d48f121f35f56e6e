from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from incidents.models import Incident, visible_incident_q

User = settings.AUTH_USER_MODEL


class PostmortemQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(visible_incident_q(user, prefix="incident__"))


class Postmortem(models.Model):
    """The review document of one incident. Sections are Markdown."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"

    # (field, heading) in the order the practice reads them; timeline, factors, action items
    # and related incidents are rows of their own.
    SECTIONS = [
        ("summary", "Summary"),
        ("impact", "Impact"),
        ("root_cause", "Root cause"),
        ("detection", "Why we didn't catch it sooner"),
        ("went_well", "What went well"),
        ("went_poorly", "What went poorly"),
        ("lessons", "Lessons learned"),
    ]

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="postmortem")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="authored_postmortems"
    )
    reviewers = models.ManyToManyField(User, related_name="reviewing_postmortems", blank=True)

    summary = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    detection = models.TextField("Why we didn't catch it sooner", blank=True)
    went_well = models.TextField("What went well", blank=True)
    went_poorly = models.TextField("What went poorly", blank=True)
    lessons = models.TextField("Lessons learned", blank=True)

    version = models.PositiveIntegerField(default=1, help_text="Bumped on every saved change.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = PostmortemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "published_at"])]

    def __str__(self) -> str:
        return f"Postmortem for {self.incident.reference}"

    def get_absolute_url(self) -> str:
        return reverse("postmortems:detail", args=[self.incident.number])


class ContributingFactor(models.Model):
    class Category(models.TextChoices):
        TECHNICAL = "technical", "Technical"
        PROCESS = "process", "Process"
        ALERTING = "alerting", "Alerting"
        TESTING = "testing", "Testing"
        DOCUMENTATION = "documentation", "Documentation"
        OTHER = "other", "Other"

    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.CASCADE, related_name="factors"
    )
    category = models.CharField(max_length=16, choices=Category.choices, db_index=True)
    description = models.TextField()
    # A "five whys" chain; may branch: [{"text": "...", "children": [...]}, ...]
    whys = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.description[:60]}"
