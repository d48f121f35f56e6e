"""The dashboard's per-day rollups (ItemsDueDay, OpenItemsDue, ItemsCreatedDay), kept in step.

They count the action items of PUBLIC incidents per team (and day, owner, priority...), so a
team's rows depend only on that team's public incidents' items. A change to an item, an
incident's privacy or team, or a deletion goes through a service that writes the audit trail
(an entry naming the incident), or deletes rows (signals below); the teams they touch are
rebuilt from the base tables once, when the transaction commits: idempotent and
self-correcting (a missed change is mended by the next change to the team, or by
`manage.py rebuild_rollups`). The pattern of actions.repeats.
"""

from __future__ import annotations

import threading
from datetime import UTC

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from audit.models import Entry
from incidents.models import Incident, Team
from postmortems.models import Postmortem

from . import metrics
from .metrics import completion_counts, item_mix_counts, judged_items
from .models import ActionItem, ItemsCreatedDay, ItemsDueDay, OpenItemsDue

ROLLUPS = (ItemsDueDay, OpenItemsDue, ItemsCreatedDay)
# Incident fields whose change moves items in or out of a team's public counts.
INCIDENT_FIELDS = {"private", "team", "team_id"}
BATCH = 1000


def _public_items(team_ids) -> QuerySet[ActionItem]:
    qs = ActionItem.objects.filter(postmortem__incident__private=False)
    if team_ids is not None:
        qs = qs.filter(postmortem__incident__team_id__in=team_ids)
    return qs.order_by()


@transaction.atomic
def rebuild(team_ids=None) -> int:
    """Recount the rollup rows of `team_ids` (every team when None) from the items; returns
    how many rows were written."""
    if team_ids is not None:
        team_ids = list(team_ids)
        if not team_ids:
            return 0
    for model in ROLLUPS:
        rows = model.objects.all()
        (rows.filter(team_id__in=team_ids) if team_ids is not None else rows).delete()
    team = F("postmortem__incident__team_id")
    items = _public_items(team_ids)
    due = judged_items(items).values(team_pk=team, day=F("due_on")).annotate(**completion_counts())
    opened = (
        items.open()
        .values(team_pk=team, owner_pk=F("owner_id"), day=F("due_on"))
        .annotate(**{"n": completion_counts()["due"]})
    )
    created = (
        items.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "priority", "leverage", team_pk=team)
        .annotate(**item_mix_counts())
    )
    objects = (
        [
            ItemsDueDay(
                team_id=r["team_pk"],
                due_on=r["day"],
                due=r["due"],
                on_time=r["on_time"],
                due_moved=r["due_moved"],
            )
            for r in due
        ],
        [
            OpenItemsDue(team_id=r["team_pk"], owner_id=r["owner_pk"], due_on=r["day"], open=r["n"])
            for r in opened
        ],
        [
            ItemsCreatedDay(
                team_id=r["team_pk"],
                created_on=r["day"],
                priority=r["priority"],
                leverage=r["leverage"],
                created=r["created"],
                open=r["open"],
                done=r["done"],
                dropped=r["dropped"],
            )
            for r in created
        ],
    )
    for model, rows in zip(ROLLUPS, objects, strict=True):
        model.objects.bulk_create(rows, batch_size=BATCH)
    return sum(len(rows) for rows in objects)


def rebuild_dashboard_rollups() -> str:
    """Recount every team's rollups (after bulk loading, which writes no audit trail)."""
    return f"dashboard rollups: {rebuild()} rows"


# --- Keeping them in step --------------------------------------------------------------------


class _Pending(threading.local):
    def __init__(self):
        self.incidents: set[int] = set()
        self.teams: set[int] = set()
        self.everything = False


_pending = _Pending()


def _mark(incident_pk=None, team_pk=None, everything=False) -> None:
    if incident_pk is not None:
        _pending.incidents.add(incident_pk)
    if team_pk is not None:
        _pending.teams.add(team_pk)
    _pending.everything |= everything
    # As in actions.repeats: a rolled-back transaction drops its callback, and its marks are
    # then rebuilt with the next commit (rebuilding again is harmless).
    transaction.on_commit(refresh_pending)


def refresh_pending() -> int:
    """Rebuild the teams the changes since the last commit touched."""
    incidents, teams, everything = _pending.incidents, _pending.teams, _pending.everything
    if not (incidents or teams or everything):
        return 0
    _pending.__init__()
    if everything:
        return rebuild()
    teams |= set(Incident.objects.filter(pk__in=incidents).values_list("team_id", flat=True))
    return rebuild(teams)


@receiver(post_save, sender=Entry)
def _trail_entry(sender, instance: Entry, created: bool, raw=False, **kwargs):
    if raw or not created or instance.incident_pk is None:
        return
    if instance.action == Entry.Action.ACCESS:
        return
    model = instance.content_type.model
    if model == "actionitem":
        _mark(instance.incident_pk)
    elif model == "incident" and instance.action == Entry.Action.UPDATE:
        changes = instance.changes if isinstance(instance.changes, dict) else None
        changes = changes or instance.changes_dict or {}
        changed = INCIDENT_FIELDS & set(changes)
        if not changed:
            return
        if changed - {"private"}:
            # A team change leaves the old team's rows stale too. The trail names the team
            # it had (names are unique); failing that, every team is recounted (rare).
            before = changes.get("team") or changes.get("team_id")
            old = before[0] if isinstance(before, list | tuple) and before else None
            teams = Team.objects.filter(Q(name=str(old)) | Q(pk=_int(old))).values("pk")
            old_team = next(iter(teams), {}).get("pk")
            if old_team is None:
                _mark(instance.incident_pk, everything=True)
                return
            _mark(team_pk=old_team)
        _mark(instance.incident_pk)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@receiver(pre_delete, sender=Incident)
def _incident_deleted(sender, instance: Incident, **kwargs):
    _mark(team_pk=instance.team_id)


@receiver(pre_delete, sender=Postmortem)
def _postmortem_deleted(sender, instance: Postmortem, **kwargs):
    _mark(instance.incident_id)


@receiver(pre_delete, sender=ActionItem)
def _item_deleted(sender, instance: ActionItem, **kwargs):
    _mark(instance.postmortem.incident_id)


@receiver(post_save, sender=ActionItem)
def _item_saved(sender, instance: ActionItem, raw=False, **kwargs):
    # Saves that bypass the services (fixtures, scripts, the admin) count too.
    if not raw:
        _mark(instance.postmortem.incident_id)


@receiver(post_save, sender=Incident)
def _incident_saved(sender, instance: Incident, created: bool, raw=False, **kwargs):
    if not raw and not created:  # a new incident has no items yet
        _mark(instance.pk)


def _before_read() -> None:
    """Changes of this transaction not yet committed (a service that writes, then reads the
    dashboard; tests) are counted before the rollups are read. Nothing pending: no query."""
    refresh_pending()


metrics.BEFORE_ROLLUP_READ.append(_before_read)
