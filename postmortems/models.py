from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse

from incidents import permissions
from incidents.bounds import check_day, check_moment
from incidents.models import Incident, hidden_incidents, visible_incident_q

User = settings.AUTH_USER_MODEL

PUBLISH_WITHIN = timedelta(days=7)


class PostmortemQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(visible_incident_q(user, prefix="incident__"))

    def listed_for(self, user):
        """`visible_to` for the capped count of the long list: the same rows, filtered without
        joining every postmortem to its incident where the rule allows (hidden_incidents). The
        planner guesses NOT IN keeps half the rows, so the page's rows still use `visible_to`."""
        hidden = hidden_incidents(user)
        if hidden is None:
            return self.visible_to(user)
        return self.exclude(incident__in=hidden)

    def for_list(self):
        """What a row of the postmortem list shows, and the sorts' columns; no Markdown, no
        unused dates or people's other fields."""
        return self.select_related("incident__team", "author").only(
            "status",
            "published_at",
            "incident__number",
            "incident__severity",
            "incident__title",
            "incident__started_at",
            "incident__team__name",
            "author__username",
            "author__first_name",
            "author__last_name",
        )


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
    SECTION_FIELDS = [field for field, _ in SECTIONS]
    SECTION_LABELS = dict(SECTIONS)
    # Shown as placeholders only: a prompt saved as content would read as written text.
    PROMPTS = {
        "summary": "A few sentences a stranger understands: what broke, for how long, who was "
        "affected, how it was resolved.",
        "impact": "Numbers, not adjectives: failed requests, users affected, revenue estimate, "
        "regions, SLO / error budget burned.",
        "root_cause": "The mechanism (the change), not the symptom. What made one action able "
        "to have this impact?",
        "detection": "How long did detection take, and what would have caught it sooner?",
        "went_well": "What helped? Name it so it keeps happening.",
        "went_poorly": "What slowed the response or made it worse? No softening.",
        "lessons": "Two or three sentences someone keeps even if they read nothing else.",
    }

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="postmortem")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="authored_postmortems"
    )
    co_authors = models.ManyToManyField(User, related_name="co_authored_postmortems", blank=True)
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
    published_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    publish_override_reason = models.TextField(
        blank=True,
        max_length=2_000,
        help_text="Why it was published although requirements were missing.",
    )

    objects = PostmortemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "published_at"]),
            # The list's "Published" column sort (postmortems/views/documents.py).
            models.Index(fields=["published_at", "id"], name="postmortem_sort_published"),
            # "Is it published?" per incident, from the index alone: the dashboard's count of
            # postmortems owed tests every required incident.
            models.Index(
                fields=["incident"],
                condition=models.Q(status="published"),
                name="postmortem_published",
            ),
            # A period's published postmortems from the index alone: a team's cycle times and
            # prevention coverage scan the organisation's for the period, then keep the
            # team's (22 -> 8 ms at scale 5, where each row was fetched to check its status).
            models.Index(
                fields=["published_at"],
                include=["incident", "id"],
                condition=models.Q(status="published"),
                name="postmortem_published_period",
            ),
        ]

    def __str__(self) -> str:
        return f"Postmortem for {self.incident.reference}"

    def get_absolute_url(self) -> str:
        return reverse("postmortems:detail", args=[self.incident.number])

    @property
    def owed_by(self):
        """The practice publishes within a week of resolution."""
        resolved = self.incident.resolved_at
        return resolved + PUBLISH_WITHIN if resolved else None

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def knowing_co_authors(self, co_authors) -> None:
        """Keep the co-authors a page has read, so author_ids() does not read them again."""
        self._author_ids = {u.pk for u in co_authors} | ({self.author_id} - {None})

    def author_ids(self) -> set[int]:
        """The lead author and the co-authors (reads the co-authors once per object)."""
        cached = getattr(self, "_author_ids", None)
        if cached is None:
            cached = set(self.co_authors.values_list("pk", flat=True))
            if self.author_id:
                cached.add(self.author_id)
            self._author_ids = cached
        return cached

    def section_text(self, section: str) -> str:
        if section not in self.SECTION_LABELS:
            raise KeyError(section)
        return getattr(self, section)

    def latest_numbers(self) -> dict[str, int]:
        """The newest revision number of each section (0 when never saved here)."""
        numbers = dict.fromkeys(self.SECTION_FIELDS, 0)
        rows = (
            self.revisions.values("section")
            .annotate(top=models.Max("number"))
            .values_list("section", "top")
        )
        numbers.update(dict(rows))
        return numbers


class ContributingFactor(models.Model):
    class Category(models.TextChoices):
        TECHNICAL = "technical", "Technical"
        PROCESS = "process", "Process"
        ALERTING = "alerting", "Alerting"
        TESTING = "testing", "Testing"
        DOCUMENTATION = "documentation", "Documentation"
        OTHER = "other", "Other"

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="factors")
    category = models.CharField(max_length=16, choices=Category.choices, db_index=True)
    description = models.TextField(max_length=5_000)
    # A "five whys" chain; may branch: [{"text": "...", "children": [...]}, ...]
    whys = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped by every edit (postmortems.services.update_factor), so edits that crossed are refused.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.description[:60]}"


class SectionRevision(models.Model):
    """One saved version of one section; numbers count up per section from 1."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="revisions")
    section = models.CharField(max_length=16, choices=Postmortem.SECTIONS)
    number = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    restored_from = models.PositiveIntegerField(
        null=True, blank=True, help_text="The revision number this one brought back."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The database, not a read-then-write check, decides which of two saves on the
            # same base wins: the second insert of the same number fails.
            models.UniqueConstraint(
                fields=["postmortem", "section", "number"], name="one_revision_number_per_section"
            )
        ]

    def __str__(self) -> str:
        return f"{self.section} r{self.number}"

    @property
    def label(self) -> str:
        return Postmortem.SECTION_LABELS[self.section]


class CheckedText(models.Model):
    """The wording-check findings for one text, computed once and read on every render.

    Keyed by a digest of the text, the rules and the incident's service names, so a changed
    rule or service misses and is computed again, and an unchanged section is never checked
    twice. (postmortems/checks.py::stored_findings)
    """

    digest = models.CharField(max_length=64, unique=True)
    findings = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.digest[:12]}: {len(self.findings)} finding(s)"


class RenderedMarkdown(models.Model):
    """Sanitised HTML of one large Markdown text, rendered once (postmortems/markdown.py)."""

    digest = models.CharField(max_length=64, unique=True)
    html = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.digest[:12]


class Approval(models.Model):
    """A reviewer's approval of the document exactly as it stood: the revision of each section."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="approvals")
    reviewer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    revisions = models.JSONField(default=dict, help_text="{section: revision number approved}")
    version = models.PositiveIntegerField(help_text="The document version approved.")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Approval by {self.reviewer} of v{self.version}"


class ReviewComment(models.Model):
    GENERAL = "general"

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="comments")
    section = models.CharField(
        max_length=16, choices=[(GENERAL, "Whole document"), *Postmortem.SECTIONS]
    )
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField()
    # A reviewer's "request changes" withdraws their earlier approval (postmortems/review.py).
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COMMENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment on {self.section}"

    @property
    def requests_changes(self) -> bool:
        return self.kind == self.Kind.CHANGES_REQUESTED


class ReviewInvitation(models.Model):
    """One reviewer asked in one review round; its email is one outbox ledger row.

    `sent_at` copies when that email was delivered; the ledger alone decides what is sent.
    """

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="invitations")
    reviewer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    round_started_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["postmortem", "reviewer", "round_started_at"], name="one_invite_per_round"
            )
        ]

    def __str__(self) -> str:
        return f"Review invitation for {self.reviewer}"


class Reopening(models.Model):
    """A published postmortem sent back for changes: who, why, and the publication it undid.

    Approvals given before the newest reopening never count towards publishing again.
    """

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="reopenings")
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.TextField(max_length=2000)
    to_status = models.CharField(max_length=12, choices=Postmortem.Status.choices)
    version = models.PositiveIntegerField(help_text="The document version the reopening made.")
    was_published_at = models.DateTimeField(null=True, blank=True)
    was_published_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Reopening of {self.postmortem_id} at version {self.version}"

    def get_absolute_url(self) -> str:
        return self.postmortem.get_absolute_url()


# --- Review meetings --------------------------------------------------------------------------


class ReviewMeetingQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(visible_incident_q(user, prefix="postmortem__incident__"))

    def upcoming_or_live(self):
        """Not ended yet, newest schedule last: what a "Present" link should open."""
        return self.filter(ended_at__isnull=True).order_by("scheduled_at", "pk")


class ReviewMeeting(models.Model):
    """A scheduled review of one postmortem; once held, its record (docs/domain.md, "The review
    meeting"). The live fields are driven by the facilitator and read by every follower."""

    # (key, title, planned minutes), in the practice's order: 60 minutes in all.
    AGENDA = [
        ("ground_rules", "Ground rules", 5),
        ("timeline", "Timeline walk-through", 10),
        ("factors", "Contributing factors", 20),
        ("actions", "Action items", 20),
        ("close", "Close", 5),
    ]
    LAST_STEP = len(AGENDA) - 1
    MINUTES = sum(minutes for _, _, minutes in AGENDA)
    REVIEW_WITHIN = timedelta(days=5)
    EXTEND_SECONDS = 5 * 60

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="meetings")
    scheduled_at = models.DateTimeField(db_index=True, validators=[check_moment])
    location = models.CharField(
        max_length=300, blank=True, help_text="A room, or the video-call link."
    )
    facilitator = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="facilitated_meetings"
    )
    attendees = models.ManyToManyField(
        User, through="MeetingAttendee", related_name="review_meetings", blank=True
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Bumped on every change (a step, the timer, anything captured): followers poll for it.
    version = models.PositiveIntegerField(default=1)
    step = models.PositiveSmallIntegerField(default=0)
    running_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the current step's timer last started; empty while paused.",
    )
    # Per agenda step: [seconds spent, seconds added by extending]; the running stretch of the
    # current step is added on top from `running_since`.
    step_times = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    publish_by = models.DateField(
        null=True,
        blank=True,
        validators=[check_day],
        help_text="The publication date agreed at the close.",
    )
    summary_requested_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewMeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_at", "-pk"]

    def __str__(self) -> str:
        return f"Review of {self.postmortem_id} at {self.scheduled_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("postmortems:meeting", args=[self.postmortem.incident.number, self.pk])

    @property
    def ends_at(self):
        return self.scheduled_at + timedelta(minutes=self.MINUTES)

    @property
    def is_live(self) -> bool:
        return self.started_at is not None and self.ended_at is None

    @property
    def is_paused(self) -> bool:
        return self.running_since is None

    @property
    def actual_duration(self) -> timedelta | None:
        if self.started_at and self.ended_at:
            return self.ended_at - self.started_at
        return None

    def times(self, step: int) -> tuple[int, int]:
        """(seconds spent so far before the running stretch, seconds added) for one step."""
        rows = self.step_times or []
        if step < len(rows):
            spent, extra = rows[step]
            return int(spent), int(extra)
        return 0, 0

    def spent_seconds(self, step: int, now) -> int:
        spent, _ = self.times(step)
        if step == self.step and self.running_since is not None:
            spent += max(int((now - self.running_since).total_seconds()), 0)
        return spent

    def planned_seconds(self, step: int) -> int:
        return self.AGENDA[step][2] * 60 + self.times(step)[1]

    def remaining_seconds(self, now) -> int:
        """Negative once the current step has overrun."""
        return self.planned_seconds(self.step) - self.spent_seconds(self.step, now)

    def can_be_driven_by(self, user) -> bool:
        """The facilitator drives the steps; the author and admins can take over."""
        return permissions.can(user, "drive_meeting", self)


class MeetingAttendee(models.Model):
    """One person invited. The invite and summary emails are outbox ledger rows; the two
    timestamps copy when each was delivered, for the meeting page."""

    meeting = models.ForeignKey(ReviewMeeting, on_delete=models.CASCADE, related_name="invites")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    invited_at = models.DateTimeField(null=True, blank=True, help_text="When the invite was sent.")
    summary_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="one_attendance_per_meeting")
        ]

    def __str__(self) -> str:
        return f"{self.user} at meeting {self.meeting_id}"


class MeetingCapture(models.Model):
    """Something captured in the room: the document change it made (through the usual
    services) and, for corrections, what was there before."""

    class Kind(models.TextChoices):
        EVENT_ADDED = "event_added", "Timeline event added"
        EVENT_CORRECTED = "event_corrected", "Timeline event corrected"
        FACTOR_ADDED = "factor_added", "Contributing factor added"
        ITEM_ADDED = "item_added", "Action item added"
        DECISION = "decision", "Decision"
        NOTE = "note", "Note"

    meeting = models.ForeignKey(ReviewMeeting, on_delete=models.CASCADE, related_name="captures")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.PositiveIntegerField(help_text="The meeting version this capture made.")
    step = models.PositiveSmallIntegerField(default=0)
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    text = models.TextField(blank=True, max_length=5_000, help_text="A decision or note as typed.")
    section = models.CharField(
        max_length=16,
        blank=True,
        choices=Postmortem.SECTIONS,
        help_text="The section a note was added to, if any.",
    )
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    event = models.ForeignKey(
        "incidents.TimelineEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    factor = models.ForeignKey(
        ContributingFactor, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    item = models.ForeignKey(
        "actions.ActionItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revision = models.ForeignKey(
        SectionRevision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["version", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "version"], name="one_capture_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} in meeting {self.meeting_id}"


class EditorPresence(models.Model):
    """Who has a postmortem's editor open, and in which section, as of their last heartbeat.

    One row per person and postmortem, rewritten by the editor's poll; a row older than
    `postmortems.presence.EXPIRES` no longer counts (the tab was closed or went away)."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    section = models.CharField(max_length=16, blank=True)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["postmortem", "user"], name="one_presence_per_person_and_postmortem"
            )
        ]
        # The poll reads one postmortem's recent rows.
        indexes = [models.Index(fields=["postmortem", "seen_at"], name="presence_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.section or '-'}"
