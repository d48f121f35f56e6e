from __future__ import annotations

import re
import secrets
import sys
from array import array
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BooleanField, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from incidents.bounds import check_day
from incidents.models import hidden_incidents, visible_incident_q
from postmortems.models import Postmortem

from . import destinations

User = settings.AUTH_USER_MODEL


def team_postmortem_ids(team_ids) -> list[int]:
    """Ids of the postmortems of the incidents these teams own."""
    postmortems = Postmortem.objects.filter(incident__team_id__in=team_ids).order_by()
    return list(postmortems.values_list("pk", flat=True))


LIST_ROW_COLUMNS = (
    "title",
    "reason",
    "due_on",
    "priority",
    "leverage",
    "status",
    "ticket_key",
    "ticket_url",
    "created_by",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "postmortem__author",
    "postmortem__incident__number",
    "postmortem__incident__private",
    "postmortem__incident__team",
    "postmortem__incident__commander",
)


class ActionItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(visible_incident_q(user, prefix="postmortem__incident__"))

    def listed_for(self, user):
        """`visible_to` for the capped counts of long lists: the same rows, counted without
        joining every item to its postmortem and incident where the rule allows.

        Each counted item is looked up among the private incidents the user may not read
        (incidents.hidden_incidents) by its postmortem, two index probes that mostly find
        nothing, so a count stops at its limit having checked only the items it counted
        whatever the organisation's size. Written as a per-row subquery on purpose: as NOT IN
        the database first gathered the whole organisation's hidden postmortems (4 ms at
        scale 1, 15 at scale 5); as NOT EXISTS it became an anti-join the planner ran in
        parallel workers over every postmortem (66 ms at scale 5); as a join its plans swung
        with the filters (2 to 40 ms). COALESCE(..., true) also keeps the planner's guess at
        "half the rows pass", not the 0.5% it assumes for IS NULL, which made it expect to
        scan the whole table and compile the query (JIT, 600 ms)."""
        hidden = hidden_incidents(user)
        if hidden is None:
            return self.visible_to(user)
        hides = hidden.filter(postmortem=OuterRef("postmortem_id")).order_by()
        hides = hides.values(readable=Value(False, output_field=BooleanField()))[:1]
        return self.filter(Coalesce(Subquery(hides), Value(True)))

    def open(self):
        return self.filter(status__in=ActionItem.OPEN_STATUSES)

    def overdue(self, today=None):
        return self.open().filter(due_on__lt=today or timezone.localdate())

    def due_within(self, days: int, today=None):
        """Open items due from today up to `days` days ahead (not yet overdue)."""
        today = today or timezone.localdate()
        return self.open().filter(due_on__gte=today, due_on__lte=today + timedelta(days=days))

    def of_teams(self, team_ids):
        """Items from incidents owned by these teams.

        The teams' postmortems are read first (one indexed query): given them as a list, the
        database looks their items up by postmortem, a cost that follows the teams' size. As a
        join or subquery it misjudged how few rows match and scanned every item or postmortem
        of the organisation instead. Filter once and derive the querysets that need it: each
        filter and each query writes out the few hundred ids again.
        """
        return self.filter(postmortem_id__in=team_postmortem_ids(team_ids))

    def for_list_rows(self):
        """The rows of the item lists: what a row shows (actionitem_list.html), what the policy
        reads to offer its status control and bulk box, and the sorts' columns; nothing else is
        loaded, so a page builds no unused users, dates or text."""
        return (
            self.select_related("owner", "postmortem__incident")
            .only(*LIST_ROW_COLUMNS)
            .order_by("due_on", "priority", "pk")
        )

    def for_list(self):
        # The list shows none of the documents' long text: leave it in the database.
        long_text = [f"postmortem__{name}" for name, _ in Postmortem.SECTIONS]
        long_text += ["postmortem__incident__summary", "postmortem__incident__slo_impact"]
        return (
            self.select_related("owner", "postmortem__incident", "postmortem__incident__team")
            .defer(*long_text)
            .order_by("due_on", "priority", "pk")
        )


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
    description = models.TextField(blank=True, max_length=10_000)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="action_items")
    due_on = models.DateField(validators=[check_day])
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, default=Priority.P2, db_index=True
    )
    leverage = models.CharField(max_length=12, choices=Leverage.choices, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    reason = models.TextField(
        blank=True, max_length=2_000, help_text="Why it is blocked or will not be done."
    )
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
    # Bumped by every change through actions.services, so an edit from an older copy is refused.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "priority", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "due_on"]),
            # The lists' default order, so a page of 50 never sorts every item.
            models.Index(fields=["due_on", "priority", "id"], name="actionitem_list_order"),
            # The same order over unfinished items only: "my items", "overdue" and the nav's
            # overdue count walk it without stepping over the finished ones.
            models.Index(
                fields=["due_on", "priority", "id"],
                name="actionitem_open_order",
                condition=Q(status__in=["open", "in_progress", "blocked"]),
            ),
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["postmortem", "status"]),
            # The lists' column sorts (actions/views.py ITEM_COLUMNS).
            models.Index(fields=["priority", "due_on", "id"], name="actionitem_sort_priority"),
            models.Index(fields=["title", "id"], name="actionitem_sort_title"),
            # "Which postmortems have a prevention item?" (the dashboard's coverage), read
            # from the index alone instead of every prevention item's row.
            models.Index(
                fields=["postmortem"],
                condition=Q(leverage="prevention") & ~Q(status="wont_do"),
                name="actionitem_prevention",
            ),
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


class ActionItemEvent(models.Model):
    """One recorded change to an action item: who, when, what, and why.

    The item's history is the list of these; due-date changes keep the old and new date so the
    item shows how often and how far it slipped.
    """

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status changed"
        DUE_DATE = "due_date", "Due date changed"
        OWNER = "owner", "Reassigned"
        EDITED = "edited", "Edited"

    item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.TextField(blank=True, max_length=2_000)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    from_due = models.DateField(null=True, blank=True)
    to_due = models.DateField(null=True, blank=True)
    from_owner = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_owner = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fields = models.JSONField(default=list, blank=True, help_text="Names of edited fields.")

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["item", "kind", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def slip_days(self) -> int | None:
        if self.from_due and self.to_due:
            return (self.to_due - self.from_due).days
        return None

    @property
    def is_reopening(self) -> bool:
        closed = (ActionItem.Status.DONE, ActionItem.Status.WONT_DO)
        return (
            self.kind == self.Kind.STATUS
            and self.from_status in closed
            and (self.to_status in ActionItem.OPEN_STATUSES)
        )

    @property
    def from_status_label(self) -> str:
        return _status_label(self.from_status)

    @property
    def to_status_label(self) -> str:
        return _status_label(self.to_status)


def _status_label(value: str) -> str:
    return ActionItem.Status(value).label if value in ActionItem.Status.values else value


class Tracker(models.Model):
    """How a ticket key becomes a link: the first tracker whose pattern matches wins.

    `pattern` is a regular expression matched against the whole key; its named groups (and
    `key`, the key itself) fill `url_template`, e.g. Jira `[A-Z][A-Z0-9]+-\\d+` →
    `https://jira.example.com/browse/{key}`, GitHub `(?P<repo>[\\w.-]+/[\\w.-]+)#(?P<number>\\d+)`
    → `https://github.com/{repo}/issues/{number}`.
    """

    name = models.CharField(max_length=60)
    pattern = models.CharField(max_length=200)
    url_template = models.CharField(max_length=300)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        try:
            compiled = re.compile(self.pattern)
        except re.error as err:
            raise ValidationError({"pattern": f"Not a valid regular expression: {err}."}) from err
        names = set(compiled.groupindex) | {"key"}
        try:
            self.url_template.format(**{name: "x" for name in names})
        except (KeyError, IndexError, ValueError) as err:
            raise ValidationError(
                {"url_template": f"Uses a placeholder the pattern does not capture: {err}."}
            ) from err
        if not self.url_template.startswith(("https://", "http://")):
            raise ValidationError({"url_template": "Must start with https:// or http://."})

    def link_for(self, key: str) -> str | None:
        match = re.fullmatch(self.pattern, key.strip())
        if not match:
            return None
        return self.url_template.format(key=key.strip(), **match.groupdict())


def ticket_link(item: ActionItem, trackers) -> str:
    """The item's explicit ticket URL, else the first tracker link its key matches, else ''."""
    if item.ticket_url:
        return item.ticket_url
    if not item.ticket_key:
        return ""
    for tracker in trackers:
        url = tracker.link_for(item.ticket_key)
        if url:
            return url
    return ""


class DigestQuerySet(models.QuerySet):
    def listed(self, page) -> list:
        """The digests of a page, with the few figures the list shows read out of the JSON
        by the database, for these rows only: in one query with the page's sort and limit,
        PostgreSQL read every digest's figures before sorting (10-16 ms at 200 teams)."""
        return list(
            self.filter(pk__in=[d.pk for d in page])
            .select_related("team")
            .defer("figures")
            .annotate(
                completion_rate=F("figures__completion__rate"),
                completion_on_time=F("figures__completion__on_time"),
                completion_due=F("figures__completion__due"),
                completion_band=F("figures__completion__band"),
                incidents_total=F("figures__incidents__total"),
                items_overdue=F("figures__items__overdue"),
            )
        )


class Digest(models.Model):
    """A monthly review for the organisation (team empty) or one team, kept for the web UI.

    `figures` is the JSON the email and the page both render, computed once when the digest is
    built, so the page shows exactly what was emailed.
    """

    period = models.CharField(max_length=7, help_text="YYYY-MM")
    team = models.ForeignKey(
        "incidents.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="digests"
    )
    scope = models.CharField(max_length=120)  # "org" or "team:<slug>", unique with period
    figures = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DigestQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "scope"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "period"], name="digest_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.period}"

    @property
    def title(self) -> str:
        return f"{self.team.name} review" if self.team_id else "Organisation review"

    @property
    def month_start(self) -> date:
        year, month = map(int, self.period.split("-"))
        return date(year, month, 1)

    def get_absolute_url(self) -> str:
        return reverse("actions:digest", args=[self.pk])


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A secret URL serving the user's open items as iCalendar; revoking deletes the row."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=_new_token)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"

    def get_absolute_url(self) -> str:
        return reverse("actions:calendar-feed", args=[self.token])


class WebhookEndpoint(models.Model):
    """A receiver of action item events: organisation-wide (no team) or one team's."""

    team = models.ForeignKey(
        "incidents.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhooks",
        help_text="Empty: every team's items.",
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, default=_new_token)
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "url"]

    def __str__(self) -> str:
        return self.url

    def clean(self):
        # The admin's form reaches here too, so no route saves an internal address.
        try:
            destinations.check_url(self.url)
        except destinations.RefusedDestination as err:
            raise ValidationError({"url": str(err)}) from err

    def get_absolute_url(self) -> str:
        return reverse("actions:webhook", args=[self.pk])


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    item = models.ForeignKey(
        ActionItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField()
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.state})"


# --- Dashboard rollups (actions.rollups keeps them) ---------------------------------------------
# Per-day counts of the action items of PUBLIC incidents, so the organisation dashboard sums a
# few rows per team and day instead of joining every item of the period to its incident and
# the privacy rule. A viewer's figure is these sums plus a live count over the (few) private
# incidents they may see. Rebuilt per team at commit when items, privacy or teams change.
# ItemsDue* and ItemsCreated* also have rows with no team, for the whole organisation (the sums
# of the teams' rows of the same key), so an organisation-wide year reads a dozen month rows
# however many teams there are.


def _org_wide_key(model: str, *fields: str) -> list:
    """A row per team and key (a day or month, and whatever else `fields` names), and one
    per key for the whole organisation (no team)."""
    return [
        models.UniqueConstraint(fields=["team", *fields], name=f"{model}_key"),
        models.UniqueConstraint(
            fields=list(fields), condition=models.Q(team=None), name=f"{model}_org_key"
        ),
    ]


class ItemsDueDay(models.Model):
    """Items (won't do excluded) due on a day, per team and (no team) for the whole
    organisation: completion_grid's counts."""

    team = models.ForeignKey(
        "incidents.Team", null=True, on_delete=models.CASCADE, related_name="+"
    )
    due_on = models.DateField()
    due = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    due_moved = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = _org_wide_key("items_due_day", "due_on")
        indexes = [models.Index(fields=["due_on"], name="items_due_day_on")]

    def __str__(self):
        return f"{self.team_id or 'org'} {self.due_on}"


class ItemsDueMonth(models.Model):
    """ItemsDueDay summed per team (or organisation) and calendar month (`month`: its first
    day), so a year's completion grid reads a row per team and month instead of one per team
    and day; the days of the months a period cuts are still read from ItemsDueDay. Written
    with the day rows by actions.rollups, from them."""

    team = models.ForeignKey(
        "incidents.Team", null=True, on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField()
    due = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    due_moved = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = _org_wide_key("items_due_month", "month")
        indexes = [models.Index(fields=["month"], name="items_due_month_on")]

    def __str__(self):
        return f"{self.team_id or 'org'} {self.month:%Y-%m}"


class OpenItemsDue(models.Model):
    """Open items now per team, owner and due day: open_items_grid's counts ("overdue as of
    today" is the sum over the days before today)."""

    team = models.ForeignKey("incidents.Team", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    due_on = models.DateField()
    open = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "owner", "due_on"], name="open_items_due_key"),
        ]
        # The days of today's month (the open items per team read them; the key's index,
        # team first, cannot find them).
        indexes = [models.Index(fields=["due_on"], name="open_items_due_on")]

    def __str__(self):
        return f"{self.team_id} {self.owner_id} {self.due_on}"


class OpenItemsMonth(models.Model):
    """OpenItemsDue summed per team and calendar month of the due day (`month`: its first
    day), with the month's earliest due day: the open items per team read a row per team
    and month, and only the days of the current month (cut by "overdue before today") from
    OpenItemsDue. Written with the day rows by actions.rollups, from them."""

    team = models.ForeignKey("incidents.Team", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    open = models.PositiveIntegerField(default=0)
    first_due = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "month"], name="open_items_month_key"),
        ]

    def __str__(self):
        return f"{self.team_id} {self.month:%Y-%m}"


class ItemsCreatedDay(models.Model):
    """Items created on a (UTC) day per team (or, no team, the whole organisation), priority
    and leverage, with where they stand now: items_by_priority_and_leverage's counts."""

    team = models.ForeignKey(
        "incidents.Team", null=True, on_delete=models.CASCADE, related_name="+"
    )
    created_on = models.DateField()
    priority = models.PositiveSmallIntegerField()
    leverage = models.CharField(max_length=12)
    created = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    dropped = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = _org_wide_key("items_created_day", "created_on", "priority", "leverage")
        indexes = [models.Index(fields=["created_on"], name="items_created_day_on")]

    def __str__(self):
        return f"{self.team_id or 'org'} {self.created_on} P{self.priority} {self.leverage}"


class ItemsCreatedMonth(models.Model):
    """ItemsCreatedDay summed per team (or organisation), calendar month (`month`: its first
    day), priority and leverage, so a year's item mix reads a row per team, month and kind
    instead of one per day; the days of the months a period cuts are still read from
    ItemsCreatedDay. Written with the day rows by actions.rollups, from them."""

    team = models.ForeignKey(
        "incidents.Team", null=True, on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField()
    priority = models.PositiveSmallIntegerField()
    leverage = models.CharField(max_length=12)
    created = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    dropped = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = _org_wide_key("items_created_month", "month", "priority", "leverage")
        indexes = [models.Index(fields=["month"], name="items_created_month_on")]

    def __str__(self):
        return f"{self.team_id or 'org'} {self.month:%Y-%m} P{self.priority} {self.leverage}"


class RepeatsDay(models.Model):
    """Repeat incidents (Incident.repeats > 0) started on a (UTC) day, per team, privacy and
    stored flags: the recurrence figure's and the repeat list's counts (actions.repeats keeps
    them). Rows with no team count the whole organisation, so an organisation-wide year is a
    few rows per day however many teams there are."""

    team = models.ForeignKey(
        "incidents.Team", null=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    private = models.BooleanField()
    repeats = models.PositiveSmallIntegerField()
    public_repeats = models.PositiveSmallIntegerField()
    incidents = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["team", "day"], name="repeats_day_team_day")]

    def __str__(self):
        return f"{self.team_id or 'org'} {self.day} {self.repeats}/{self.public_repeats}"


def pack_durations(micros: list[int]) -> bytes:
    """Sorted whole microseconds as little-endian 8-byte integers: decoding 50,000 of them
    takes a millisecond, where the same list as JSON took 30 ms to send and parse."""
    packed = array("q", micros)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack_durations(packed) -> array:
    """pack_durations' integers, as an array (indexable and bisectable like a list)."""
    values = array("q")
    values.frombytes(packed)
    if sys.byteorder == "big":
        values.byteswap()
    return values


class IncidentFigures(models.Model):
    """What the dashboard's incident figures need of the PUBLIC incidents started in a (UTC)
    day or month, for a team or (no team) the whole organisation: how many of each severity,
    and their response durations (start to detection, mitigation, resolution; whole
    microseconds, sorted, unknown ones left out). A period's medians are exact, from the
    merged lists, without reading the incidents or a timeline lookup per phase. Written by
    actions.figure_rollups."""

    team = models.ForeignKey(
        "incidents.Team", null=True, on_delete=models.CASCADE, related_name="+"
    )
    sev1 = models.PositiveIntegerField(default=0)
    sev2 = models.PositiveIntegerField(default=0)
    sev3 = models.PositiveIntegerField(default=0)
    # pack_durations' bytes.
    detect = models.BinaryField(default=b"")
    mitigate = models.BinaryField(default=b"")
    resolve = models.BinaryField(default=b"")
    # Of those that owe a postmortem now (IncidentQuerySet.owing_postmortem), when they were
    # resolved (microseconds since 1970, sorted): "owed as of a day" counts those before it.
    owed = models.BinaryField(default=b"")

    class Meta:
        abstract = True


class IncidentsDay(IncidentFigures):
    day = models.DateField()

    class Meta:
        constraints = _org_wide_key("incidents_day", "day")
        indexes = [models.Index(fields=["day"], name="incidents_day_on")]

    def __str__(self):
        return f"{self.team_id or 'org'} {self.day}"


class IncidentsMonth(IncidentFigures):
    """IncidentsDay summed per month (`month`: its first day)."""

    month = models.DateField()

    class Meta:
        constraints = _org_wide_key("incidents_month", "month")
        indexes = [models.Index(fields=["month"], name="incidents_month_on")]

    def __str__(self):
        return f"{self.team_id or 'org'} {self.month:%Y-%m}"


class PostmortemFigures(models.Model):
    """What the dashboard's postmortem figures need of the published postmortems of PUBLIC
    incidents, per (UTC) day or month of publication, for a team or (no team) the whole
    organisation: how many, how many have no prevention item, how many came within
    PUBLISH_WITHIN of the resolution, and their cycle times (resolution to publication; whole
    microseconds, sorted, those without a resolution time left out). Written by
    actions.figure_rollups."""

    team = models.ForeignKey(
        "incidents.Team", null=True, on_delete=models.CASCADE, related_name="+"
    )
    published = models.PositiveIntegerField(default=0)
    without_prevention = models.PositiveIntegerField(default=0)
    within = models.PositiveIntegerField(default=0)
    cycle = models.BinaryField(default=b"")  # pack_durations' bytes

    class Meta:
        abstract = True


class PostmortemsDay(PostmortemFigures):
    day = models.DateField()

    class Meta:
        constraints = _org_wide_key("postmortems_day", "day")
        indexes = [models.Index(fields=["day"], name="postmortems_day_on")]

    def __str__(self):
        return f"{self.team_id or 'org'} {self.day}"


class PostmortemsMonth(PostmortemFigures):
    """PostmortemsDay summed per month (`month`: its first day)."""

    month = models.DateField()

    class Meta:
        constraints = _org_wide_key("postmortems_month", "month")
        indexes = [models.Index(fields=["month"], name="postmortems_month_on")]

    def __str__(self):
        return f"{self.team_id or 'org'} {self.month:%Y-%m}"
