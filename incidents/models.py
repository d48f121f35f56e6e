from __future__ import annotations

import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.urls import reverse

from .bounds import check_moment
from .zones import UTC_NAME, zone_named

User = settings.AUTH_USER_MODEL

TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    managers = models.ManyToManyField(User, related_name="managed_teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="services")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """Per-user preferences: where times are shown and which emails arrive."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default=UTC_NAME)
    notify_due_soon = models.BooleanField(
        default=True, help_text="Email me about items due in the next few days, not only overdue."
    )
    reminder_hour = models.PositiveSmallIntegerField(
        default=9, help_text="Hour of the day (in my timezone) reminders are sent."
    )
    # A stakeholder (support, leadership) who reads what they may see and changes nothing.
    read_only = models.BooleanField(
        default=False, help_text="Read-only viewer: reads visible incidents, changes nothing."
    )

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The zone this person sees times in (UTC if the stored name is unknown)."""
        return zone_named(self.timezone)

    def clean(self):
        if self.reminder_hour > 23:
            raise ValidationError({"reminder_hour": "Choose an hour from 0 to 23."})


class SingleSignOnIdentity(models.Model):
    """Who a person is at the identity provider: its issuer and subject, which never change,
    so a sign-on finds its account even after the person's email or name changes there."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")
        ]
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


# --- Facts about a person, read once per user object (a request's user lives one request) --


def _cached(user, name: str, load):
    value = getattr(user, name, None)
    if value is None:
        value = load()
        setattr(user, name, value)
    return value


def _team_roles(user) -> dict[int, bool]:
    """Team id -> whether the user manages it, for each team they belong to or manage: both
    memberships in one query, read once per user object."""

    def load():
        managed = Value(True, output_field=models.BooleanField())
        member = Value(False, output_field=models.BooleanField())
        rows = (
            Team.members.through.objects.filter(user_id=user.pk)
            .values_list("team_id", member)
            .union(
                Team.managers.through.objects.filter(user_id=user.pk).values_list(
                    "team_id", managed
                ),
                all=True,
            )
        )
        roles: dict[int, bool] = {}
        for team_id, manages in rows:
            roles[team_id] = roles.get(team_id, False) or manages
        return roles

    return _cached(user, "_debrief_team_roles", load)


def team_ids(user) -> set[int]:
    """Ids of the teams the user belongs to or manages."""
    if not user.is_authenticated:
        return set()
    return set(_team_roles(user))


def managed_team_ids(user) -> set[int]:
    """Ids of the teams the user manages."""
    if not user.is_authenticated:
        return set()
    return {team_id for team_id, manages in _team_roles(user).items() if manages}


def is_read_only(user) -> bool:
    """A read-only viewer (Profile.read_only): reads what they may see, never writes."""
    if not user.is_authenticated:
        return True
    # The profile the timezone middleware loaded already answers it (no query per request).
    return _cached(
        user,
        "_debrief_read_only",
        lambda: getattr(user, "profile", None) is not None and user.profile.read_only,
    )


def member_incident_ids(user) -> set[int]:
    """Ids of the incidents `user` is a member of, read once per user object: a list of rows
    asks about each row's incident and must not cost a query per private one."""
    if not user.is_authenticated:
        return set()
    return _cached(
        user,
        "_debrief_member_incident_ids",
        lambda: set(
            Incident.members.through.objects.filter(user_id=user.pk).values_list(
                "incident_id", flat=True
            )
        ),
    )


def _authored_q(user) -> Q:
    # Through the reverse relation by name, so the base app imports nothing from postmortems.
    return Q(postmortem__author=user) | Q(postmortem__co_authors=user)


def authored_incident_ids(user) -> set[int]:
    """Ids of the incidents whose postmortem the user writes (lead author or co-author)."""
    if not user.is_authenticated:
        return set()
    return _cached(
        user,
        "_debrief_authored_incident_ids",
        # Two indexed lookups in one query: as one filter with OR across the lead author and
        # the co-authors' join, PostgreSQL scanned every postmortem (120 ms at SCALE=5).
        lambda: set(
            Incident.objects.filter(postmortem__author=user)
            .order_by()
            .values_list("pk", flat=True)
            .union(
                Incident.objects.filter(postmortem__co_authors=user)
                .order_by()
                .values_list("pk", flat=True)
            )
        ),
    )


def reviewing_incident_ids(user) -> set[int]:
    """Ids of the incidents whose postmortem the user is an assigned reviewer of."""
    if not user.is_authenticated:
        return set()
    return _cached(
        user,
        "_debrief_reviewing_incident_ids",
        lambda: set(
            Incident.objects.filter(postmortem__reviewers=user).values_list("pk", flat=True)
        ),
    )


def read_access() -> str:
    """Who reads public incidents: "organisation" (every signed-in person) or "team"."""
    return settings.DEBRIEF_READ_ACCESS


# --- The privacy rule, as a query and for one loaded incident -------------------------------


def _private_reader_qs(user, p: str = "") -> tuple[Q, Q]:
    """Who reads a private incident besides admins: (its members, its team's managers)."""
    membership = Incident.members.through.objects.filter(
        incident_id=OuterRef(f"{p}pk" if p else "pk"), user_id=user.pk
    )
    return Q(Exists(membership)), Q(**{f"{p}team__in": Team.objects.filter(managers=user)})


def private_readers_as_sets(user) -> Q:
    """_private_reader_qs as two sets (the user's memberships, the teams they manage), for
    picking a non-admin's readable private incidents out of all of them: two hashed lookups,
    where the membership test per private incident cost 5 ms at 3,000 (scale 5)."""
    member_of = Incident.members.through.objects.filter(user_id=user.pk).values("incident_id")
    return Q(pk__in=member_of) | Q(team__in=Team.objects.filter(managers=user).values("pk"))


def visible_incident_q(user, prefix: str = "") -> Q:
    """The one read rule, as a filter: what `user` may read (docs/permissions.md).

    Private incidents: their members and the owning team's managers. Public incidents: every
    signed-in person, or with DEBRIEF_READ_ACCESS=team only the owning team (members and
    managers), the commander, the postmortem's authors and reviewers and the incident's
    members. Admins read everything. `prefix` is the lookup path from another model to its
    incident ("incident__", "postmortem__incident__"), so every list filters the same way.
    """
    if user.is_superuser:
        return Q()
    if not user.is_authenticated:
        return Q(pk__in=[])
    p = prefix
    member, managed = _private_reader_qs(user, p)
    private_readers = member | managed
    if read_access() != "team":
        return Q(**{f"{p}private": False}) | private_readers
    involved = Incident.objects.filter(_authored_q(user) | Q(postmortem__reviewers=user))
    mine = (
        Q(**{f"{p}team__in": Team.objects.filter(Q(members=user) | Q(managers=user))})
        | Q(**{f"{p}commander": user})
        | member
        | Q(**{f"{p}pk__in": involved.values("pk")})
    )
    return (Q(**{f"{p}private": False}) & mine) | private_readers


def hidden_incidents(user):
    """The private incidents `user` may not read, as a pk subquery, where that set is the whole
    complement of the read rule: in organisation read mode everything public is readable, so
    "not one of these" (a few hundred rows, hashed once by the database) answers exactly as
    `visible_incident_q` does, without reading the incident of every listed row. None where
    the shortcut does not hold (team read mode) or is not needed (admins, signed out).
    """
    if not user.is_authenticated or user.is_superuser or read_access() == "team":
        return None
    # A private incident is read only by its private readers, so excluding those two is the
    # rule for these rows. Written so (not as "exclude visible_incident_q") the planner counts
    # the private rows right and reads them from incident_private_cover alone (incident pk and
    # team, no heap): at scale 5 the heap reads of 3,000 scattered rows cost 20-60 ms a count.
    member, managed = _private_reader_qs(user)
    return Incident.objects.filter(private=True).exclude(member).exclude(managed).values("pk")


class Severity(models.IntegerChoices):
    SEV1 = 1, "SEV1"
    SEV2 = 2, "SEV2"
    SEV3 = 3, "SEV3"


SEVERITY_ALIASES = {1: "P0", 2: "P1", 3: "P2"}


class Requirement(models.TextChoices):
    REQUIRED = "required", "Full postmortem required"
    RECOMMENDED = "recommended", "Postmortem recommended"
    BRIEF = "brief", "Brief record"


# postmortems.Postmortem.Status.PUBLISHED, named here so the base app need not import upward
# (tests/test_layering.py checks the two stay equal).
POSTMORTEM_PUBLISHED = "published"
# postmortems.Postmortem.SECTION_FIELDS, named here for the same reason (the layering test checks).
POSTMORTEM_SECTION_FIELDS = (
    "summary",
    "impact",
    "root_cause",
    "detection",
    "went_well",
    "went_poorly",
    "lessons",
)
# What a row of the incident list shows (incident_list.html), plus the columns its sorts and
# cursors read: nothing else is loaded, so 50 rows build no unused users or long text.
LIST_COLUMNS = (
    "number",
    "title",
    "severity",
    "status",
    "private",
    "started_at",
    "resolved_at",
    "postmortem_requirement",
    "postmortem_reason",
    "team__name",
    "postmortem__status",
)


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(visible_incident_q(user))

    def for_list(self):
        return (
            self.select_related("team", "postmortem")
            .only(*LIST_COLUMNS)
            .order_by("-started_at", "-pk")
        )

    def resolved(self):
        return self.filter(status__in=[Incident.Status.RESOLVED, Incident.Status.CLOSED])

    def owing_postmortem(self):
        """Resolved incidents whose required postmortem is not published yet."""
        # Through the reverse relation, so the base app imports nothing from postmortems.
        postmortems = self.model._meta.get_field("postmortem").related_model.objects
        published = postmortems.filter(incident=OuterRef("pk"), status=POSTMORTEM_PUBLISHED)
        # NOT EXISTS rather than a LEFT JOIN: the planner then estimates the owed rows well
        # enough to walk the newest candidates (incident_owed_candidates) and stop at a limit.
        return (
            self.resolved()
            .filter(postmortem_requirement=Requirement.REQUIRED)
            .exclude(Exists(published))
        )


# Bits of Incident.repeats / public_repeats.
REPEAT_PATTERN = 1  # an earlier incident of the 12 months before has the same pattern label
REPEAT_CAUSE = 2  # ... shares a service and a contributing-factor category
REPEAT_AFTER_FIX = 4  # ... and one of those had a prevention item done before this started


class Incident(models.Model):
    class Status(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        MITIGATED = "mitigated", "Mitigated"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    number = models.PositiveIntegerField(unique=True, editable=False)
    title = models.CharField(max_length=200)
    summary = models.TextField(
        blank=True, max_length=5_000, help_text="One or two sentences: what broke, for whom."
    )
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, db_index=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.INVESTIGATING, db_index=True
    )

    customer_facing = models.BooleanField(default=False)
    near_miss = models.BooleanField(default=False, help_text="No customer impact, high potential.")
    data_loss = models.BooleanField(default=False)
    security = models.BooleanField(default=False)
    manual_intervention = models.BooleanField(
        default=False, help_text="Someone had to act by hand to resolve it."
    )
    escalated = models.BooleanField(default=False, help_text="On-call escalated.")

    started_at = models.DateTimeField(db_index=True, validators=[check_moment])
    detected_at = models.DateTimeField(null=True, blank=True, validators=[check_moment])
    mitigated_at = models.DateTimeField(null=True, blank=True, validators=[check_moment])
    resolved_at = models.DateTimeField(
        null=True, blank=True, db_index=True, validators=[check_moment]
    )

    requests_failed = models.BigIntegerField(null=True, blank=True)
    users_affected = models.PositiveIntegerField(null=True, blank=True)
    revenue_estimate = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="In your currency."
    )
    regions = models.CharField(max_length=200, blank=True)
    slo_impact = models.TextField("SLO impact", blank=True, max_length=5_000)

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="incidents")
    services = models.ManyToManyField(Service, related_name="incidents", blank=True)
    commander = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="commanded_incidents"
    )
    pattern = models.CharField(
        max_length=100,
        blank=True,
        db_index=True,
        help_text="A short label shared by incidents of the same kind, e.g. 'cert-expiry'.",
    )
    related = models.ManyToManyField("self", blank=True)

    private = models.BooleanField(default=False, db_index=True)
    members = models.ManyToManyField(User, related_name="private_incidents", blank=True)

    postmortem_requirement = models.CharField(
        max_length=16, choices=Requirement.choices, default=Requirement.BRIEF, db_index=True
    )
    postmortem_reason = models.CharField(max_length=300, blank=True)

    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped by every edit through incidents.services, so edits that crossed are refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Whether it repeats an earlier incident (bits REPEAT_PATTERN | REPEAT_CAUSE |
    # REPEAT_AFTER_FIX), judged against every earlier incident (`repeats`) and against the
    # public ones only (`public_repeats`). Stored by actions.repeats (which can see factors and
    # action items) so the dashboard reads flags instead of recomputing them over history.
    repeats = models.PositiveSmallIntegerField(default=0, editable=False)
    public_repeats = models.PositiveSmallIntegerField(default=0, editable=False)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["team", "-started_at"]),
            models.Index(fields=["pattern", "severity", "started_at"]),
            models.Index(fields=["postmortem_requirement", "status"]),
            # The incident list's column sorts (incidents/views.py INCIDENT_COLUMNS).
            models.Index(fields=["severity", "-started_at"], name="incident_sort_severity"),
            models.Index(fields=["status", "-started_at"], name="incident_sort_status"),
            models.Index(fields=["title", "id"], name="incident_sort_title"),
            # The dashboard's repeat incidents of a period: few rows of many.
            models.Index(
                fields=["started_at"], condition=Q(repeats__gt=0), name="incident_repeat_start"
            ),
            # Incidents whose flags differ for those who see private incidents: judged per
            # viewer (actions.metrics.repeats), a few of many.
            models.Index(
                fields=["started_at"],
                condition=~Q(repeats=F("public_repeats")),
                name="incident_repeat_unsure",
            ),
            # What a private incident adds to someone's repeat flags (actions.metrics).
            models.Index(
                fields=["started_at"], condition=Q(private=True), name="incident_private_start"
            ),
            # The private incidents and what their read rule needs (hidden_incidents): a few of
            # many, answered from the index alone on PostgreSQL.
            models.Index(
                fields=["id"],
                include=["team"],
                condition=Q(private=True),
                name="incident_private_cover",
            ),
            # "Postmortems owed", newest first: only the resolved incidents that required one.
            models.Index(
                fields=["-started_at", "-id"],
                condition=Q(postmortem_requirement="required", status__in=["resolved", "closed"]),
                name="incident_owed_candidates",
            ),
            # ... and resolved before a day, for their count: with what the privacy rule reads
            # (PostgreSQL answers from the index alone; other databases ignore `include`).
            models.Index(
                fields=["resolved_at"],
                include=["id", "private", "team"],
                condition=Q(postmortem_requirement="required", status__in=["resolved", "closed"]),
                name="incident_owed_resolved",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(detected_at__isnull=True) | Q(detected_at__gte=models.F("started_at")),
                name="incident_detected_after_start",
            ),
            models.CheckConstraint(
                condition=Q(mitigated_at__isnull=True)
                | Q(mitigated_at__gte=models.F("started_at")),
                name="incident_mitigated_after_start",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("started_at")),
                name="incident_resolved_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"INC-{self.number}" if self.number else "INC-new"

    @property
    def severity_alias(self) -> str:
        return SEVERITY_ALIASES.get(self.severity, "")

    def get_absolute_url(self) -> str:
        return reverse("incidents:detail", args=[self.number])

    def clean(self):
        """Timestamps must run start ≤ detected ≤ mitigated ≤ resolved."""
        errors = {}
        order = [
            ("started_at", "started"),
            ("detected_at", "detected"),
            ("mitigated_at", "mitigated"),
            ("resolved_at", "resolved"),
        ]
        previous = None
        for field, label in order:
            value = getattr(self, field)
            if value is None:
                continue
            if previous and value < previous[1]:
                errors[field] = f"Must not be before the time it was {previous[0]}."
            previous = (label, value)
        if self.status in (self.Status.RESOLVED, self.Status.CLOSED) and not self.resolved_at:
            errors["resolved_at"] = "A resolved or closed incident needs the time it was resolved."
        if self.resolved_at and self.status in (self.Status.INVESTIGATING, self.Status.MITIGATED):
            errors["status"] = "An incident with a resolved time is resolved or closed."
        if errors:
            raise ValidationError(errors)

    def _since_start(self, moment) -> timedelta | None:
        return moment - self.started_at if moment and self.started_at else None

    @property
    def time_to_detect(self) -> timedelta | None:
        return self._since_start(self.detected_at)

    @property
    def time_to_mitigate(self) -> timedelta | None:
        return self._since_start(self.mitigated_at)

    @property
    def time_to_resolve(self) -> timedelta | None:
        return self._since_start(self.resolved_at)

    @property
    def postmortem_or_none(self):
        try:
            return self.postmortem
        except ObjectDoesNotExist:
            return None

    @property
    def is_resolved(self) -> bool:
        return self.status in (self.Status.RESOLVED, self.Status.CLOSED)

    def flags(self) -> list[str]:
        names = [
            ("customer_facing", "customer-facing"),
            ("near_miss", "near-miss"),
            ("data_loss", "data loss"),
            ("security", "security"),
            ("manual_intervention", "manual intervention"),
            ("escalated", "escalated"),
        ]
        return [label for field, label in names if getattr(self, field)]

    def is_visible_to(self, user) -> bool:
        """The read rule for one loaded incident (the queryset form is `visible_incident_q`);
        reads the user's teams and incident roles once, so a list costs no query per row."""
        if user.is_superuser:
            return True
        if not user.is_authenticated:
            return False
        if self.pk in member_incident_ids(user) or self.team_id in managed_team_ids(user):
            return True
        if self.private:
            return False
        if read_access() != "team":
            return True
        return (
            self.team_id in team_ids(user)
            or self.commander_id == user.pk
            or self.pk in authored_incident_ids(user)
            or self.pk in reviewing_incident_ids(user)
        )


class TimelineEventQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(visible_incident_q(user, prefix="incident__"))

    def for_table(self):
        """The columns timeline tables show (incidents/timeline_rows.py): the busiest
        timelines have hundreds of rows, each with two more timestamps to parse."""
        return self.only("incident", "occurred_at", "text", "source", "source_detail", "phase")


class TimelineEvent(models.Model):
    class Source(models.TextChoices):
        ALERT = "alert", "Alert"
        DEPLOY = "deploy", "Deploy"
        LOG = "log", "Log"
        CHAT = "chat", "Chat"
        GIT = "git", "Git"
        MANUAL = "manual", "Manual"
        OTHER = "other", "Other"

    class Phase(models.TextChoices):
        TRIGGER = "trigger", "Trigger"
        DETECTION = "detection", "Detection"
        DIAGNOSIS = "diagnosis", "Diagnosis"
        MITIGATION = "mitigation", "Mitigation"
        RESOLUTION = "resolution", "Resolution"
        OTHER = "other", "Other"

    class Origin(models.TextChoices):
        MANUAL = "manual", "Typed in"
        PASTE = "paste", "Pasted"
        IMPORT = "import", "Imported"
        WEBHOOK = "webhook", "Webhook"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    occurred_at = models.DateTimeField(validators=[check_moment])
    text = models.TextField(max_length=5_000)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    source_detail = models.CharField(
        max_length=200, blank=True, help_text="Where the fact comes from: alert name, PR, link."
    )
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.OTHER)
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)  # as Incident.version

    objects = TimelineEventQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "pk"]
        indexes = [models.Index(fields=["incident", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.text[:60]}"
