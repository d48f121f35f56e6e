"""The repeat flags stored per incident (Incident.repeats / public_repeats), kept in step.

An incident's flags depend on the incidents of the 12 months before it with the same pattern
or a shared service, their contributing factors and their prevention items. So a change to
one incident (its start, pattern, services, factors or items) can change its own flags and
those of later incidents sharing a key with it, before or after the change. Every such change
goes through a service that writes the audit trail (an entry naming the incident, with the
values before), so the trail's entries, plus many-to-many changes of services, say which
incidents to judge again; they are judged once, when the transaction commits.

This lives in `actions` because judging needs factors (postmortems) and items (actions); the
columns live on Incident, where the dashboard filters on them.

The flags are also counted per day (RepeatsDay, for the recurrence figure and the repeat
list): a day's rows are recounted from the incidents whenever a flag of an incident of that
day changes (in `judge`) or an incident moves in or out of it, or to another team or privacy
(the days before and after a change, in `refresh_pending`).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver

from audit.models import Entry
from incidents.models import Incident

from . import metrics
from .metrics import REPEAT_WINDOW, repeat_flag_rows
from .models import RepeatsDay

log = logging.getLogger(__name__)

# Models whose rows can change repeat flags (via their incident), and the fields that do so
# when edited (creating or deleting a row always may). Section edits, titles, owners and
# the like change no flag and trigger nothing.
WATCHED = {
    "incident": {"started_at", "pattern", "private", "services"},
    "postmortem": set(),
    "contributingfactor": {"category"},
    "actionitem": {"status", "completed_at", "leverage"},
}


# Incident fields that move an incident's counts to another team (without changing a flag).
COUNTED_ONLY = {"team", "team_id"}
RECOUNT_LOCK = 0x52455045  # pg_advisory_xact_lock key of the day recounts ("REPE")


@transaction.atomic
def judge(candidates: QuerySet[Incident], recount: bool = True) -> int:
    """Compute and store the flags of `candidates` (and, with `recount`, the day counts of
    those that changed); returns how many incidents changed."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The window's estimates trigger JIT, whose compile time (~4 s measured) dwarfs
            # the query (~0.3 s); as for the dashboard (actions.dashboard.views.analytics).
            cursor.execute("SET LOCAL jit = off")
    bounds = candidates.aggregate(first=Min("started_at"), last=Max("started_at"))
    if bounds["first"] is None:
        return 0
    seen = Incident.objects.filter(
        started_at__gte=bounds["first"] - REPEAT_WINDOW, started_at__lte=bounds["last"]
    )
    found = {pk: (bits, public) for pk, bits, public in repeat_flag_rows(candidates, seen)}
    changed: dict[tuple[int, int], list[int]] = {}
    days = set()
    for pk, start, *stored in candidates.values_list(
        "pk", "started_at", "repeats", "public_repeats"
    ):
        flags = found.get(pk, (0, 0))
        if flags != tuple(stored):
            changed.setdefault(flags, []).append(pk)
            days.add(_day(start))
    for (bits, public), ids in changed.items():
        for i in range(0, len(ids), 500):  # SQLite's limit on query parameters
            chunk = ids[i : i + 500]
            Incident.objects.filter(pk__in=chunk).update(repeats=bits, public_repeats=public)
    if recount:
        recount_days(days)
    return sum(len(ids) for ids in changed.values())


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _runs(days) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days: [(first, last)]."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


@transaction.atomic
def recount_days(days=None) -> int:
    """Recount the RepeatsDay rows of these UTC days (every day when None) from the stored
    flags; returns how many rows were written."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # One recount at a time: two commits recounting the same day at once would each
            # delete what the other had not yet written, then both insert (double counts).
            # Waiting here, the later one sees the earlier one's rows and changes.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RECOUNT_LOCK])
    rows, flagged = RepeatsDay.objects.all(), Incident.objects.filter(repeats__gt=0)
    if days is not None:
        runs = _runs(days)
        if not runs:
            return 0
        rows = rows.filter(_any(Q(day__range=run) for run in runs))
        # Day spans rather than the truncated day, so the started_at index finds them.
        flagged = flagged.filter(_any(metrics.Period(*run).span("started_at") for run in runs))
    rows.delete()
    keys = ("day", "private", "repeats", "public_repeats")
    flagged = flagged.order_by().annotate(day=TruncDate("started_at", tzinfo=UTC))
    counted = [
        *flagged.values("team_id", *keys).annotate(n=Count("pk")),
        *({"team_id": None} | row for row in flagged.values(*keys).annotate(n=Count("pk"))),
    ]
    RepeatsDay.objects.bulk_create(
        [
            RepeatsDay(team_id=r["team_id"], **{k: r[k] for k in keys}, incidents=r["n"])
            for r in counted
        ],
        batch_size=1000,
    )
    return len(counted)


def _any(conditions) -> Q:
    found = Q(pk__in=[])
    for condition in conditions:
        found |= condition
    return found


def rebuild_repeat_flags() -> str:
    """Judge every incident again (after bulk loading, which writes no audit trail), a
    calendar year of incidents at a time, then recount every day."""
    bounds = Incident.objects.aggregate(first=Min("started_at"), last=Max("started_at"))
    changed = 0
    if bounds["first"] is not None:
        for year in range(bounds["first"].year, bounds["last"].year + 1):
            changed += judge(Incident.objects.filter(started_at__year=year), recount=False)
    rows = recount_days()
    return f"repeat flags: {changed} incidents changed, {rows} day rows"


# --- Keeping them in step --------------------------------------------------------------------


class _Pending(threading.local):
    def __init__(self):
        self.incidents: set[int] = set()
        self.starts: list[datetime] = []
        self.patterns: set[str] = set()
        self.services: set[int] = set()
        self.counted: set[int] = set()  # incidents whose day counts move (team changes)


_pending = _Pending()


def _mark(incident_pk=None, *, start=None, pattern="", services=()) -> None:
    """Note what changed: an incident (as it is at commit), and keys it had before."""
    if incident_pk is not None:
        _pending.incidents.add(incident_pk)
    if start is not None:
        _pending.starts.append(start)
        if pattern:
            _pending.patterns.add(pattern)
    _pending.services.update(services)
    # Registered for every mark, cheaply: a rolled-back transaction drops its callback, and
    # its marks are then judged with the next commit (judging again is harmless).
    transaction.on_commit(refresh_pending)


def refresh_pending() -> int:
    """Judge again the incidents the changes since the last commit may have affected: the
    changed incidents, and those started within 12 months after them (before or after the
    change) with a pattern or a service they had (before or after)."""
    ids, starts = _pending.incidents, _pending.starts
    patterns, services, counted = _pending.patterns, _pending.services, _pending.counted
    _pending.__init__()
    if not ids and not starts and not counted:
        return 0
    days = {_day(start) for start in starts}  # before the changes (and deleted incidents)
    for pk, start, pattern in Incident.objects.filter(pk__in=ids | counted).values_list(
        "pk", "started_at", "pattern"
    ):
        days.add(_day(start))
        if pk not in ids:
            continue
        starts.append(start)
        if pattern:
            patterns.add(pattern)
    # The days whose incidents moved (in time, to a team, to or from private); judge()
    # recounts those whose flags change.
    recount_days(days)
    if not ids and not starts:
        return 0
    services.update(
        Incident.services.through.objects.filter(incident_id__in=ids).values_list(
            "service_id", flat=True
        )
    )
    keys = Q(pattern__in=patterns) | Q(services__in=services)
    later = Q(started_at__gte=min(starts), started_at__lte=max(starts) + REPEAT_WINDOW) & keys
    # Named by id: the planner drives the window from a list it can count (a subquery it
    # misjudges made this 30 times slower).
    affected = list(Incident.objects.filter(Q(pk__in=ids) | later).values_list("pk", flat=True))
    return judge(Incident.objects.filter(pk__in=set(affected)))


def _changes(entry: Entry) -> dict:
    return (entry.changes if isinstance(entry.changes, dict) else entry.changes_dict) or {}


def _before(entry: Entry, field: str):
    change = _changes(entry).get(field)
    if isinstance(change, list | tuple) and change and change[0] not in (None, "None"):
        return change[0]
    return None


@receiver(post_save, sender=Entry)
def _trail_entry(sender, instance: Entry, created: bool, raw=False, **kwargs):
    if raw or not created or instance.incident_pk is None:
        return
    fields = WATCHED.get(instance.content_type.model)
    if fields is None or instance.action == Entry.Action.ACCESS:
        return
    if instance.action == Entry.Action.UPDATE and not fields & set(_changes(instance)):
        if instance.content_type.model == "incident" and COUNTED_ONLY & set(_changes(instance)):
            _pending.counted.add(instance.incident_pk)
            transaction.on_commit(refresh_pending)
        return
    start = None
    if instance.content_type.model == "incident":
        try:
            # The trail keeps times as naive UTC text.
            start = datetime.fromisoformat(str(_before(instance, "started_at")))
        except (TypeError, ValueError):
            start = None
        if start is not None and start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
    _mark(instance.incident_pk, start=start, pattern=_before(instance, "pattern") or "")


@receiver(m2m_changed, sender=Incident.services.through)
def _services_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("pre_remove", "post_add", "pre_clear"):
        return
    if reverse:  # service.incidents.add(...): the incidents changed
        if pk_set is None:
            pk_set = set(instance.incidents.values_list("pk", flat=True))
        for pk in pk_set:
            _mark(pk, services=[instance.pk])
        return
    if pk_set is None:  # clear(): the services it has now
        pk_set = set(instance.services.values_list("pk", flat=True))
    _mark(instance.pk, start=instance.started_at, pattern=instance.pattern, services=pk_set)


@receiver(pre_delete, sender=Incident)
def _incident_deleted(sender, instance: Incident, **kwargs):
    services = instance.services.values_list("pk", flat=True)
    _mark(start=instance.started_at, pattern=instance.pattern, services=list(services))
