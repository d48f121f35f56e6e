"""The dashboard's rollups of incidents and postmortems (IncidentsDay, IncidentsMonth,
PostmortemsDay, PostmortemsMonth), kept in step.

The base rows are per team and (UTC) day: a team's PUBLIC incidents started that day (counts
by severity, sorted response durations), or the postmortems of its public incidents published
that day (counts, sorted cycle times). The organisation's rows (no team) merge the teams' rows
of a day; the month rows merge a month's day rows. So a year of the organisation reads a dozen
month rows, and the days of the months a period cuts read day rows.

What a base row depends on: the incident's start, times, severity, team and privacy; its
timeline (a phase's first event stands in for a missing time); its postmortem's status and
publication; the postmortem's prevention items. A change to any of these notes the incident
(saves and deletions directly; service edits, which update rows in place, and bulk-added
timeline events through their audit-trail entry, as actions.rollups does). When the
transaction commits, the team-days it falls in now and fell in before (every team's, when its
team changed) are counted again from the base tables, then the organisation's rows and the
month rows of those days are merged again. Idempotent and self-correcting; `manage.py
rebuild_rollups` recounts everything (after a bulk load).
"""

from __future__ import annotations

import heapq
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.db.models.signals import post_migrate, post_save, pre_delete, pre_save
from django.dispatch import receiver

from audit.models import Entry
from incidents.models import Incident, Severity, TimelineEvent
from postmortems.models import PUBLISH_WITHIN, Postmortem

from . import metrics
from .models import (
    ActionItem,
    IncidentsDay,
    IncidentsMonth,
    PostmortemsDay,
    PostmortemsMonth,
    pack_durations,
    unpack_durations,
)
from .rollups import _month_days

BATCH = 1000
MICROSECOND, EPOCH = metrics.MICROSECOND, metrics.EPOCH
PHASES = tuple(metrics.RESPONSE_PHASES)  # detect, mitigate, resolve
PUBLISHED = Postmortem.Status.PUBLISHED
SEVERITIES = tuple(f"sev{sev}" for sev in Severity.values)


@dataclass(frozen=True)
class Kind:
    """One family of rows: its models, its counted columns and its sorted lists."""

    day_model: type[models.Model]
    month_model: type[models.Model]
    counts: tuple[str, ...]
    lists: tuple[str, ...]

    def empty(self) -> dict:
        return dict.fromkeys(self.counts, 0) | {name: [] for name in self.lists}

    def merged(self, rows: list[dict]) -> dict:
        found = self.empty()
        for row in rows:
            for name in self.counts:
                found[name] += row[name]
        for name in self.lists:
            found[name] = list(heapq.merge(*(row[name] for row in rows)))
        return found

    def values(self) -> tuple[str, ...]:
        return (*self.counts, *self.lists)


INCIDENTS = Kind(IncidentsDay, IncidentsMonth, SEVERITIES, (*PHASES, "owed"))
POSTMORTEMS = Kind(
    PostmortemsDay, PostmortemsMonth, ("published", "without_prevention", "within"), ("cycle",)
)
KINDS = (INCIDENTS, POSTMORTEMS)


def _micros(duration: timedelta) -> int:
    return duration // MICROSECOND


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _incident_days(incidents: QuerySet[Incident]) -> dict[tuple, dict]:
    """{(team id, day): figures} of the public incidents among `incidents`."""
    rows: dict[tuple, dict] = defaultdict(INCIDENTS.empty)
    owing = Incident.objects.owing_postmortem().filter(pk=OuterRef("pk"))
    values = (
        incidents.filter(private=False)
        .order_by()
        .annotate(
            _day=TruncDate("started_at", tzinfo=UTC),
            _owing=Exists(owing),
            **metrics.response_durations(),
        )
        .values_list("team_id", "_day", "severity", "_owing", "resolved_at", *PHASES)
    )
    for team_id, day, severity, owing, resolved_at, *durations in values:
        row = rows[(team_id, day)]
        if f"sev{severity}" in row:
            row[f"sev{severity}"] += 1
        for phase, duration in zip(PHASES, durations, strict=True):
            if duration is not None:
                row[phase].append(_micros(duration))
        if owing and resolved_at is not None:
            row["owed"].append(_micros(resolved_at - EPOCH))
    return rows


def _postmortem_days(postmortems: QuerySet[Postmortem]) -> dict[tuple, dict]:
    """{(team id, day): figures} of the published postmortems of public incidents."""
    rows: dict[tuple, dict] = defaultdict(POSTMORTEMS.empty)
    values = (
        postmortems.filter(status=Postmortem.Status.PUBLISHED, incident__private=False)
        .order_by()
        .annotate(
            _day=TruncDate("published_at", tzinfo=UTC),
            _cycle=F("published_at") - F("incident__resolved_at"),
            _prevented=Exists(metrics._prevention_items()),
        )
        .values_list("incident__team_id", "_day", "_cycle", "_prevented")
    )
    for team_id, day, cycle, prevented in values:
        row = rows[(team_id, day)]
        row["published"] += 1
        row["without_prevention"] += not prevented
        if cycle is not None:
            row["cycle"].append(_micros(cycle))
            row["within"] += cycle <= PUBLISH_WITHIN
    return rows


def _sorted(rows: dict[tuple, dict], kind: Kind) -> dict[tuple, dict]:
    for row in rows.values():
        for name in kind.lists:
            row[name].sort()
    return rows


def _grouped(rows: dict[tuple, dict], key, kind: Kind) -> dict[tuple, dict]:
    """The rows merged per `key((team id, day))`."""
    groups: dict[tuple, list] = defaultdict(list)
    for row_key, row in rows.items():
        groups[key(row_key)].append(row)
    return {group: kind.merged(members) for group, members in groups.items()}


def _insert(kind: Kind, model, field: str, rows: dict[tuple, dict]) -> int:
    model.objects.bulk_create(
        [
            model(team_id=team_id, **{field: when}, **_packed(kind, row))
            for (team_id, when), row in rows.items()
        ],
        batch_size=BATCH,
    )
    return len(rows)


def _packed(kind: Kind, row: dict) -> dict:
    return row | {name: pack_durations(row[name]) for name in kind.lists}


def _month_of(day: date) -> date:
    return day.replace(day=1)


def _write(kind: Kind, team_days: dict[tuple, dict]) -> int:
    """Insert `team_days` and everything merged from them: the organisation's days, the teams'
    and the organisation's months (callers delete those rows first)."""
    org_days = _grouped(team_days, _org, kind)
    team_months = _grouped(team_days, _by_month, kind)
    org_months = _grouped(org_days, _by_month, kind)
    days = _insert(kind, kind.day_model, "day", team_days | org_days)
    return days + _insert(kind, kind.month_model, "month", team_months | org_months)


@transaction.atomic
def rebuild() -> int:
    """Recount every row from the incidents and postmortems; returns how many were written."""
    written = 0
    for kind, base in ((INCIDENTS, _incident_days), (POSTMORTEMS, _postmortem_days)):
        kind.day_model.objects.all().delete()
        kind.month_model.objects.all().delete()
        written += _write(kind, _sorted(base(_all(kind)), kind))
    return written


def _all(kind: Kind) -> QuerySet:
    return Incident.objects.all() if kind is INCIDENTS else Postmortem.objects.all()


@receiver(post_migrate)
def _fill_after_upgrade(sender, app_config, using=DEFAULT_DB_ALIAS, **kwargs):
    """The migration that adds these tables leaves them empty: fill them once, so an upgraded
    dashboard never shows an organisation's incidents as none (a minute per 100,000)."""
    if app_config.label != "actions" or using != DEFAULT_DB_ALIAS:
        return
    if not IncidentsMonth.objects.exists() and Incident.objects.exists():
        rebuild()


def rebuild_figure_rollups() -> str:
    """Recount everything (after bulk loading, which writes no audit trail)."""
    return f"incident and postmortem rollups: {rebuild()} rows"


def _day_spans(days, field: str) -> Q:
    spans = Q(pk__in=[])
    for day in days:
        spans |= metrics.Period(day, day).span(field)
    return spans


@transaction.atomic
def recount(days: dict[date, set[int] | None]) -> int:
    """Recount these days' rows of these teams (None: every team), then the organisation's
    rows of those days and the month rows of those days' months."""
    if not days:
        return 0
    written = 0
    for kind in KINDS:
        written += _recount(kind, days)
    return written


def _recount(kind: Kind, days: dict[date, set[int] | None]) -> int:
    field, team = (
        ("started_at", "team_id") if kind is INCIDENTS else ("published_at", "incident__team_id")
    )
    # The teams' rows of the days, counted again from the base table.
    stale, source = Q(pk__in=[]), Q(pk__in=[])
    for day, teams in days.items():
        if teams is None:
            stale |= Q(day=day, team__isnull=False)
            source |= _day_spans([day], field)
        else:
            stale |= Q(day=day, team_id__in=teams)
            source |= _day_spans([day], field) & Q(**{f"{team}__in": teams})
    kind.day_model.objects.filter(stale).delete()
    base = _incident_days if kind is INCIDENTS else _postmortem_days
    fresh = _sorted(base(_all(kind).filter(source)), kind)
    _insert(kind, kind.day_model, "day", fresh)
    # Merged again from the day rows: the organisation's days, then the months.
    touched = set(days)
    kind.day_model.objects.filter(day__in=touched, team__isnull=True).delete()
    org_days = _grouped(_read(kind, Q(day__in=touched)), _org, kind)
    _insert(kind, kind.day_model, "day", org_days)
    months = {_month_of(day) for day in touched}
    in_months = _month_days(months, "day")
    if any(teams is None for teams in days.values()):
        of_teams = Q()
    else:
        of_teams = Q(team_id__in={key[0] for key in fresh}.union(*days.values()))
    stale_months = kind.month_model.objects.filter(month__in=months)
    if of_teams:  # (an empty Q would vanish from the OR below)
        stale_months = stale_months.filter(of_teams | Q(team__isnull=True))
    stale_months.delete()
    month_rows = _grouped(_read(kind, in_months & of_teams), _by_month, kind) | _grouped(
        _read(kind, in_months, org=True), _by_month, kind
    )
    _insert(kind, kind.month_model, "month", month_rows)
    return len(fresh) + len(org_days) + len(month_rows)


def _org(key: tuple) -> tuple:
    return (None, key[1])


def _by_month(key: tuple) -> tuple:
    return (key[0], _month_of(key[1]))


def _read(kind: Kind, where: Q, org: bool = False) -> dict[tuple, dict]:
    """Stored day rows, the teams' (or the organisation's), as {(team id, day): figures}."""
    rows = kind.day_model.objects.filter(where, team__isnull=org).values_list(
        "team_id", "day", *kind.values()
    )
    found = {}
    for team_id, day, *values in rows:
        row = dict(zip(kind.values(), values, strict=True))
        found[(team_id, day)] = row | {name: unpack_durations(row[name]) for name in kind.lists}
    return found


# --- Keeping them in step --------------------------------------------------------------------

# What an audit-trail entry must change to move a row (creating or deleting always may).
WATCHED = {
    "incident": {
        "started_at",
        "detected_at",
        "mitigated_at",
        "resolved_at",
        "severity",
        "private",
        "team",
        "team_id",
        "timeline",
        "status",
        "postmortem_requirement",
    },
    "timelineevent": {"occurred_at", "phase"},
    "postmortem": {"status", "published_at"},
    "actionitem": {"leverage", "status"},
}
MOVES_TEAM = {"team", "team_id"}


class _Pending(threading.local):
    def __init__(self):
        self.incidents: set[int] = set()  # their days now, for their team
        self.moved: set[int] = set()  # their days now, for every team (the team changed)
        self.days: dict[date, set[int] | None] = {}  # days before; None: every team


_pending = _Pending()


def _on_commit() -> None:
    # As in actions.rollups: a rolled-back transaction drops its callback, and its marks are
    # then recounted with the next commit (recounting again is harmless: the first call
    # takes every mark, the others find none).
    transaction.on_commit(refresh_pending)


def _mark(incident_pk: int, moved: bool = False) -> None:
    (_pending.moved if moved else _pending.incidents).add(incident_pk)
    _on_commit()


def _add(days: dict, moment: datetime | None, team_id: int | None) -> None:
    if moment is None:
        return
    day = _day(moment)
    teams = days.get(day, set())
    if teams is not None:
        days[day] = None if team_id is None else teams | {team_id}


def _mark_day(moment: datetime | None, team_id: int | None) -> None:
    """A day an incident or postmortem was counted in (team None: every team's row)."""
    _add(_pending.days, moment, team_id)
    _on_commit()


def _mark_rows_of(incident_pk: int) -> None:
    """The days an incident (as stored) counts in, for its team."""
    stored = Incident.objects.filter(pk=incident_pk).values_list(
        "team_id", "started_at", "postmortem__published_at"
    )
    for team_id, started_at, published_at in stored:
        _mark_day(started_at, team_id)
        _mark_day(published_at, team_id)


def refresh_pending() -> int:
    """Recount the days the changes since the last commit touched."""
    ids, moved, days = _pending.incidents, _pending.moved, _pending.days
    _pending.__init__()
    rows = Incident.objects.filter(pk__in=ids | moved).values_list(
        "pk", "team_id", "started_at", "postmortem__published_at"
    )
    for pk, team_id, started_at, published_at in rows:
        team = None if pk in moved else team_id
        _add(days, started_at, team)
        _add(days, published_at, team)
    return recount(days)


@receiver(pre_save, sender=Incident)
def _incident_saving(sender, instance: Incident, raw=False, **kwargs):
    # The days and team it had: a save may change either.
    if not raw and instance.pk is not None:
        _mark_rows_of(instance.pk)


@receiver(post_save, sender=Incident)
def _incident_saved(sender, instance: Incident, raw=False, **kwargs):
    if not raw:
        _mark(instance.pk)


@receiver(pre_delete, sender=Incident)
def _incident_deleted(sender, instance: Incident, **kwargs):
    _mark_rows_of(instance.pk)


@receiver(post_save, sender=TimelineEvent)
def _event_saved(sender, instance: TimelineEvent, raw=False, **kwargs):
    if not raw:
        _mark(instance.incident_id)


@receiver(pre_delete, sender=TimelineEvent)
def _event_deleted(sender, instance: TimelineEvent, **kwargs):
    _mark(instance.incident_id)


def _mark_publication_of(postmortem_pk) -> bool:
    """The day a stored postmortem counts in, if it is published; whether it is."""
    before = Postmortem.objects.filter(pk=postmortem_pk, status=PUBLISHED).values_list(
        "published_at", "incident__team_id"
    )
    for published_at, team_id in before:
        _mark_day(published_at, team_id)
        return True
    return False


@receiver(pre_save, sender=Postmortem)
def _postmortem_saving(sender, instance: Postmortem, raw=False, **kwargs):
    # Only published postmortems are counted: drafting and review move no row.
    if not raw and instance.pk is not None:
        instance._counted_before = _mark_publication_of(instance.pk)


@receiver(post_save, sender=Postmortem)
def _postmortem_saved(sender, instance: Postmortem, raw=False, **kwargs):
    if not raw and (instance.status == PUBLISHED or getattr(instance, "_counted_before", False)):
        _mark(instance.incident_id)


@receiver(pre_delete, sender=Postmortem)
def _postmortem_deleted(sender, instance: Postmortem, **kwargs):
    _mark_publication_of(instance.pk)


@receiver(post_save, sender=ActionItem)
@receiver(pre_delete, sender=ActionItem)
def _item_changed(sender, instance: ActionItem, raw=False, **kwargs):
    # Whether its (published) postmortem has a prevention item may change.
    if not raw:
        published = Postmortem.objects.filter(pk=instance.postmortem_id, status=PUBLISHED)
        for row in published.values("incident_id"):
            _mark(row["incident_id"])


@receiver(post_save, sender=Entry)
def _trail_entry(sender, instance: Entry, created: bool, raw=False, **kwargs):
    """Edits through the services (rows updated in place) and bulk-added timeline events."""
    if raw or not created or instance.incident_pk is None:
        return
    model = instance.content_type.model
    fields = WATCHED.get(model)
    if fields is None or instance.action == Entry.Action.ACCESS:
        return
    changes = instance.changes if isinstance(instance.changes, dict) else None
    changes = changes or instance.changes_dict or {}
    if instance.action == Entry.Action.UPDATE and not fields & set(changes):
        return
    if model == "postmortem" and not _publication_changed(changes):
        return  # a draft sent for review, or the like
    _mark(instance.incident_pk, moved=model == "incident" and bool(MOVES_TEAM & set(changes)))
    # The day it was counted in before a move in time: every team's row of it (the team then
    # is not known here; a day's recount is one small grouped query).
    for field in ("started_at", "published_at"):
        _mark_day(_moment(changes.get(field)), None)


def _publication_changed(changes: dict) -> bool:
    status = changes.get("status")
    moved = isinstance(status, list | tuple) and PUBLISHED in [str(value) for value in status]
    return moved or "published_at" in changes


def _moment(change) -> datetime | None:
    """The time before a change, as the trail keeps it (naive UTC text)."""
    if not isinstance(change, list | tuple) or not change or change[0] in (None, "None"):
        return None
    try:
        moment = datetime.fromisoformat(str(change[0]))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _before_read() -> None:
    """Changes of this transaction not yet committed (a service that writes, then reads the
    dashboard; tests) are counted before the rows are read. Nothing pending: no query."""
    if _pending.incidents or _pending.moved or _pending.days:
        refresh_pending()


metrics.BEFORE_ROLLUP_READ.append(_before_read)
