"""The review figures, defined once: the monthly digest and the manager dashboard use these.

Every function takes
- a `Period` (first and last day, inclusive; days are UTC days),
- a `Scope` (the organisation, one team, or one service: incidents owned by the team /
  touching the service, and the action items of their postmortems),
- a `viewer`: a user (the incident privacy rule applies to them) or `PUBLIC_ONLY` (None), which
  counts public incidents only, so a figure can be shown or mailed to anyone.
Each is one database aggregate or one bounded query, whatever the number of rows.

The dashboard's figures (below the digest's) follow the same rules; its lists (the rows behind
a number) are the very QuerySets the numbers are counted from.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain

from django.db import connections
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    DateField,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    PositiveSmallIntegerField,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from incidents.models import (
    REPEAT_AFTER_FIX,
    REPEAT_CAUSE,
    REPEAT_PATTERN,
    Incident,
    Service,
    Severity,
    Team,
    TimelineEvent,
    private_readers_as_sets,
    read_access,
    visible_incident_q,
)
from postmortems.models import PUBLISH_WITHIN, ContributingFactor, Postmortem

from .binary_rows import binary_rows
from .models import (
    ActionItem,
    ActionItemEvent,
    IncidentsDay,
    IncidentsMonth,
    ItemsCreatedDay,
    ItemsCreatedMonth,
    ItemsDueDay,
    ItemsDueMonth,
    OpenItemsDue,
    OpenItemsMonth,
    PostmortemsDay,
    PostmortemsMonth,
    RepeatsDay,
    unpack_durations,
)

PUBLIC_ONLY = None
# docs/domain.md, "Action items": above 80% done by the due date is healthy, below 50% theatre.
HEALTHY_RATE = 0.80
THEATRE_RATE = 0.50
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

    @classmethod
    def last(cls, days: int, today: date) -> Period:
        """The `days` days ending with `today`."""
        return cls(today - timedelta(days=days - 1), today)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def before(self) -> Period:
        """The period of the same length just before this one (for "compared with")."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def months(self) -> list[date]:
        """The first day of every calendar month the period touches, in order."""
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months

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


def in_scope(scope: Scope, viewer, prefix: str = "") -> Q:
    """The incident rule of every figure: in scope, and visible to the viewer (public ones
    only for PUBLIC_ONLY). `prefix` is the path from another model to its incident.

    For a team or a service the rule is "the incident is one of `incidents(scope, viewer)`",
    a subquery PostgreSQL drives from the scope's few incidents; for the whole organisation
    it is the visibility test on the incident the query joins anyway (a subquery there only
    adds a second pass over every incident). Same rows either way."""
    if prefix and (scope.team or scope.service):
        return Q(**{f"{prefix}pk__in": incidents(scope, viewer).values("pk")})
    rule = (
        Q(**{f"{prefix}private": False}) if viewer is None else visible_incident_q(viewer, prefix)
    )
    return rule & _scope_only(scope)  # no prefix here, or the organisation (no scope part)


def _scope_only(scope: Scope) -> Q:
    """in_scope's scope part alone (no read rule), on the incident."""
    if scope.team:
        return Q(team=scope.team)
    if scope.service:
        return Q(pk__in=scope.service.incidents.values("pk"))
    return Q()


def incidents(scope: Scope, viewer) -> QuerySet[Incident]:
    """Incidents in scope that the viewer may see (public ones only for PUBLIC_ONLY). Built
    once per `reading_once`: the privacy rule's subqueries cost more to build than to clone."""
    return _read_once(
        ("incidents", scope.key, getattr(viewer, "pk", None)),
        lambda: Incident.objects.filter(in_scope(scope, viewer)),
    )


def _read_once(key: tuple, load):
    read = _READ_ONCE.get()
    if read is None:
        return load()
    if key not in read:
        read[key] = load()
    return read[key]


def items(scope: Scope, viewer) -> QuerySet[ActionItem]:
    """Action items of the postmortems of `incidents(scope, viewer)`."""
    return ActionItem.objects.filter(in_scope(scope, viewer, "postmortem__incident__"))


def _severity_counts() -> dict:
    return {f"SEV{sev}": Count("pk", filter=Q(severity=sev)) for sev in Severity.values} | {
        "total": Count("pk")
    }


def incidents_started(period: Period, scope: Scope, viewer) -> QuerySet[Incident]:
    """Incidents in scope that started in the period."""
    return incidents(scope, viewer).filter(period.span("started_at"))


def incidents_by_severity(period: Period, scope: Scope, viewer) -> dict[str, int]:
    """Incidents that started in the period, by severity, plus `total`."""
    return incidents_started(period, scope, viewer).aggregate(**_severity_counts())


def published_postmortems(period: Period, scope: Scope, viewer) -> QuerySet[Postmortem]:
    """Postmortems of incidents in scope whose publication date falls in the period."""
    return (
        Postmortem.objects.filter(in_scope(scope, viewer, "incident__"))
        .filter(status=Postmortem.Status.PUBLISHED)
        .filter(period.span("published_at"))
    )


def postmortems_published(period: Period, scope: Scope, viewer) -> int:
    """Postmortems whose publication date falls in the period."""
    return published_postmortems(period, scope, viewer).count()


def postmortems_owed(as_of: date, scope: Scope, viewer) -> QuerySet[Incident]:
    """Incidents owing a postmortem on `as_of`: a full postmortem is required by the policy,
    the incident was resolved more than 7 days before the end of `as_of`, and no postmortem
    for it is published. Oldest resolution first."""
    return (
        incidents(scope, viewer)
        .owing_postmortem()
        .filter(resolved_at__lt=_owed_cutoff(as_of))
        .select_related("team")
        .order_by("resolved_at", "pk")
    )


def postmortems_owed_count(as_of: date, scope: Scope, viewer) -> int:
    """How many postmortems_owed. Organisation-wide, the public incidents' are counted from
    the rollups (the owed incidents' resolution times, per month of the start: a count a
    dozen rows long at any size), the private ones the viewer may see live."""
    owed = postmortems_owed(as_of, scope, viewer)
    if not _figure_rollups_apply(scope, viewer):
        return owed.count()
    before = (_owed_cutoff(as_of) - EPOCH) // MICROSECOND
    stored = binary_rows(IncidentsMonth.objects.filter(team=None).values_list("owed"))
    public = sum(bisect_left(unpack_durations(times), before) for (times,) in stored)
    if viewer is PUBLIC_ONLY:
        return public
    return public + owed.filter(pk__in=_private_ids(scope, viewer)).count()


def _owed_cutoff(as_of: date) -> datetime:
    """Resolved before this is owed on `as_of` (more than OWED_AFTER before its end)."""
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC) - OWED_AFTER


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


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
    figures = items_due(period, scope, viewer).aggregate(
        due=Count("pk"), on_time=Count("pk", filter=_on_time())
    )
    return _with_rate(figures)


def items_due(period: Period, scope: Scope, viewer) -> QuerySet[ActionItem]:
    """The items the health metric judges: due in the period, won't-do excluded; annotated
    `completed_day` (the UTC day it was done) so `_on_time()` can be applied to them."""
    return (
        items(scope, viewer)
        .filter(due_on__gte=period.start, due_on__lte=period.end)
        .exclude(status=ActionItem.Status.WONT_DO)
        .annotate(completed_day=TruncDate("completed_at", tzinfo=UTC))
    )


def _with_rate(figures: dict, due: str = "due", on_time: str = "on_time", prefix: str = "") -> dict:
    rate = figures[on_time] / figures[due] if figures[due] else None
    return figures | {f"{prefix}rate": rate, f"{prefix}band": health_band(rate)}


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
    shared contributing-factor category. Annotated `same_pattern` and `same_cause` (bool)."""
    return repeats(period, scope, viewer).annotate(
        same_pattern=_has(REPEAT_PATTERN), same_cause=_has(REPEAT_CAUSE)
    )


def _with_bit(bit: int, present: bool = True) -> list[int]:
    """The non-zero flag values that have (or lack) `bit`."""
    return [value for value in range(1, 8) if bool(value & bit) == present]


def _has(bit: int) -> ExpressionWrapper:
    return ExpressionWrapper(Q(repeat_bits__in=_with_bit(bit)), output_field=BooleanField())


REPEATS_ONLY = {
    "pattern": _with_bit(REPEAT_PATTERN),
    "after_fix": _with_bit(REPEAT_AFTER_FIX),
    "other": _with_bit(REPEAT_AFTER_FIX, present=False),  # the dashboard's "Other repeats"
}


@dataclass
class Judged:
    """What a viewer who sees every public incident and some private ones judges for
    themselves (see `repeats`): the few incidents of the period where the two stored flags
    differ, {pk: (started_at, flags for this viewer, 0 for none)}, and the private incidents
    they may see from 12 months before the period to its end: [(pk, started_at, pattern,
    team_id, repeats, public_repeats)]."""

    differ: dict[int, tuple[datetime, int]]
    private: list[tuple]


def judged_for(period: Period, scope: Scope, viewer) -> Judged | None:
    """The flags this viewer judges for themselves, or None when the stored ones serve
    (an admin, PUBLIC_ONLY) or every candidate is judged (DEBRIEF_READ_ACCESS=team)."""
    if viewer is PUBLIC_ONLY or viewer.is_superuser or read_access() == "team":
        return None
    # Named by id, in two steps: the planner guesses `repeats <> public_repeats` keeps
    # nearly every row, and with the visibility rule beside it reads every flagged incident
    # of the period instead of the few the partial index incident_repeat_unsure holds.
    differ = Incident.objects.filter(period.span("started_at")).exclude(repeats=F("public_repeats"))
    # (With none, [0] still runs the query: the number of queries does not depend on the data.)
    ids = list(differ.order_by().values_list("pk", flat=True)) or [0]
    candidates = list(
        incidents_started(period, scope, viewer)
        .filter(pk__in=ids, repeats__gt=0)
        .order_by()
        .values_list("pk", "started_at", "pattern", "public_repeats")
    )
    # The private incidents someone may read are those they are a member of and those of the
    # teams they manage (visible_incident_q): read as those two indexed parts, not by testing
    # every private incident of two years.
    window = (
        Incident.objects.filter(private=True)
        .filter(visible_incident_q(viewer))
        .filter(started_at__gte=period.starts_at - REPEAT_WINDOW, started_at__lt=period.ends_before)
        .order_by()
    )
    fields = ("pk", "started_at", "pattern", "team_id", "repeats", "public_repeats")
    managed = Team.objects.filter(managers=viewer)
    private = list(
        window.filter(members=viewer)
        .values_list(*fields)
        .union(window.filter(team__in=managed).values_list(*fields))
    )
    bits = _private_bits(candidates, private)
    return Judged({pk: (start, bits.get(pk, 0)) for pk, start, *_ in candidates}, private)


def repeats(
    period: Period, scope: Scope, viewer, only: str = "", judged: Judged | None = None
) -> QuerySet[Incident]:
    """The repeat incidents of the period in scope that the viewer may see, annotated
    `repeat_bits` (REPEAT_PATTERN | REPEAT_CAUSE | REPEAT_AFTER_FIX, judged against the
    earlier incidents this viewer may see), oldest first. `only`: "pattern", "after_fix" or
    "other" (not after a fix) keeps just those. `judged`: judged_for(period, scope, viewer),
    when already read.

    Read from the flags stored per incident (actions.repeats keeps them): `repeats` judges
    against every earlier incident (an admin's view), `public_repeats` against public ones
    (PUBLIC_ONLY). Anyone else sees every public incident and some private ones, so their
    flags lie between the two and equal both where the two agree; the few incidents where
    they differ (a matching earlier incident is private) are judged live against what this
    viewer may see. With DEBRIEF_READ_ACCESS=team not every public incident is visible
    either, so there every candidate is judged live."""
    base = incidents_started(period, scope, viewer).filter(repeats__gt=0)
    if viewer is PUBLIC_ONLY or viewer.is_superuser:
        stored = "public_repeats" if viewer is PUBLIC_ONLY else "repeats"
        rule, live = Q(**{f"{stored}__gt": 0}), {}
    elif read_access() == "team":
        stored, live = None, _live_bits(base, period, viewer)
        rule = Q(pk__in=list(live))
    else:
        stored = "public_repeats"
        judged = judged_for(period, scope, viewer) if judged is None else judged
        live = {pk: bits for pk, (_, bits) in judged.differ.items() if bits}
        # The rest agree. Named rather than as `repeats = public_repeats`: the planner
        # guesses such a comparison keeps 0.5% of the rows, and then sorts every flagged
        # incident of the period instead of reading a page in index order.
        rule = Q(pk__in=list(live)) | (Q(public_repeats__gt=0) & ~Q(pk__in=list(judged.differ)))
    by_bits: dict[int, list[int]] = {}
    for pk, bits in live.items():
        by_bits.setdefault(bits, []).append(pk)
    bits = Case(
        *(When(pk__in=ids, then=Value(value)) for value, ids in by_bits.items()),
        default=F(stored) if stored else Value(0),
        output_field=PositiveSmallIntegerField(),
    )
    qs = base.filter(rule).annotate(repeat_bits=bits)
    if only:
        qs = qs.filter(repeat_bits__in=REPEATS_ONLY[only])
    return qs.select_related("team").order_by("started_at", "pk")


def _live_bits(candidates: QuerySet[Incident], period: Period, viewer) -> dict:
    """{pk: flags} of the candidates (incidents of `period`) that repeat an earlier incident
    the viewer may see, computed from history by the window."""
    seen = incidents(ORG, viewer).filter(
        started_at__gte=period.starts_at - REPEAT_WINDOW, started_at__lt=period.ends_before
    )
    return {pk: bits for pk, bits, _ in repeat_flag_rows(candidates, seen) if bits}


def _private_bits(candidates: list[tuple], earlier: list[tuple]) -> dict:
    """{pk: flags} of the candidates ((pk, started_at, pattern, public_repeats): a few
    incidents whose flags against public incidents are stored) that repeat an earlier
    incident the viewer may see: the stored public flags, plus what the viewer's private
    incidents (`earlier`, as in Judged.private) add. Judged in Python from three small
    queries, which cost less than planning the equivalent correlated EXISTS (~50 ms); they
    run even with no candidate, so the number of queries does not depend on the data."""
    named = [pk for pk, *_ in candidates] + [pk for pk, *_ in earlier] or [0]
    services, categories = defaultdict(set), defaultdict(set)
    through = Incident.services.through.objects.filter(incident_id__in=named)
    for incident, service in through.values_list("incident_id", "service_id"):
        services[incident].add(service)
    factors = ContributingFactor.objects.filter(postmortem__incident_id__in=named)
    for incident, category in factors.values_list("postmortem__incident_id", "category"):
        categories[incident].add(category)
    # When a prevention item of each earlier incident was first marked done: its completion
    # (if done now), or a recorded move to done, whichever is first.
    fixed_at: dict[int, datetime] = {}
    moved = Min(
        "events__at", filter=Q(events__kind=ActionItemEvent.Kind.STATUS, events__to_status=DONE)
    )
    prevention = ActionItem.objects.filter(
        postmortem__incident_id__in=[pk for pk, *_ in earlier] or [0], leverage=PREVENTION
    )
    for incident, status, completed, moved_at in (
        prevention.annotate(moved_at=moved)
        .order_by()
        .values_list("postmortem__incident_id", "status", "completed_at", "moved_at")
    ):
        for moment in (completed if status == DONE else None, moved_at):
            if moment is not None and (incident not in fixed_at or moment < fixed_at[incident]):
                fixed_at[incident] = moment
    found = {}
    for pk, start, pattern, public in candidates:
        bits = public
        for other, other_start, other_pattern, *_ in earlier:
            if not start - REPEAT_WINDOW <= other_start < start:
                continue
            same_pattern = bool(pattern) and other_pattern == pattern
            same_cause = bool(services[pk] & services[other]) and bool(
                categories[pk] & categories[other]
            )
            if same_pattern or same_cause:
                bits |= REPEAT_PATTERN * same_pattern | REPEAT_CAUSE * same_cause
                if other in fixed_at and fixed_at[other] < start:
                    bits |= REPEAT_AFTER_FIX
        if bits:
            found[pk] = bits
    return found


def _compiled(queryset: QuerySet) -> tuple[str, tuple]:
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def repeat_flag_rows(
    candidates: QuerySet[Incident], seen: QuerySet[Incident]
) -> list[tuple[int, int, int]]:
    """(pk, flags, public flags) of each candidate that repeats an incident of `seen` (flags
    REPEAT_PATTERN | REPEAT_CAUSE | REPEAT_AFTER_FIX; public flags: judged against the public
    incidents of `seen` only). `seen` must hold the candidates and every incident of the 12
    months before them that may count. One query; see `_repeat_flags_sql`."""
    sql, params = _repeat_flags_sql(candidates, seen)
    query = (
        "SELECT rf.cid, rf.same_pattern * %s + rf.same_cause * %s + rf.after_fix * %s,"
        " rf.pub_pattern * %s + rf.pub_cause * %s + rf.pub_after_fix * %s"
        f" FROM ({sql}) rf"
    )
    bits = (REPEAT_PATTERN, REPEAT_CAUSE, REPEAT_AFTER_FIX)
    with connections[candidates.db].cursor() as cursor:
        cursor.execute(query, bits + bits + tuple(params))
        return cursor.fetchall()


def _repeat_flags_sql(candidates: QuerySet[Incident], seen: QuerySet[Incident]):
    """SQL giving one row per candidate that repeats an incident of `seen`: (cid,
    same_pattern, same_cause, after_fix, pub_pattern, pub_cause, pub_after_fix), the flags 0
    or 1, the pub_ ones counting public earlier incidents only.

    Why raw SQL around ORM-built parts: asking "is there an earlier matching incident?" once
    per incident (correlated EXISTS) took seconds for a quarter at 20,000 incidents. Instead,
    every incident of `seen` becomes one row per key (its pattern; each of its (service,
    factor category) pairs), and a window over each key, ordered by start, counts the rows
    started in the 12 months before this one (strictly earlier), and finds the earliest time
    a prevention item of those earlier incidents was marked done. An incident is a repeat if
    any of its keys has an earlier row; `after_fix` if that earliest fix is before its start.
    One pass over sorted rows.
    """
    candidates = candidates.order_by()  # (a default ordering would sort every subquery)
    seen = seen.order_by()
    public = Case(When(private=False, then=Value(1)), default=Value(0))
    # Only keys some candidate has can make it a repeat; filtering whole keys (partitions)
    # leaves every window intact.
    # (Excluding blank patterns on both sides keeps the planner from probing the pattern
    # index with '' for every unlabelled incident.)
    patterns = (
        seen.exclude(pattern="")
        .filter(pattern__in=candidates.exclude(pattern="").values("pattern"))
        .values(rid=F("pk"), rstart=F("started_at"), rpub=public, rkey=F("pattern"))
    )
    through = Incident.services.through
    causes = through.objects.filter(
        incident__in=seen.values("pk"),
        service__in=through.objects.filter(incident__in=candidates.values("pk")).values("service"),
        incident__postmortem__factors__isnull=False,
    ).values(
        rid=F("incident_id"),
        rstart=F("incident__started_at"),
        rpub=Case(When(incident__private=False, then=Value(1)), default=Value(0)),
        rservice=F("service_id"),
        rcategory=F("incident__postmortem__factors__category"),
    )
    # Per key row: when a prevention item of its incident was first marked done (completion
    # time, or a recorded move to done); looked up per row (`k.rid`), so only incidents that
    # share a key with a candidate are read. No visibility filter: the key rows have it.
    key_incident = RawSQL("k.rid", ())
    done = (
        ActionItem.objects.filter(leverage=PREVENTION, status=DONE, completed_at__isnull=False)
        .filter(postmortem__incident_id=key_incident)
        .order_by("completed_at")
        .values("completed_at")[:1]
    )
    moved_done = (
        ActionItemEvent.objects.filter(kind=ActionItemEvent.Kind.STATUS, to_status=DONE)
        .filter(item__leverage=PREVENTION, item__postmortem__incident_id=key_incident)
        .order_by("at")
        .values("at")[:1]
    )
    rows = candidates.values(cid=F("pk"))
    (rows_sql, rows_params), (patterns_sql, patterns_params) = _compiled(rows), _compiled(patterns)
    (causes_sql, causes_params) = _compiled(causes)
    (done_sql, done_params), (moved_sql, moved_params) = _compiled(done), _compiled(moved_done)
    vendor = connections[candidates.db].vendor
    if vendor == "postgresql":
        order = "{}"
        frame = (
            f"RANGE BETWEEN INTERVAL '{REPEAT_WINDOW.days} days' PRECEDING "
            "AND INTERVAL '1 microsecond' PRECEDING"
        )
    else:
        # SQLite's RANGE offsets are numbers: order by integer microseconds since the epoch
        # (Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC). %% is a literal % here.
        order = (
            "(CAST(strftime('%%s', {0}) AS INTEGER) * 1000000"
            " + CAST(substr({0} || '.000000', 21, 6) AS INTEGER))"
        )
        micros = REPEAT_WINDOW // timedelta(microseconds=1)
        frame = f"RANGE BETWEEN {micros} PRECEDING AND 1 PRECEDING"
    first_fix = (
        "CASE WHEN k.done_at IS NULL THEN k.event_at"
        " WHEN k.event_at IS NULL OR k.done_at < k.event_at THEN k.done_at"
        " ELSE k.event_at END"
    )

    keys = (
        "SELECT p.rid, p.rstart, p.rpub, 'p' AS kind, NULL AS rservice, p.rkey"
        f" FROM ({patterns_sql}) p"
        " UNION ALL SELECT q.rid, q.rstart, q.rpub, 'c', q.rservice, q.rcategory"
        f" FROM ({causes_sql}) q"
    )
    # OFFSET 0 keeps PostgreSQL from pulling the subquery up and running each lookup once
    # per mention of its column (five times per row, measured).
    fence = " OFFSET 0" if vendor == "postgresql" else ""
    keyed = (
        f"SELECT k.*, {first_fix} AS fix FROM (SELECT k.*, ({done_sql}) AS done_at,"
        f" ({moved_sql}) AS event_at FROM ({keys}) k{fence}) k"
    )
    windows = (
        "SELECT k.rid, k.rstart, k.kind,"
        " COUNT(*) OVER win AS earlier, MIN(k.fix) OVER win AS first_fix,"
        " SUM(k.rpub) OVER win AS earlier_pub,"
        " MIN(CASE WHEN k.rpub = 1 THEN k.fix END) OVER win AS first_pub_fix"
        f" FROM ({keyed}) k"
        " WINDOW win AS (PARTITION BY k.kind, k.rservice, k.rkey"
        f" ORDER BY {order.format('k.rstart')} {frame})"
    )
    pub = "w.earlier_pub > 0"
    sql = (
        "SELECT w.rid AS cid,"
        " MAX(CASE WHEN w.kind = 'p' THEN 1 ELSE 0 END) AS same_pattern,"
        " MAX(CASE WHEN w.kind = 'c' THEN 1 ELSE 0 END) AS same_cause,"
        " MAX(CASE WHEN w.first_fix < w.rstart THEN 1 ELSE 0 END) AS after_fix,"
        f" MAX(CASE WHEN w.kind = 'p' AND {pub} THEN 1 ELSE 0 END) AS pub_pattern,"
        f" MAX(CASE WHEN w.kind = 'c' AND {pub} THEN 1 ELSE 0 END) AS pub_cause,"
        " MAX(CASE WHEN w.first_pub_fix < w.rstart THEN 1 ELSE 0 END) AS pub_after_fix"
        f" FROM ({windows}) w WHERE w.earlier > 0 AND w.rid IN ({rows_sql})"
        " GROUP BY w.rid"
    )
    # Parameters in the order their subqueries appear in the text.
    params = done_params + moved_params + patterns_params + causes_params + rows_params
    return sql, params


def oldest_open_items(scope: Scope, viewer, limit: int = 10) -> QuerySet[ActionItem]:
    """Open items (open, in progress, blocked), oldest created first."""
    return (
        items(scope, viewer)
        .open()
        .select_related("owner", "postmortem__incident")
        .order_by("created_at", "pk")[:limit]
    )


# --- The manager dashboard ------------------------------------------------------------------
# Grouped forms of the figures above (by month, by team, by owner) and the dashboard's own.
# Each is one grouped aggregate; medians and percentiles are one more (see
# `duration_percentiles`). Groups are months, teams, owners, priorities: never one per item.

PREVENTION = ActionItem.Leverage.PREVENTION
DONE = ActionItem.Status.DONE
WONT_DO = ActionItem.Status.WONT_DO
# values() keys for "the team of the incident" seen from an item, an event, an incident.
ITEM_TEAM = {
    "team_pk": F("postmortem__incident__team_id"),
    "team_name": F("postmortem__incident__team__name"),
    "team_slug": F("postmortem__incident__team__slug"),
}
EVENT_TEAM = {
    "team_pk": F("item__postmortem__incident__team_id"),
    "team_name": F("item__postmortem__incident__team__name"),
    "team_slug": F("item__postmortem__incident__team__slug"),
}
OWNER = {
    "owner_pk": F("owner_id"),
    "username": F("owner__username"),
    "first_name": F("owner__first_name"),
    "last_name": F("owner__last_name"),
    "active": F("owner__is_active"),
}


def _month(field: str):
    """The UTC calendar month of a timestamp, as the date of its first day."""
    return TruncMonth(field, output_field=DateField(), tzinfo=UTC)


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: the value at `share` of the ordered durations, linearly
    interpolated between the two nearest (the median is share 0.5)."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(share)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, share: float, **extra):
        if not 0 <= share <= 1:
            raise ValueError("share is a fraction from 0 to 1")
        super().__init__(
            expression, share=repr(float(share)), output_field=DurationField(), **extra
        )


def percentile_cont(values: list[timedelta], share: float) -> timedelta | None:
    """percentile_cont's definition in Python, for databases without it (SQLite)."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def duration_percentiles(
    queryset: QuerySet, durations: dict, shares=(0.5,), by=None, counts=None, total=False
) -> dict[object, dict]:
    """{group: {duration name: {share: timedelta or None}}} over the rows of `queryset`,
    grouped by the expression `by` (one group, None, when it is None). Rows where a duration
    is NULL are left out of that duration. `counts`: more aggregates ({name: Count(...)})
    whose values join each group's dict (in the same query on PostgreSQL). `total`: with
    `by`, also the figures over every row, under the key None (`by` must never be NULL): a
    figure by month and its overall value read the rows once.

    PostgreSQL computes them in one grouped query with percentile_cont (the total by
    GROUPING SETS). SQLite has no percentile function, so there one query fetches just the
    durations (one tuple per row, no model instances) and the same definition is applied in
    Python: callers pass period- and scope-bounded querysets (incidents started, postmortems
    published in the period), so this is at most the period's incidents, a few thousand
    small tuples at the largest scale.
    """
    qs = queryset.order_by()
    if by is not None:
        qs = qs.annotate(_group=by)
    counts = counts or {}
    total = total and by is not None

    def aggregated(aggregates: dict) -> list[dict]:
        if by is None:
            return [qs.aggregate(**aggregates) | {"_group": None}]
        grouped = qs.values("_group").annotate(**aggregates)
        return _with_total(grouped) if total else list(grouped)

    if connections[queryset.db].vendor == "postgresql":
        aggregates = {
            f"{name}_{i}": Percentile(expression, share)
            for name, expression in durations.items()
            for i, share in enumerate(shares)
        }
        return {
            row["_group"]: {
                name: {share: row[f"{name}_{i}"] for i, share in enumerate(shares)}
                for name in durations
            }
            | {name: row[name] for name in counts}
            for row in aggregated(aggregates | counts)
        }
    found = {}
    if counts:
        found = {row["_group"]: {n: row[n] for n in counts} for row in aggregated(counts)}
    columns = {f"_d_{name}": expression for name, expression in durations.items()}
    fields = (["_group"] if by is not None else []) + list(columns)
    samples: dict[object, dict[str, list]] = {}
    if total:
        samples[None] = {name: [] for name in durations}
    for row in qs.annotate(**columns).values_list(*fields):
        group, values = (row[0], row[1:]) if by is not None else (None, row)
        lists = samples.setdefault(group, {name: [] for name in durations})
        for name, value in zip(durations, values, strict=True):
            if value is not None:
                lists[name].append(value)
                if total:
                    samples[None][name].append(value)
    return {
        group: {
            name: {share: percentile_cont(values, share) for share in shares}
            for name, values in samples.get(group, {}).items()
        }
        | found.get(group, {})
        for group in found.keys() | samples.keys()
    }


def _with_total(grouped: QuerySet) -> list[dict]:
    """The rows of a query grouped by `_group`, plus its aggregates over all rows (`_group`
    None). PostgreSQL: the same statement with GROUPING SETS ((group), ()), one scan (Django
    cannot say GROUPING SETS, so its GROUP BY is rewritten). Elsewhere the counts are summed
    from the groups (callers pass additive aggregates there)."""
    connection = connections[grouped.db]
    if connection.vendor != "postgresql":
        rows = list(grouped)
        names = [name for name in grouped.query.annotation_select if name != "_group"]
        return rows + [{"_group": None} | {n: sum(r[n] or 0 for r in rows) for n in names}]
    compiler = grouped.query.get_compiler(using=grouped.db)
    sql, params = compiler.as_sql()
    head, found, keys = sql.rpartition(" GROUP BY ")
    if not found:
        raise ValueError("expected a grouped query")
    with connection.cursor() as cursor:
        cursor.execute(f"{head} GROUP BY GROUPING SETS (({keys}), ())", params)
        names = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    # Django's own conversions (a truncated month becomes a date), as the ORM would apply.
    converters = compiler.get_converters([column for column, _, _ in compiler.select])
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return [dict(zip(names, row, strict=True)) for row in rows]


# Action items: completion, overdue, load, mix, slippage ----------------------------------


def completion_grid(
    period: Period, scope: Scope, viewer, previous: Period | None = None
) -> list[dict]:
    """The counts of completion_by_due_date per (team, month due, period), in one query:
    [{"team_pk", "team_name", "team_slug", "month", "current" (in `period`, else in
    `previous`, by default the same length just before), "due", "on_time", "due_moved" (had
    their due date changed at any time)}]. `completion_sums` adds them up per team and per
    month, which is what the dashboard reads.

    Where the rollups apply (`_rollups_apply`), public incidents' items are summed from
    ItemsDueMonth (a row per team and month) for whole months and ItemsDueDay (per team and
    day) for the months the periods cut, and only the private incidents' items the viewer
    may see are counted live; the rows are the same as `_completion_grid_live` over all."""
    previous = previous or period.before()
    if not _rollups_apply(scope, viewer):
        return _completion_grid_live(items(scope, viewer), period, previous)
    by_month, by_day, _ = _completion_rollups(period, previous, scope)
    sums = summed(GRID_COUNTS)
    team = dict(ROLLUP_TEAM)
    by_month = by_month.values("month", **team, current=_current(period, "month")).annotate(**sums)
    by_day = by_day.values(**team, month=TruncMonth("due_on"), current=_current(period)).annotate(
        **sums
    )
    live = _completion_grid_live(_private_items(scope, viewer), period, previous)
    rows = _renamed(by_month, GRID_COUNTS) + _renamed(by_day, GRID_COUNTS) + live
    return _merged(rows, ("team_pk", "month", "current"), GRID_COUNTS)


@dataclass
class CompletionSums:
    """completion_grid's rows added up two ways: `teams` per (team, current), with the
    team's name and slug; `months` per month due, in the period only (no `current`)."""

    teams: list[dict]
    months: list[dict]

    @classmethod
    def of(cls, grid: list[dict]) -> CompletionSums:
        team_keys = (*ITEM_TEAM, "current", *GRID_COUNTS)
        teams = [{k: r[k] for k in team_keys} for r in grid]
        months = [{k: r[k] for k in ("month", *GRID_COUNTS)} for r in grid if r["current"]]
        return cls(
            _merged(teams, ("team_pk", "current"), GRID_COUNTS),
            _merged(months, ("month",), GRID_COUNTS),
        )


def completion_sums(
    period: Period, scope: Scope, viewer, previous: Period | None = None, months: bool = True
) -> CompletionSums:
    """completion_grid added up per team and per month (`CompletionSums`): all that
    completion_by_team, completion_by_month and slippage_by_team read. From the rollups the
    sums are made by the database, so the rows are tens (teams, months), not the teams ×
    months of the grid (about 5,000 org-wide at 200 teams, each a dict merged here). Without
    `months`, the teams' sums only (slippage's), and `months` empty."""
    previous = previous or period.before()
    if not _rollups_apply(scope, viewer):
        live = CompletionSums.of(_completion_grid_live(items(scope, viewer), period, previous))
        return live if months else CompletionSums(live.teams, [])
    teams = _team_sums_rolled_up(period, previous, scope)
    live = CompletionSums.of(_completion_grid_live(_private_items(scope, viewer), period, previous))
    teams = _merged(teams + live.teams, ("team_pk", "current"), GRID_COUNTS)
    # A month row less its other days can leave a team's side at nothing: no row, as live.
    teams = [row for row in teams if any(row[name] for name in GRID_COUNTS)]
    if not months:
        return CompletionSums(teams, [])
    # Per month, from the organisation's rows org-wide (a row per month or day, not one per
    # team and month or day).
    by_month, by_day, in_period = _completion_rollups(period, previous, scope, rows=_scope_rows)
    sums = summed(GRID_COUNTS)
    per_month = _renamed(
        by_month.filter(month__gte=period.start).values("month").annotate(**sums), GRID_COUNTS
    ) + _renamed(
        by_day.filter(in_period).values(month=TruncMonth("due_on")).annotate(**sums),
        GRID_COUNTS,
    )
    return CompletionSums(teams, _merged(per_month + live.months, ("month",), GRID_COUNTS))


def _team_sums_rolled_up(period: Period, previous: Period, scope: Scope) -> list[dict]:
    """completion_sums' teams from the rollups: [{team_pk, team_name, team_slug, current,
    due, on_time, due_moved}], up to two rows per team. Day rows are read per team, so a
    month cut by the span or the period's start is read the cheaper way (`_month_pieces`).

    Summed by team id, then named: grouping by the joined team's name and slug took twice as
    long (4,800 month rows a year at 200 teams), and the sums gather in one dict rather than
    as a dict per row merged after."""
    month_sides, day_weights = _month_pieces(period, previous)
    size = len(GRID_COUNTS)
    found: dict[tuple[int, bool], list[int]] = {}

    def add(team_pk: int, current: bool, counts) -> None:
        sums = found.setdefault((team_pk, current), [0] * size)
        for n, count in enumerate(counts):
            sums[n] += count or 0

    now_months = [m for m, now in month_sides.items() if now]
    by_month = (
        _team_rows(ItemsDueMonth.objects.all(), scope)
        .filter(month__in=list(month_sides))
        .values(
            "team_id",
            current=ExpressionWrapper(Q(month__in=now_months), output_field=BooleanField()),
        )
        .annotate(**summed(GRID_COUNTS))
        .values_list("team_id", "current", *summed(GRID_COUNTS))
    )
    for team_pk, current, *counts in by_month:
        add(team_pk, current, counts)
    if day_weights:
        days, sides = Q(), {}
        for first, last, *_ in day_weights:
            days |= Q(due_on__range=(first, last))
        for n, side in enumerate(("now", "then")):  # this period, the one before
            ranges = [(first, last, w[n]) for first, last, *w in day_weights if w[n]]
            when = [When(due_on__range=(a, b), then=Value(w)) for a, b, w in ranges]
            weight = Case(*when, default=Value(0))
            sides |= {f"{side}_{name}": Sum(F(name) * weight) for name in GRID_COUNTS}
        by_day = (
            _team_rows(ItemsDueDay.objects.all(), scope)
            .filter(days)
            .values("team_id")
            .annotate(**sides)
            .values_list("team_id", *sides)
        )
        for team_pk, *counts in by_day:
            add(team_pk, True, counts[:size])
            add(team_pk, False, counts[size:])
    if scope.team:
        names = {scope.team.pk: (scope.team.name, scope.team.slug)}
    else:  # every team: cheaper than the same teams listed by id
        names = {
            pk: (name, slug) for pk, name, slug in Team.objects.values_list("pk", "name", "slug")
        }
    return [
        {"team_pk": pk, "team_name": names[pk][0], "team_slug": names[pk][1], "current": current}
        | dict(zip(GRID_COUNTS, sums, strict=True))
        for (pk, current), sums in found.items()
    ]


def _month_pieces(period: Period, previous: Period) -> tuple[dict[date, bool], list[tuple]]:
    """How to read per-team sums over `previous` and `period` (adjacent) from month and day
    rows: {month: current} for the month rows to add, and (first, last, now, then) day
    ranges whose rows are added with those weights (1, 0 or -1) to the period and to the
    one before. A month the span or the period's start cuts is either its days in the span,
    or, when that is fewer rows, its month row on the side most of it is on, less its other
    days (a 90-day period: 57 day rows per team become 19)."""
    span = Period(previous.start, period.end)
    split = period.start
    month_sides: dict[date, bool] = {}
    day_weights: list[tuple] = []
    for month in span.months():
        days = Period.month(f"{month:%Y-%m}")
        first, last = max(days.start, span.start), min(days.end, span.end)
        then = Period(first, min(last, split - timedelta(days=1)))
        now = Period(max(first, split), last)
        then_days, now_days = max(then.days, 0), max(now.days, 0)
        if max(then_days, now_days) == days.days:  # a whole month on one side
            month_sides[month] = now_days > 0
            continue
        major_now = now_days >= then_days
        if 1 + days.days - max(then_days, now_days) >= then_days + now_days:
            if then_days:
                day_weights.append((then.start, then.end, 0, 1))
            if now_days:
                day_weights.append((now.start, now.end, 1, 0))
            continue
        # The month row, on the major side, less the month's other days.
        month_sides[month] = major_now
        less = (-1, 0) if major_now else (0, -1)
        if first > days.start:
            day_weights.append((days.start, first - timedelta(days=1), *less))
        minor = then if major_now else now
        if minor.days > 0:  # moved from the major side to their own
            day_weights.append((minor.start, minor.end, *((-1, 1) if major_now else (1, -1))))
        if last < days.end:
            day_weights.append((last + timedelta(days=1), days.end, *less))
    return month_sides, day_weights


def _completion_rollups(period: Period, previous: Period, scope: Scope, rows=None):
    """The ItemsDueMonth rows of the months wholly on one side of the period's start, the
    ItemsDueDay rows of the months either period cuts, and the filter on due_on of the
    period itself. The teams' rows (`_team_rows`), or those `rows` picks."""
    rows = rows or _team_rows
    whole, cut = _whole_months(Period(previous.start, period.end), period.start)
    by_month = rows(ItemsDueMonth.objects.all(), scope).filter(month__in=whole)
    by_day = rows(ItemsDueDay.objects.all(), scope).filter(cut)
    return by_month, by_day, Q(due_on__gte=period.start, due_on__lte=period.end)


def _current(period: Period, field: str = "due_on") -> ExpressionWrapper:
    """Whether a rollup row is in `period` rather than the one before (a month row is
    wholly on one side of the period's start)."""
    if field == "month":
        return ExpressionWrapper(Q(month__gte=period.start), output_field=BooleanField())
    now = Q(due_on__gte=period.start, due_on__lte=period.end)
    return ExpressionWrapper(now, output_field=BooleanField())


def summed(names: tuple) -> dict:
    """`sum_<name>` aggregates of these columns (read back with `_renamed`): an aggregate
    may not take the name of the column it sums."""
    return {f"sum_{name}": Sum(name) for name in names}


def _whole_months(span: Period, split: date, field: str = "due_on") -> tuple[list[date], Q]:
    """The months (first days) wholly inside `span` and not cut by `split` (a day inside
    a month other than its first), and a filter on the date `field` for the days of the
    others."""
    whole, cut = [], Q(pk__in=[])
    for month in span.months():
        days = Period.month(f"{month:%Y-%m}")
        if span.start <= days.start and days.end <= span.end and not days.start < split <= days.end:
            whole.append(month)
        else:
            first, last = max(days.start, span.start), min(days.end, span.end)
            cut |= Q(**{f"{field}__gte": first, f"{field}__lte": last})
    return whole, cut


GRID_COUNTS = ("due", "on_time", "due_moved")


def completion_counts() -> dict:
    """completion_grid's aggregates over items (won't do excluded, annotated
    `completed_day`); also what ItemsDueDay stores per team and day."""
    ever_moved = ActionItemEvent.objects.filter(
        item=OuterRef("pk"), kind=ActionItemEvent.Kind.DUE_DATE
    )
    return {
        "due": Count("pk"),
        "on_time": Count("pk", filter=_on_time()),
        "due_moved": Count("pk", filter=Exists(ever_moved)),
    }


def judged_items(qs: QuerySet[ActionItem]) -> QuerySet[ActionItem]:
    """The items completion judges (won't do excluded), with `completed_day`."""
    return (
        qs.exclude(status=WONT_DO)
        .annotate(completed_day=TruncDate("completed_at", tzinfo=UTC))
        .order_by()
    )


def _completion_grid_live(qs: QuerySet[ActionItem], period: Period, previous: Period) -> list:
    now = Q(due_on__gte=period.start, due_on__lte=period.end)
    then = Q(due_on__gte=previous.start, due_on__lte=previous.end)
    return list(
        judged_items(qs.filter(now | then))
        .values(
            **ITEM_TEAM,
            month=TruncMonth("due_on"),
            current=ExpressionWrapper(now, output_field=BooleanField()),
        )
        .annotate(**completion_counts())
    )


# values() keys for the team of a rollup row.
ROLLUP_TEAM = {
    "team_pk": F("team_id"),
    "team_name": F("team__name"),
    "team_slug": F("team__slug"),
}


def _rollups_apply(scope: Scope, viewer) -> bool:
    """Whether a figure may be read from the rollups (public incidents' items) plus a live
    count over the private ones the viewer may see: every signed-in reader sees every public
    incident, except with DEBRIEF_READ_ACCESS=team; a service's incidents are not keyed by
    team in the rollups. Otherwise the live query answers alone."""
    if scope.service is not None or read_access() == "team":
        return False
    if viewer is not PUBLIC_ONLY and not viewer.is_authenticated:
        return False
    for flush in BEFORE_ROLLUP_READ:
        flush()
    return True


def _figure_rollups_apply(scope: Scope, viewer) -> bool:
    """Whether the incident and postmortem figures read their rollups: organisation-wide.
    A team's incidents are few at any size of organisation, and read live they cost less
    than the rows that would stand for them (8 against 10 ms for a year at 20,000)."""
    return scope.team is None and _rollups_apply(scope, viewer)


# Called before the rollups are read (actions.rollups registers its pending changes' flush).
BEFORE_ROLLUP_READ: list = []


def _team_rows(qs: QuerySet, scope: Scope) -> QuerySet:
    """The teams' rows of a rollup in scope: its team's, or every team's (never the
    organisation's rows, no team, of the rollups that have them)."""
    if scope.team:
        return qs.filter(team=scope.team).order_by()
    if qs.model._meta.get_field("team").null:
        qs = qs.filter(team__isnull=False)
    return qs.order_by()


def _scope_rows(qs: QuerySet, scope: Scope) -> QuerySet:
    """The rows of a rollup with organisation-wide rows that answer for a scope: its team's,
    or the organisation's (no team): a row per key however many teams there are."""
    return qs.filter(team=scope.team if scope.team else None).order_by()


def _private_items(scope: Scope, viewer) -> QuerySet[ActionItem]:
    """The items of the private incidents in scope the viewer may see (few): what the
    rollups leave out. None for PUBLIC_ONLY."""
    if viewer is PUBLIC_ONLY:
        return ActionItem.objects.none()
    return ActionItem.objects.filter(postmortem__incident_id__in=_private_ids(scope, viewer))


def _private_ids(scope: Scope, viewer) -> list[int]:
    """The private incidents in scope the viewer may see, by id (one query on the
    private-incident index): rows of other tables are reached through them, where the rule
    as a join scanned every row of the period (25-110 ms). Read once per `reading_once`."""

    def load() -> list[int]:
        if viewer is not PUBLIC_ONLY and viewer.is_authenticated and not viewer.is_superuser:
            # Their readers, in either read mode: members and the team's managers.
            readers = private_readers_as_sets(viewer)
            private = Incident.objects.filter(_scope_only(scope), readers, private=True)
        else:
            private = incidents(scope, viewer).filter(private=True)
        return list(private.order_by().values_list("pk", flat=True)) or [0]

    return _read_once(("private_ids", scope.key, getattr(viewer, "pk", None)), load)


# Facts a page's figures share, read once inside `reading_once` (one request's read
# transaction), never across requests: a change shows on the next page.
_READ_ONCE: ContextVar[dict | None] = ContextVar("debrief_read_once", default=None)


@contextmanager
def reading_once():
    token = _READ_ONCE.set({})
    try:
        yield
    finally:
        _READ_ONCE.reset(token)


def _renamed(rows, names: tuple) -> list[dict]:
    """Rollup rows with their `sum_<name>` sums as `<name>` (an aggregate may not take the
    name of the column it sums)."""
    return [
        {k: v for k, v in row.items() if not k.startswith("sum_")}
        | {name: row[f"sum_{name}"] for name in names}
        for row in rows
    ]


def _merged(rows: list[dict], keys: tuple, counts: tuple, least: tuple = ()) -> list[dict]:
    """Rows with the same `keys` added up (`counts` summed, `least` the smallest non-None)."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key not in merged:
            merged[key] = dict(row) | {name: row[name] or 0 for name in counts}
            continue
        group = merged[key]
        for name in counts:
            group[name] += row[name] or 0
        for name in least:
            if row[name] is not None and (group[name] is None or row[name] < group[name]):
                group[name] = row[name]
    return list(merged.values())


def completion_by_month(period: Period, scope: Scope, viewer, sums=None) -> list[dict]:
    """completion_by_due_date per calendar month of the period, by the month the items were
    due: [{"month" (its first day), "due", "on_time", "rate", "band"}], one per month the
    period touches (the first and last clipped to it), empty months with due 0, rate None.
    `sums`: completion_sums for this period, when already read."""
    sums = completion_sums(period, scope, viewer) if sums is None else sums
    found = {r["month"]: r for r in sums.months}
    return [
        _with_rate({"month": m} | {k: found.get(m, {}).get(k, 0) for k in ("due", "on_time")})
        for m in period.months()
    ]


def completion_by_team(
    period: Period, scope: Scope, viewer, previous: Period | None = None, sums=None
) -> list[dict]:
    """completion_by_due_date per team (the team of the item's incident), in the period and
    in `previous` (by default the period of the same length before it): [{"team_pk",
    "team_name", "team_slug", "due", "on_time", "rate", "band", "prev_due", "prev_on_time",
    "prev_rate", "prev_band", "change" (rate − prev_rate, or None)}], for teams with items
    due in either, by name. `sums`: completion_sums, when already read."""
    sums = completion_sums(period, scope, viewer, previous) if sums is None else sums
    teams: dict[int, dict] = {}
    for r in sums.teams:
        team = teams.setdefault(
            r["team_pk"],
            {key: r[key] for key in ITEM_TEAM} | dict.fromkeys(TEAM_COUNTS, 0),
        )
        prefix = "" if r["current"] else "prev_"
        team[f"{prefix}due"] += r["due"]
        team[f"{prefix}on_time"] += r["on_time"]
    result = []
    for row in teams.values():
        row = _with_rate(_with_rate(row), "prev_due", "prev_on_time", prefix="prev_")
        both = row["rate"] is not None and row["prev_rate"] is not None
        row["change"] = row["rate"] - row["prev_rate"] if both else None
        result.append(row)
    return sorted(result, key=lambda row: (row["team_name"], row["team_pk"]))


TEAM_COUNTS = ("due", "on_time", "prev_due", "prev_on_time")


def overdue_items(scope: Scope, viewer, today: date) -> QuerySet[ActionItem]:
    """Overdue now: open, in progress or blocked, due before `today`: the action item list's
    "Overdue only" rule, so a count and the list it links to agree."""
    return items(scope, viewer).overdue(today)


def open_items_grid(scope: Scope, viewer, today: date, owners: bool = True) -> list[dict]:
    """Open items (open, in progress, blocked) now per (team, owner), with how many are
    overdue (`overdue_items`) and the oldest overdue due date, in one query: open_by_team
    and open_by_owner are sums of these rows (at most one per owner and team). Without
    `owners`, per team only (the rows open_by_team needs: tens, not thousands).

    Where the rollups apply, public incidents' items are summed from OpenItemsDue (per team,
    owner and due day), plus a live count over the private incidents the viewer may see."""
    late = Q(due_on__lt=today)
    who = OWNER if owners else {}
    if not _rollups_apply(scope, viewer):
        return _open_items_live(items(scope, viewer), today, who)
    if not owners:
        return _open_by_team_rollups(scope, viewer, today)
    summed = (
        _team_rows(OpenItemsDue.objects.all(), scope)
        .values(**ROLLUP_TEAM, **who)
        .annotate(
            sum_open=Sum("open"),
            sum_overdue=Coalesce(Sum("open", filter=late), 0),
            oldest_due=Min("due_on", filter=late),
        )
    )
    live = _open_items_live(_private_items(scope, viewer), today, who)
    keys = ("team_pk", "owner_pk") if owners else ("team_pk",)
    rows = _renamed(summed, ("open", "overdue")) + live
    return _merged(rows, keys, ("open", "overdue"), least=("oldest_due",))


def _open_by_team_rollups(scope: Scope, viewer, today: date) -> list[dict]:
    """open_items_grid per team from the rollups: the open items and the oldest overdue due
    day from OpenItemsMonth (a month's first due day is overdue when before today: every one
    of an earlier month, none of a later one), the overdue ones of today's month from the days
    before today in OpenItemsDue, plus the viewer's private incidents live."""
    this_month = Period.month(f"{today:%Y-%m}")
    # Summed per team in the query: a row per team, not one per team and month (~1,000
    # org-wide, each a dict merged in Python).
    months = (
        _team_rows(OpenItemsMonth.objects.all(), scope)
        .values(**ROLLUP_TEAM)
        .annotate(
            sum_open=Sum("open"),
            sum_overdue=Coalesce(Sum("open", filter=Q(month__lt=this_month.start)), 0),
            oldest_due=Min("first_due", filter=Q(first_due__lt=today)),
        )
    )
    rows = _renamed(months, ("open", "overdue"))
    days = (
        _team_rows(OpenItemsDue.objects.all(), scope)
        .filter(due_on__gte=this_month.start, due_on__lt=today)
        .values(**ROLLUP_TEAM)
        .annotate(sum_overdue=Sum("open"))
    )
    rows += [row | {"open": 0, "oldest_due": None} for row in _renamed(days, ("overdue",))]
    live = _open_items_live(_private_items(scope, viewer), today, {})
    return _merged(rows + live, ("team_pk",), ("open", "overdue"), least=("oldest_due",))


def _open_items_live(qs: QuerySet[ActionItem], today: date, who: dict = OWNER) -> list[dict]:
    late = Q(due_on__lt=today)
    return list(
        qs.open()
        .order_by()
        .values(**ITEM_TEAM, **who)
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=late),
            oldest_due=Min("due_on", filter=late),
        )
    )


def _by(rows: list[dict], keys: dict) -> list[dict]:
    groups: dict[int, dict] = {}
    first_key = next(iter(keys))
    for r in rows:
        group = groups.setdefault(
            r[first_key],
            {key: r[key] for key in keys} | {"open": 0, "overdue": 0, "oldest_due": None},
        )
        group["open"] += r["open"]
        group["overdue"] += r["overdue"]
        if r["oldest_due"] and (
            group["oldest_due"] is None or r["oldest_due"] < group["oldest_due"]
        ):
            group["oldest_due"] = r["oldest_due"]
    return list(groups.values())


def open_by_team(scope: Scope, viewer, today: date, grid=None) -> list[dict]:
    """Open items per team now, and how many of them are overdue (`overdue_items`), with the
    oldest overdue due date: [{"team_pk", "team_name", "team_slug", "open", "overdue",
    "oldest_due"}], most overdue first. `grid`: open_items_grid's rows, when fetched."""
    grid = open_items_grid(scope, viewer, today) if grid is None else grid
    rows = _by(grid, ITEM_TEAM)
    return sorted(rows, key=lambda r: (-r["overdue"], -r["open"], r["team_name"], r["team_pk"]))


def open_by_owner(scope: Scope, viewer, today: date, grid=None) -> list[dict]:
    """Who carries the follow-ups: open items per owner now, how many are overdue, and the
    oldest overdue due date: [{"owner_pk", "username", "first_name", "last_name", "active",
    "open", "overdue", "oldest_due"}], most open first. `grid`: as for open_by_team."""
    grid = open_items_grid(scope, viewer, today) if grid is None else grid
    rows = _by(grid, OWNER)
    return sorted(rows, key=lambda r: (-r["open"], -r["overdue"], r["username"]))


def items_created(period: Period, scope: Scope, viewer) -> QuerySet[ActionItem]:
    """Items in scope created in the period."""
    return items(scope, viewer).filter(period.span("created_at"))


def items_by_priority_and_leverage(period: Period, scope: Scope, viewer) -> list[dict]:
    """Items created in the period per (priority, leverage), with where they stand now:
    [{"priority", "leverage", "created", "open", "done", "dropped"}].

    Where the rollups apply, public incidents' items are summed from ItemsCreatedMonth for
    the months wholly in the period and from ItemsCreatedDay for the days of the months it
    cuts (the team's rows, or the organisation's), plus a live count over the private
    incidents the viewer may see."""
    if not _rollups_apply(scope, viewer):
        return _item_mix_live(items_created(period, scope, viewer))
    sums = summed(MIX_COUNTS)
    whole, cut = _whole_months(period, period.start, field="created_on")
    by_month = (
        _scope_rows(ItemsCreatedMonth.objects.all(), scope)
        .filter(month__in=whole)
        .values("priority", "leverage")
        .annotate(**sums)
    )
    by_day = (
        _scope_rows(ItemsCreatedDay.objects.all(), scope)
        .filter(cut)
        .values("priority", "leverage")
        .annotate(**sums)
    )
    live = _item_mix_live(_private_items(scope, viewer).filter(period.span("created_at")))
    stored = _renamed(by_month, MIX_COUNTS) + _renamed(by_day, MIX_COUNTS)
    rows = _merged(stored + live, ("priority", "leverage"), MIX_COUNTS)
    return sorted(rows, key=lambda row: (row["priority"], row["leverage"]))


MIX_COUNTS = ("created", "open", "done", "dropped")


def item_mix_counts() -> dict:
    """items_by_priority_and_leverage's aggregates; also what ItemsCreatedDay stores."""
    return {
        "created": Count("pk"),
        "open": Count("pk", filter=Q(status__in=ActionItem.OPEN_STATUSES)),
        "done": Count("pk", filter=Q(status=DONE)),
        "dropped": Count("pk", filter=Q(status=WONT_DO)),
    }


def _item_mix_live(qs: QuerySet[ActionItem]) -> list[dict]:
    return list(
        qs.order_by()
        .values("priority", "leverage")
        .annotate(**item_mix_counts())
        .order_by("priority", "leverage")
    )


def _prevention_items() -> QuerySet[ActionItem]:
    # A dropped (won't do) prevention item prevents nothing.
    return ActionItem.objects.filter(postmortem=OuterRef("pk"), leverage=PREVENTION).exclude(
        status=WONT_DO
    )


def postmortems_without_prevention(period: Period, scope: Scope, viewer) -> QuerySet[Postmortem]:
    """Postmortems published in the period with no prevention item (won't-do ones do not
    count): the practice asks whether such a review found the real factors."""
    return published_postmortems(period, scope, viewer).filter(~Exists(_prevention_items()))


def prevention_coverage(period: Period, scope: Scope, viewer) -> dict[str, int]:
    """{"published", "without_prevention"} for the postmortems published in the period."""
    return published_postmortems(period, scope, viewer).aggregate(
        published=Count("pk"),
        without_prevention=Count("pk", filter=~Exists(_prevention_items())),
    )


def due_date_changes(period: Period, scope: Scope, viewer) -> QuerySet[ActionItemEvent]:
    """Due-date changes of items in scope recorded in the period."""
    return ActionItemEvent.objects.filter(
        kind=ActionItemEvent.Kind.DUE_DATE, item__in=items(scope, viewer)
    ).filter(period.span("at"))


def items_moved(period: Period, scope: Scope, viewer) -> QuerySet[ActionItem]:
    """Items whose due date was changed in the period, annotated `changes` (how many times
    in the period) and `slipped` (net days moved in the period: later minus earlier date)."""
    changes = (
        ActionItemEvent.objects.filter(item=OuterRef("pk"), kind=ActionItemEvent.Kind.DUE_DATE)
        .filter(period.span("at"))
        .order_by()
        .values("item")
    )
    count = changes.annotate(n=Count("pk")).values("n")
    slipped = changes.annotate(days=Sum(F("to_due") - F("from_due"))).values("days")
    return (
        items(scope, viewer)
        .filter(Exists(changes))
        .annotate(
            changes=Subquery(count),
            slipped=Subquery(slipped, output_field=DurationField()),
        )
    )


def slippage_by_team(period: Period, scope: Scope, viewer, sums=None) -> list[dict]:
    """Per team: due-date changes recorded in the period ("changes"), the items they moved
    ("items_moved"), the net days slipped ("slipped", a timedelta: later minus earlier date,
    summed), and of the items due in the period (as for completion) how many had had their
    due date changed at any time ("due", "due_moved"; from completion_sums, passed in as
    `sums` when already read). By team name."""
    moved = (
        due_date_changes(period, scope, viewer)
        .order_by()
        .values(**EVENT_TEAM)
        .annotate(
            changes=Count("pk"),
            items_moved=Count("item", distinct=True),
            slipped=Sum(F("to_due") - F("from_due")),
        )
    )
    sums = completion_sums(period, scope, viewer) if sums is None else sums
    due = [r for r in sums.teams if r["current"]]
    teams: dict[int, dict] = {}
    blank = {"changes": 0, "items_moved": 0, "slipped": timedelta(0), "due": 0, "due_moved": 0}
    for row in moved:
        teams.setdefault(row["team_pk"], dict(blank)).update(
            {k: v for k, v in row.items() if v is not None}
        )
    for row in due:
        team = teams.setdefault(row["team_pk"], dict(blank) | {key: row[key] for key in EVENT_TEAM})
        team["due"] += row["due"]
        team["due_moved"] += row["due_moved"]
    return sorted(teams.values(), key=lambda row: (row["team_name"], row["team_pk"]))


# Postmortems: cycle time ---------------------------------------------------------------


def cycle_time_postmortems(period: Period, scope: Scope, viewer) -> QuerySet[Postmortem]:
    """Postmortems published in the period whose incident has a resolution time, annotated
    `cycle` (resolved → published) and `within` (published within 7 days of resolution)."""
    within = Q(published_at__lte=F("incident__resolved_at") + PUBLISH_WITHIN)
    return (
        published_postmortems(period, scope, viewer)
        .filter(incident__resolved_at__isnull=False)
        .annotate(
            cycle=F("published_at") - F("incident__resolved_at"),
            within=ExpressionWrapper(within, output_field=BooleanField()),
        )
    )


def _cycle_summary(qs: QuerySet, by=None) -> dict:
    within = Q(published_at__lte=F("incident__resolved_at") + PUBLISH_WITHIN)
    counts = {"published": Count("pk"), "within": Count("pk", filter=within)}
    cycle = F("published_at") - F("incident__resolved_at")
    found = duration_percentiles(qs, {"cycle": cycle}, (0.5, 0.9), by=by, counts=counts)
    return _cycle_rows(found)


def _cycle_rows(found: dict) -> dict:
    """duration_percentiles' groups of cycle times as cycle_times' dicts (groups with
    nothing published left out)."""
    result = {}
    for group, row in found.items():
        if not row.get("published"):
            continue  # an aggregate over no rows (a period with nothing published)
        times = row.get("cycle", {})
        result[group] = {
            "published": row["published"],
            "within": row["within"],
            "share_within": row["within"] / row["published"],
            "median": times.get(0.5),
            "p90": times.get(0.9),
        }
    return result


def cycle_times(period: Period, scope: Scope, viewer) -> dict:
    """Postmortem cycle time (incident resolved → postmortem published) for the postmortems
    published in the period: {"published", "median", "p90" (timedelta or None), "within"
    (published within 7 days of resolution), "share_within" (0–1 or None)}."""
    empty = {"published": 0, "within": 0, "share_within": None, "median": None, "p90": None}
    qs = cycle_time_postmortems(period, scope, viewer)
    return _cycle_summary(qs).get(None) or empty


def cycle_times_by_month(period: Period, scope: Scope, viewer) -> list[dict]:
    """cycle_times per UTC month of publication, one row per month the period touches."""
    qs = cycle_time_postmortems(period, scope, viewer)
    found = _cycle_summary(qs, by=_month("published_at"))
    empty = {"published": 0, "within": 0, "share_within": None, "median": None, "p90": None}
    return [{"month": m} | found.get(m, empty) for m in period.months()]


def postmortem_figures(period: Period, scope: Scope, viewer) -> dict:
    """What the dashboard shows of the postmortems published in the period, from one read
    of them: {"cycle": cycle_times, "cycle_months": cycle_times_by_month, "coverage":
    prevention_coverage} (tests hold them equal to those functions)."""
    resolved = Q(incident__resolved_at__isnull=False)
    # Without a resolution time the cycle and `within` are NULL: left out of both, as
    # cycle_time_postmortems leaves such postmortems out.
    within = Q(published_at__lte=F("incident__resolved_at") + PUBLISH_WITHIN)
    counts = {
        "published": Count("pk", filter=resolved),
        "within": Count("pk", filter=within),
        "all_published": Count("pk"),
        "without_prevention": Count("pk", filter=~Exists(_prevention_items())),
    }
    if _figure_rollups_apply(scope, viewer):
        found = _postmortem_figures_rolled_up(period, scope, viewer)
    else:
        found = duration_percentiles(
            published_postmortems(period, scope, viewer),
            {"cycle": F("published_at") - F("incident__resolved_at")},
            CYCLE_SHARES,
            by=_month("published_at"),
            counts=counts,
            total=True,
        )
    total = found.get(None, {})
    summary = _cycle_rows(found)
    empty = {"published": 0, "within": 0, "share_within": None, "median": None, "p90": None}
    return {
        "cycle": summary.get(None) or empty,
        "cycle_months": [{"month": m} | summary.get(m, empty) for m in period.months()],
        "coverage": {
            "published": total.get("all_published") or 0,
            "without_prevention": total.get("without_prevention") or 0,
        },
    }


CYCLE_SHARES = (0.5, 0.9)


def _postmortem_figures_rolled_up(period: Period, scope: Scope, viewer) -> dict:
    """postmortem_figures' grouped figures (as duration_percentiles gives them): the public
    incidents' postmortems from PostmortemsMonth (whole months) and PostmortemsDay (the days
    of the months the period cuts), the private incidents' ones the viewer may see live."""
    groups = _Groups(("cycle",), ("published", "all_published", "within", "without_prevention"))
    columns = ("published", "within", "without_prevention", "cycle")
    for month, published, within, without, cycle in _rollup_rows(
        PostmortemsMonth, PostmortemsDay, period, columns
    ):
        group = groups.add(month, all_published=published, within=within)
        group.counts["without_prevention"] += without
        group.counts["published"] += len(cycle)
        group.add_run("cycle", cycle)
    private = [] if viewer is PUBLIC_ONLY else _private_ids(scope, viewer)
    live = (
        Postmortem.objects.filter(incident_id__in=private)
        .filter(status=Postmortem.Status.PUBLISHED)
        .filter(period.span("published_at"))
        .order_by()
        .annotate(
            _group=_month("published_at"),
            _cycle=F("published_at") - F("incident__resolved_at"),
            _prevented=Exists(_prevention_items()),
        )
        .values_list("_group", "_cycle", "_prevented")
    )
    for month, cycle, prevented in live if private else ():
        group = groups.add(month, all_published=1, without_prevention=int(not prevented))
        if cycle is not None:
            group.counts["published"] += 1
            group.counts["within"] += cycle <= PUBLISH_WITHIN
            group.live["cycle"].append(cycle // MICROSECOND)
    return groups.figures(CYCLE_SHARES)


def _rollup_rows(month_model, day_model, period: Period, columns: tuple):
    """(month, *columns) of the organisation's rollup rows covering `period`: a month row for
    each month wholly inside it, day rows for its days in the months it cuts."""
    whole, days = _whole_months(period, period.start, "day")
    months = month_model.objects.filter(team__isnull=True, month__in=whole).order_by()
    cut = day_model.objects.filter(days, team__isnull=True).order_by()
    lists = [n for n, column in enumerate(columns) if column in DURATION_LISTS]
    rows = chain(
        binary_rows(months.values_list("month", *columns)),
        binary_rows(cut.values_list("day", *columns)),
    )
    for when, *values in rows:
        for n in lists:
            values[n] = unpack_durations(values[n])
        yield (when.replace(day=1), *values)


DURATION_LISTS = {"detect", "mitigate", "resolve", "cycle"}


def percentile_of_runs(runs: list, share: float) -> timedelta | None:
    """percentile_cont of durations given as sorted runs of whole microseconds (the rollups'
    lists, a sorted list of live ones): the same definition, without merging the runs. The
    k-th smallest value of them all is found by bisecting on the value (a few dozen steps
    of one bisect per run) rather than by sorting a year of durations."""
    runs = [run for run in runs if len(run)]
    count = sum(len(run) for run in runs)
    if not count:
        return None
    position = share * (count - 1)
    low = int(position)
    high = min(low + 1, count - 1)
    kth = (lambda k: runs[0][k]) if len(runs) == 1 else (lambda k: _kth(runs, k))
    first = timedelta(microseconds=kth(low))
    second = first if high == low else timedelta(microseconds=kth(high))
    return first + (second - first) * (position - low)


def _kth(runs: list, k: int) -> int:
    """The k-th smallest (from 0) value of sorted runs of integers."""
    low, high = min(run[0] for run in runs), max(run[-1] for run in runs)
    while low < high:
        middle = (low + high) // 2
        if sum(bisect_right(run, middle) for run in runs) > k:
            high = middle
        else:
            low = middle + 1
    return low


class _Groups:
    """Counts and sorted runs of durations per month, plus their total (group None), from
    rollup rows and live rows, turned into duration_percentiles' dicts."""

    def __init__(self, durations: tuple, counts: tuple):
        self.durations, self.count_names = durations, counts
        self.groups: dict = {}

    def add(self, month: date, **counts):
        group = self.groups.get(month)
        if group is None:
            group = self.groups[month] = _Group(self.durations, self.count_names)
        for name, value in counts.items():
            group.counts[name] += value
        return group

    def figures(self, shares: tuple) -> dict:
        if not self.groups:
            return {}
        total = _Group(self.durations, self.count_names)
        for group in self.groups.values():
            for name in self.count_names:
                total.counts[name] += group.counts[name]
            for name in self.durations:
                group.runs[name].append(sorted(group.live[name]))
                total.runs[name] += group.runs[name]
        return {
            key: dict(group.counts)
            | {
                name: {share: percentile_of_runs(group.runs[name], share) for share in shares}
                for name in self.durations
            }
            for key, group in [*self.groups.items(), (None, total)]
        }


class _Group:
    # Shorter lists (a day's, the live ones) are sorted together into one run: bisecting
    # costs a step per run, sorting a few hundred values less.
    SHORT = 256

    def __init__(self, durations: tuple, counts: tuple):
        self.counts = dict.fromkeys(counts, 0)
        self.runs: dict[str, list] = {name: [] for name in durations}  # each sorted
        self.live: dict[str, list[int]] = {name: [] for name in durations}  # unsorted

    def add_run(self, name: str, run) -> None:
        if len(run) < self.SHORT:
            self.live[name] += run
        else:
            self.runs[name].append(run)


# Incidents: severity, response times, recurrence ---------------------------------------


def incidents_by_severity_by_month(period: Period, scope: Scope, viewer) -> list[dict]:
    """incidents_by_severity per UTC month of the start: [{"month", "SEV1", "SEV2", "SEV3",
    "total"}], one row per month the period touches."""
    rows = (
        incidents_started(period, scope, viewer)
        .order_by()
        .annotate(month=_month("started_at"))
        .values("month")
        .annotate(**_severity_counts())
    )
    found = {row["month"]: row for row in rows}
    empty = {f"SEV{sev}": 0 for sev in Severity.values} | {"total": 0}
    return [{"month": m} | found.get(m, empty) for m in period.months()]


RESPONSE_PHASES = {
    "detect": ("detected_at", "detection"),
    "mitigate": ("mitigated_at", "mitigation"),
    "resolve": ("resolved_at", "resolution"),
}


def response_durations() -> dict:
    """Time from the start to detection / mitigation / resolution: the incident's recorded
    time, else the first timeline event of that phase (at or after the start)."""
    durations = {}
    for name, (field, phase) in RESPONSE_PHASES.items():
        first_event = (
            TimelineEvent.objects.filter(
                incident=OuterRef("pk"), phase=phase, occurred_at__gte=OuterRef("started_at")
            )
            .order_by("occurred_at")
            .values("occurred_at")[:1]
        )
        moment = Coalesce(F(field), Subquery(first_event), output_field=DateTimeField())
        durations[name] = ExpressionWrapper(moment - F("started_at"), output_field=DurationField())
    return durations


def response_times(period: Period, scope: Scope, viewer, by_month: bool = False):
    """Median time to detect, mitigate and resolve (`response_durations`) of the incidents
    that started in the period: {"detect", "mitigate", "resolve"} → timedelta or None; with
    `by_month`, a list of {"month", ...} rows, one per month the period touches."""
    qs = incidents_started(period, scope, viewer)
    by = _month("started_at") if by_month else None
    found = duration_percentiles(qs, response_durations(), (0.5,), by=by)
    flat = {
        group: {name: values[0.5] for name, values in measures.items()}
        for group, measures in found.items()
    }
    empty = dict.fromkeys(RESPONSE_PHASES)
    if not by_month:
        return flat.get(None, empty)
    return [{"month": m} | flat.get(m, empty) for m in period.months()]


def incident_figures(period: Period, scope: Scope, viewer) -> dict:
    """What the dashboard shows of the incidents started in the period, from one read of
    them: {"severity": incidents_by_severity_by_month, "response": response_times,
    "response_months": response_times(by_month=True)} (tests hold them equal)."""
    counts = _severity_counts()
    if _figure_rollups_apply(scope, viewer):
        found = _incident_figures_rolled_up(period, scope, viewer)
    else:
        found = duration_percentiles(
            incidents_started(period, scope, viewer),
            response_durations(),
            (0.5,),
            by=_month("started_at"),
            counts=counts,
            total=True,
        )
    no_incidents = dict.fromkeys(counts, 0)
    no_times = dict.fromkeys(RESPONSE_PHASES)
    severity, times = {}, {}
    for group, row in found.items():
        severity[group] = {name: row.get(name) or 0 for name in counts}
        times[group] = no_times | {name: row[name][0.5] for name in RESPONSE_PHASES if name in row}
    months = period.months()
    return {
        "severity": [{"month": m} | severity.get(m, no_incidents) for m in months],
        "response": times.get(None, no_times),
        "response_months": [{"month": m} | times.get(m, no_times) for m in months],
    }


def _incident_figures_rolled_up(period: Period, scope: Scope, viewer) -> dict:
    """incident_figures' grouped figures (as duration_percentiles gives them): the public
    incidents from IncidentsMonth (whole months) and IncidentsDay (the days of the months the
    period cuts), the private ones the viewer may see live."""
    severities = [f"SEV{sev}" for sev in Severity.values]
    columns = [f"sev{sev}" for sev in Severity.values]
    groups = _Groups(tuple(RESPONSE_PHASES), (*severities, "total"))
    for month, *row in _rollup_rows(
        IncidentsMonth, IncidentsDay, period, (*columns, *RESPONSE_PHASES)
    ):
        counts = dict(zip(severities, row[: len(columns)], strict=True))
        group = groups.add(month, total=sum(counts.values()), **counts)
        for name, values in zip(RESPONSE_PHASES, row[len(columns) :], strict=True):
            group.add_run(name, values)
    # By id, as the postmortem figures: the rule as a filter tested every private incident
    # of the period (1,527 read for 5 kept over a year at scale 5).
    private = [] if viewer is PUBLIC_ONLY else _private_ids(scope, viewer)
    live = (
        Incident.objects.filter(pk__in=private)
        .filter(period.span("started_at"))
        .order_by()
        .annotate(_group=_month("started_at"), **response_durations())
        .values_list("_group", "severity", *RESPONSE_PHASES)
    )
    for month, severity, *durations in live if private else ():
        group = groups.add(month, total=1, **{f"SEV{severity}": 1})
        for name, duration in zip(RESPONSE_PHASES, durations, strict=True):
            if duration is not None:
                group.live[name].append(duration // MICROSECOND)
    return groups.figures((0.5,))


def recurrences(period: Period, scope: Scope, viewer) -> QuerySet[Incident]:
    """`repeat_incidents`, also annotated `after_fix`: an earlier incident it repeats had a
    prevention action item marked done before this one started, so the fix did not hold.
    "Marked done" is the item's completion time, or a recorded move to done, whichever is
    first (so an item reopened since still counts)."""
    return repeat_incidents(period, scope, viewer).annotate(after_fix=_has(REPEAT_AFTER_FIX))


def repeat_flags(period: Period, scope: Scope, viewer, only: str = "") -> list[dict]:
    """The repeat incidents of the period, oldest first, with their flags, from one query:
    [{"id", "same_pattern", "same_cause", "after_fix"}] (as recurrences() annotates them).
    `only`: as for `repeats`."""
    return [
        {
            "id": pk,
            "same_pattern": bool(bits & REPEAT_PATTERN),
            "same_cause": bool(bits & REPEAT_CAUSE),
            "after_fix": bool(bits & REPEAT_AFTER_FIX),
        }
        for pk, bits in repeats(period, scope, viewer, only).values_list("pk", "repeat_bits")
    ]


def recurrence_by_month(period: Period, scope: Scope, viewer) -> list[dict]:
    """Repeat incidents per UTC month of their start: [{"month", "repeats", "same_pattern",
    "after_fix"}], one row per month the period touches."""
    found: dict[date, dict] = {}
    for (month, bits), n in repeat_counts(period, scope, viewer).items():
        row = found.setdefault(month, {"repeats": 0, "same_pattern": 0, "after_fix": 0})
        row["repeats"] += n
        row["same_pattern"] += n if bits & REPEAT_PATTERN else 0
        row["after_fix"] += n if bits & REPEAT_AFTER_FIX else 0
    empty = {"repeats": 0, "same_pattern": 0, "after_fix": 0}
    return [{"month": m} | found.get(m, empty) for m in period.months()]


def repeats_count(
    period: Period, scope: Scope, viewer, only: str = "", judged: Judged | None = None
) -> int:
    """How many rows `repeats(period, scope, viewer, only)` has, from the day counts.
    `judged`: as for `repeats`."""
    counts = repeat_counts(period, scope, viewer, judged)
    kept = REPEATS_ONLY[only] if only else range(1, 8)
    return sum(n for (_, bits), n in counts.items() if bits in kept)


def repeat_counts(
    period: Period, scope: Scope, viewer, judged: Judged | None = None
) -> dict[tuple[date, int], int]:
    """The repeat incidents of `repeats(period, scope, viewer)` counted per (UTC month of
    their start, flags): {(month, flags): n}. `judged`: as for `repeats`.

    Where the rollups apply, from the stored day counts (RepeatsDay, summed whatever the
    number of incidents): an admin's flags are `repeats` and PUBLIC_ONLY's `public_repeats`
    of public incidents; anyone else's are `public_repeats` for the public incidents where
    both agree, plus those they judge for themselves (`judged_for`, few): the incidents
    where the two differ, and their private incidents."""
    if not _rollups_apply(scope, viewer):
        return _repeat_counts_live(repeats(period, scope, viewer, judged=judged))
    rows = RepeatsDay.objects.filter(team=scope.team, day__gte=period.start, day__lte=period.end)
    admin = viewer is not PUBLIC_ONLY and viewer.is_superuser
    stored = "repeats" if admin else "public_repeats"
    if viewer is PUBLIC_ONLY:
        rows = rows.filter(private=False)
    elif not admin:
        rows = rows.filter(private=False, repeats=F("public_repeats"))
    summed = (
        rows.filter(**{f"{stored}__gt": 0})
        .order_by()
        .values(month=TruncMonth("day", output_field=DateField()), bits=F(stored))
        .annotate(n=Sum("incidents"))
    )
    counts = Counter({(row["month"], row["bits"]): row["n"] for row in summed})
    if viewer is PUBLIC_ONLY or admin:
        return dict(counts)
    judged = judged_for(period, scope, viewer) if judged is None else judged
    for start, bits in judged.differ.values():
        if bits:
            counts[(_month_of(start), bits)] += 1
    for pk, start, _, team_id, flagged, public in judged.private:
        if pk in judged.differ or not flagged:
            continue  # counted above, or no repeat for anyone
        in_period = period.starts_at <= start < period.ends_before
        if in_period and (scope.team is None or team_id == scope.team.pk):
            counts[(_month_of(start), public)] += 1
    return dict(counts)


def _month_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date().replace(day=1)


def _repeat_counts_live(qs: QuerySet[Incident]) -> dict[tuple[date, int], int]:
    rows = (
        qs.order_by()
        .values(month=_month("started_at"), bits=F("repeat_bits"))
        .annotate(n=Count("pk"))
    )
    return {(row["month"], row["bits"]): row["n"] for row in rows}
