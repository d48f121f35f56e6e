"""The review figures, defined once: the monthly digest and the manager dashboard use these.

Every function takes
- a `Period` (first and last day, inclusive; days are UTC days),
- a `Scope` (the organisation, one team, or one service: incidents owned by the team /
  touching the service, and the action items of their postmortems),
- a `viewer`: a user (the incident privacy rule applies to them) or `PUBLIC_ONLY` (None), which
  counts public incidents only, so a figure can be shown or mailed to anyone.
Each is one database aggregate or one bounded query, whatever the number of rows.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate

from incidents.models import Incident, Service, Severity, Team, visible_incident_q
from postmortems.models import ContributingFactor, Postmortem

from .models import ActionItem, ActionItemEvent

PUBLIC_ONLY = None
HEALTHY_RATE = 0.80  # DOMAIN.md: above 80% completed by their due date is healthy
THEATRE_RATE = 0.50  # below 50% the process is theatre
OWED_AFTER = timedelta(days=7)
REPEAT_WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @classmethod
    def month(cls, label: str) -> Period:
        """`2026-10` → 1–31 October 2026."""
        year, month = (int(part) for part in label.split("-"))
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def previous_month(cls, today: date) -> Period:
        last = today.replace(day=1) - timedelta(days=1)
        return cls.month(f"{last:%Y-%m}")

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def ends_before(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def span(self, field: str) -> Q:
        return Q(**{f"{field}__gte": self.starts_at, f"{field}__lt": self.ends_before})


@dataclass(frozen=True)
class Scope:
    team: Team | None = None
    service: Service | None = None

    @property
    def key(self) -> str:
        if self.team:
            return f"team:{self.team.slug}"
        if self.service:
            return f"service:{self.service.slug}"
        return "org"

    @property
    def label(self) -> str:
        return self.team.name if self.team else self.service.name if self.service else "All teams"


ORG = Scope()


def incidents(scope: Scope, viewer) -> QuerySet[Incident]:
    """Incidents in scope that the viewer may see (public ones only for PUBLIC_ONLY)."""
    qs = Incident.objects.all()
    qs = qs.filter(private=False) if viewer is None else qs.filter(visible_incident_q(viewer))
    if scope.team:
        qs = qs.filter(team=scope.team)
    if scope.service:
        qs = qs.filter(pk__in=scope.service.incidents.values("pk"))
    return qs


def items(scope: Scope, viewer) -> QuerySet[ActionItem]:
    """Action items of the postmortems of `incidents(scope, viewer)`."""
    return ActionItem.objects.filter(postmortem__incident__in=incidents(scope, viewer))


def incidents_by_severity(period: Period, scope: Scope, viewer) -> dict[str, int]:
    """Incidents that started in the period, by severity, plus `total`."""
    counts = {f"SEV{sev}": Count("pk", filter=Q(severity=sev)) for sev in Severity.values} | {
        "total": Count("pk")
    }
    return incidents(scope, viewer).filter(period.span("started_at")).aggregate(**counts)


def postmortems_published(period: Period, scope: Scope, viewer) -> int:
    """Postmortems whose publication date falls in the period."""
    return (
        Postmortem.objects.filter(incident__in=incidents(scope, viewer))
        .filter(status=Postmortem.Status.PUBLISHED)
        .filter(period.span("published_at"))
        .count()
    )


def postmortems_owed(as_of: date, scope: Scope, viewer) -> QuerySet[Incident]:
    """Incidents owing a postmortem on `as_of`: a full postmortem is required by the policy,
    the incident was resolved more than 7 days before the end of `as_of`, and no postmortem
    for it is published. Oldest resolution first."""
    cutoff = datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC) - OWED_AFTER
    return (
        incidents(scope, viewer)
        .owing_postmortem()
        .filter(resolved_at__lt=cutoff)
        .select_related("team")
        .order_by("resolved_at", "pk")
    )


def _on_time() -> Q:
    return Q(status=ActionItem.Status.DONE, completed_day__lte=F("due_on"))


def item_counts(period: Period, scope: Scope, viewer) -> dict[str, int]:
    """Action item figures for the period, in one aggregate:

    - created: items created in the period;
    - completed: items marked done in the period;
    - completed_on_time: of those, done on or before their due date (UTC day);
    - overdue: at the end of the period, items due on or before its last day that were not
      done by then and not dropped (won't do);
    - blocked, dropped: items blocked / won't do now, among those created up to the period end.
    """
    end = period.ends_before
    not_done_by_end = Q(completed_at__isnull=True) | Q(completed_at__gte=end)
    return (
        items(scope, viewer)
        .annotate(completed_day=TruncDate("completed_at", tzinfo=UTC))
        .aggregate(
            created=Count("pk", filter=period.span("created_at")),
            completed=Count("pk", filter=period.span("completed_at")),
            completed_on_time=Count("pk", filter=period.span("completed_at") & _on_time()),
            overdue=Count(
                "pk",
                filter=Q(due_on__lte=period.end, created_at__lt=end)
                & not_done_by_end
                & ~Q(status=ActionItem.Status.WONT_DO),
            ),
            blocked=Count("pk", filter=Q(status=ActionItem.Status.BLOCKED, created_at__lt=end)),
            dropped=Count("pk", filter=Q(status=ActionItem.Status.WONT_DO, created_at__lt=end)),
        )
    )


def health_band(rate: float | None) -> str | None:
    """healthy (≥ 80%), at_risk (50–80%), theatre (< 50%), None when nothing was due."""
    if rate is None:
        return None
    if rate >= HEALTHY_RATE:
        return "healthy"
    return "theatre" if rate < THEATRE_RATE else "at_risk"


def completion_by_due_date(period: Period, scope: Scope, viewer) -> dict:
    """The health metric: of the items due in the period (won't-do excluded: dropping is a
    recorded decision, not a miss), the share done on or before their due date.

    Returns {"due", "on_time", "rate" (0–1 or None), "band"}.
    """
    figures = (
        items(scope, viewer)
        .filter(due_on__gte=period.start, due_on__lte=period.end)
        .exclude(status=ActionItem.Status.WONT_DO)
        .annotate(completed_day=TruncDate("completed_at", tzinfo=UTC))
        .aggregate(due=Count("pk"), on_time=Count("pk", filter=_on_time()))
    )
    rate = figures["on_time"] / figures["due"] if figures["due"] else None
    return {**figures, "rate": rate, "band": health_band(rate)}


def decisions(period: Period, scope: Scope, viewer) -> QuerySet[ActionItem]:
    """Items blocked or dropped (won't do) now whose move to that status was recorded in the
    period (or, for items with no recorded history, last changed in the period), with their
    reasons. Newest first."""
    moved = ActionItemEvent.objects.filter(
        item=OuterRef("pk"), kind=ActionItemEvent.Kind.STATUS, to_status=OuterRef("status")
    )
    any_status_event = ActionItemEvent.objects.filter(item=OuterRef("pk"), kind="status")
    return (
        items(scope, viewer)
        .filter(status__in=ActionItem.STATUSES_NEEDING_REASON)
        .filter(
            Exists(moved.filter(period.span("at")))
            | (~Exists(any_status_event) & period.span("updated_at"))
        )
        .select_related("owner", "postmortem__incident")
        .order_by("-updated_at", "pk")
    )


def repeat_incidents(period: Period, scope: Scope, viewer) -> QuerySet[Incident]:
    """Incidents started in the period that repeat an earlier one (started within the 12
    months before, and equally visible): the same pattern label, or a shared service and a
    shared contributing-factor category. Annotated `same_pattern` (bool)."""
    earlier = incidents(ORG, viewer).filter(
        started_at__lt=OuterRef("started_at"),
        started_at__gte=OuterRef("started_at") - REPEAT_WINDOW,
    )
    same_pattern = earlier.filter(pattern=OuterRef("pattern")).exclude(pattern="")
    categories = ContributingFactor.objects.filter(
        postmortem__incident_id=OuterRef(OuterRef("pk"))
    ).values("category")
    same_cause = earlier.filter(
        services__incidents=OuterRef("pk"), postmortem__factors__category__in=categories
    )
    return (
        incidents(scope, viewer)
        .filter(period.span("started_at"))
        .annotate(same_pattern=Exists(same_pattern), same_cause=Exists(same_cause))
        .filter(Q(same_pattern=True) | Q(same_cause=True))
        .select_related("team")
        .order_by("started_at", "pk")
    )


def oldest_open_items(scope: Scope, viewer, limit: int = 10) -> QuerySet[ActionItem]:
    """Open items (open, in progress, blocked), oldest created first."""
    return (
        items(scope, viewer)
        .open()
        .select_related("owner", "postmortem__incident")
        .order_by("created_at", "pk")[:limit]
    )
