"""The dashboard's per-day rollups (ItemsDueDay, OpenItemsDue, ItemsCreatedDay; ItemsDueMonth,
OpenItemsMonth and ItemsCreatedMonth sum them per month), kept in step.

They count the action items of PUBLIC incidents per team and day (due day; created day for
the mix). A change to an item touches its team's rows of its due days (before and after) and
of its created day; an incident's privacy or team change, or a deletion, those of all its
items (in the old team too). ItemsDue* and ItemsCreated* also have the organisation's rows (no
team), the sums of the teams' rows of the same key: those of the days (and months) whose team
rows were recounted are summed again after them. The keys are noted as changes happen (item
saves and deletions; incident edits, which update rows directly, through their audit-trail
entry, as actions.repeats does) and their rows recounted from the base tables once, when the
transaction commits: idempotent and self-correcting. `manage.py rebuild_rollups` recounts
everything (after a bulk load, which bypasses all this).
"""

from __future__ import annotations

import threading
from datetime import UTC

from django.db import connection, transaction
from django.db.models import F, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.db.models.signals import post_save, pre_delete, pre_save
from django.dispatch import receiver

from audit.models import Entry
from incidents.models import Incident, Team
from postmortems.models import Postmortem

from . import metrics
from .metrics import completion_counts, item_mix_counts, judged_items
from .models import (
    ActionItem,
    ItemsCreatedDay,
    ItemsCreatedMonth,
    ItemsDueDay,
    ItemsDueMonth,
    OpenItemsDue,
    OpenItemsMonth,
)

DAY_ROLLUPS = (ItemsDueDay, OpenItemsDue, ItemsCreatedDay)
MONTH_ROLLUPS = (ItemsDueMonth, OpenItemsMonth, ItemsCreatedMonth)  # sums of the day rows
ROLLUPS = (*DAY_ROLLUPS, *MONTH_ROLLUPS)
# Incident fields whose change moves items in or out of a team's public counts.
INCIDENT_FIELDS = {"private", "team", "team_id"}
BATCH = 1000
TEAM = F("postmortem__incident__team_id")
RECOUNT_LOCK = 0x524F4C4C  # pg_advisory_xact_lock key of the recounts ("ROLL")


def _public_items() -> QuerySet[ActionItem]:
    return ActionItem.objects.filter(postmortem__incident__private=False).order_by()


def _created_day(qs: QuerySet[ActionItem]) -> QuerySet[ActionItem]:
    return qs.annotate(day=TruncDate("created_at", tzinfo=UTC))


def _write(due: QuerySet, opened: QuerySet, created: QuerySet) -> int:
    """Insert the rows of the three grouped queries; returns how many."""
    objects = (
        [
            ItemsDueDay(
                team_id=r["team_pk"],
                due_on=r["day"],
                due=r["due"],
                on_time=r["on_time"],
                due_moved=r["due_moved"],
            )
            for r in due.values(team_pk=TEAM, day=F("due_on")).annotate(**completion_counts())
        ],
        [
            OpenItemsDue(team_id=r["team_pk"], owner_id=r["owner_pk"], due_on=r["day"], open=r["n"])
            for r in opened.open()
            .values(team_pk=TEAM, owner_pk=F("owner_id"), day=F("due_on"))
            .annotate(n=completion_counts()["due"])
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
            for r in created.values("day", "priority", "leverage", team_pk=TEAM).annotate(
                **item_mix_counts()
            )
        ],
    )
    for model, rows in zip(DAY_ROLLUPS, objects, strict=True):
        model.objects.bulk_create(rows, batch_size=BATCH)
    return sum(len(rows) for rows in objects)


def _write_months(months: Q, created_months: Q) -> int:
    """Insert the ItemsDueMonth and OpenItemsMonth rows summing the day rows `months` (a
    filter on `team_id` and `due_on` covering whole months) selects, and the
    ItemsCreatedMonth rows summing those `created_months` (on `team_id` and `created_on`)
    selects."""
    by_month = {"month": TruncMonth("due_on")}
    due = [
        ItemsDueMonth(team_id=r["team_id"], month=r["month"], **{n: r[f"sum_{n}"] for n in DUE})
        for r in ItemsDueDay.objects.filter(months, team__isnull=False)
        .order_by()
        .values("team_id", **by_month)
        .annotate(**metrics.summed(DUE))
    ]
    opened = [
        OpenItemsMonth(team_id=r["team_id"], month=r["month"], open=r["n"], first_due=r["first"])
        for r in OpenItemsDue.objects.filter(months)
        .order_by()
        .values("team_id", **by_month)
        .annotate(n=Sum("open"), first=Min("due_on"))
    ]
    created = [
        ItemsCreatedMonth(
            team_id=r["team_id"],
            month=r["month"],
            priority=r["priority"],
            leverage=r["leverage"],
            **{n: r[f"sum_{n}"] for n in metrics.MIX_COUNTS},
        )
        for r in ItemsCreatedDay.objects.filter(created_months, team__isnull=False)
        .order_by()
        .values("team_id", "priority", "leverage", month=TruncMonth("created_on"))
        .annotate(**metrics.summed(metrics.MIX_COUNTS))
    ]
    ItemsDueMonth.objects.bulk_create(due, batch_size=BATCH)
    OpenItemsMonth.objects.bulk_create(opened, batch_size=BATCH)
    ItemsCreatedMonth.objects.bulk_create(created, batch_size=BATCH)
    return len(due) + len(opened) + len(created)


DUE = ("due", "on_time", "due_moved")
# The rollups with rows for the whole organisation (no team): their key beside the team, and
# their counts.
ORG_WIDE = {
    ItemsDueDay: (("due_on",), DUE),
    ItemsDueMonth: (("month",), DUE),
    ItemsCreatedDay: (("created_on", "priority", "leverage"), metrics.MIX_COUNTS),
    ItemsCreatedMonth: (("month", "priority", "leverage"), metrics.MIX_COUNTS),
}


def _write_org(model, where: Q) -> int:
    """Replace the organisation's rows of `model` that `where` selects by the sums of the
    teams' rows it selects; returns how many were written."""
    keys, counts = ORG_WIDE[model]
    model.objects.filter(where, team__isnull=True).delete()
    summed = (
        model.objects.filter(where, team__isnull=False)
        .order_by()
        .values(*keys)
        .annotate(**metrics.summed(counts))
    )
    rows = [
        model(team=None, **{k: r[k] for k in keys}, **{n: r[f"sum_{n}"] for n in counts})
        for r in summed
    ]
    model.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def _recount_org(due_days=None, created_days=None) -> int:
    """The organisation's rows of these due days and created days (None: every day) and of
    their months, summed again from the teams' rows (recounted first)."""
    if due_days is None or created_days is None:
        return sum(_write_org(model, Q()) for model in ORG_WIDE)
    months = {day.replace(day=1) for day in due_days}
    created_months = {day.replace(day=1) for day in created_days}
    return (
        _write_org(ItemsDueDay, Q(due_on__in=due_days))
        + _write_org(ItemsDueMonth, Q(month__in=months))
        + _write_org(ItemsCreatedDay, Q(created_on__in=created_days))
        + _write_org(ItemsCreatedMonth, Q(month__in=created_months))
    )


def _one_at_a_time() -> None:
    """One recount at a time (PostgreSQL; SQLite writes one transaction at a time anyway):
    two commits recounting the same day at once would each delete what the other had not yet
    written, then both insert (a unique key error, or an organisation's row summed without
    the other's teams' rows). Waiting here, the later one sees the earlier one's rows, as in
    actions.repeats."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RECOUNT_LOCK])


def _days_of(team_ids: list) -> tuple[set, set]:
    """The due days and created days of these teams' rows."""
    due = ItemsDueDay.objects.filter(team_id__in=team_ids).order_by()
    created = ItemsCreatedDay.objects.filter(team_id__in=team_ids).order_by()
    return (
        set(due.values_list("due_on", flat=True).distinct()),
        set(created.values_list("created_on", flat=True).distinct()),
    )


@transaction.atomic
def rebuild(team_ids=None) -> int:
    """Recount every rollup row of `team_ids` (every team when None) from the items, and the
    organisation's rows of the days they had or have now; returns how many rows were
    written."""
    _one_at_a_time()
    items = _public_items()
    if team_ids is not None:
        team_ids = list(team_ids)
        if not team_ids:
            return 0
        items = items.filter(postmortem__incident__team_id__in=team_ids)
        had_due, had_created = _days_of(team_ids)
    for model in ROLLUPS:
        rows = model.objects.all()
        (rows.filter(team_id__in=team_ids) if team_ids is not None else rows).delete()
    written = _write(judged_items(items), items, _created_day(items))
    teams = Q(team_id__in=team_ids) if team_ids is not None else Q()
    written += _write_months(teams, teams)
    if team_ids is None:
        return written + _recount_org()
    due_days, created_days = _days_of(team_ids)
    return written + _recount_org(due_days | had_due, created_days | had_created)


@transaction.atomic
def recount(team_id: int, due_days: set, created_days: set) -> int:
    """Recount one team's rows of these due days and created days (a change's keys), then
    the organisation's rows of those days and of their months."""
    _one_at_a_time()
    due_days, created_days = list(due_days), list(created_days)
    ItemsDueDay.objects.filter(team_id=team_id, due_on__in=due_days).delete()
    OpenItemsDue.objects.filter(team_id=team_id, due_on__in=due_days).delete()
    ItemsCreatedDay.objects.filter(team_id=team_id, created_on__in=created_days).delete()
    items = _public_items().filter(postmortem__incident__team_id=team_id)
    due = items.filter(due_on__in=due_days)
    # Day spans rather than the truncated day, so the created_at index finds them.
    spans = Q(pk__in=[])
    for day in created_days:
        spans |= metrics.Period(day, day).span("created_at")
    created = _created_day(items.filter(spans))
    written = _write(judged_items(due), due, created)
    # The months of those days, summed again from their day rows.
    months = {day.replace(day=1) for day in due_days}
    created_months = {day.replace(day=1) for day in created_days}
    for model in (ItemsDueMonth, OpenItemsMonth):
        model.objects.filter(team_id=team_id, month__in=months).delete()
    ItemsCreatedMonth.objects.filter(team_id=team_id, month__in=created_months).delete()
    due_in, created_in = _month_days(months, "due_on"), _month_days(created_months, "created_on")
    written += _write_months(due_in & Q(team_id=team_id), created_in & Q(team_id=team_id))
    return written + _recount_org(due_days, created_days)


def _month_days(months: set, field: str) -> Q:
    """A filter on the date `field` for the days of these months (first days)."""
    days = Q(pk__in=[])
    for month in months:
        end = metrics.Period.month(f"{month:%Y-%m}").end
        days |= Q(**{f"{field}__gte": month, f"{field}__lte": end})
    return days


def rebuild_dashboard_rollups() -> str:
    """Recount every team's rollups (after bulk loading, which writes no audit trail)."""
    return f"dashboard rollups: {rebuild()} rows"


# --- Keeping them in step --------------------------------------------------------------------


class _Pending(threading.local):
    def __init__(self):
        self.keys: dict[int, tuple[set, set]] = {}  # team → (due days, created days)
        self.everything = False


_pending = _Pending()


def _mark(team_id: int, due_on, created_at) -> None:
    due, created = _pending.keys.setdefault(team_id, (set(), set()))
    due.add(due_on)
    created.add(created_at.astimezone(UTC).date())
    # As in actions.repeats: a rolled-back transaction drops its callback, and its marks are
    # then recounted with the next commit (recounting again is harmless).
    transaction.on_commit(refresh_pending)


def _mark_items(items: QuerySet[ActionItem], team_id: int | None = None) -> None:
    """Note the keys of these items (in `team_id`, else their incident's team)."""
    for team, due_on, created_at in items.values_list(TEAM, "due_on", "created_at"):
        _mark(team_id or team, due_on, created_at)


def _mark_everything() -> None:
    _pending.everything = True
    transaction.on_commit(refresh_pending)


def refresh_pending(whole_teams: bool = False) -> int:
    """Recount the keys the changes since the last commit touched (with `whole_teams`, every
    row of their teams)."""
    keys, everything = _pending.keys, _pending.everything
    _pending.__init__()
    if everything:
        return rebuild()
    if whole_teams:
        return rebuild(keys)
    return sum(recount(team, due, created) for team, (due, created) in keys.items())


@receiver(pre_save, sender=ActionItem)
def _item_saving(sender, instance: ActionItem, raw=False, **kwargs):
    # The keys it had: its due day may change (its team and created day do not).
    if not raw and instance.pk is not None:
        _mark_items(ActionItem.objects.filter(pk=instance.pk))


@receiver(post_save, sender=ActionItem)
def _item_saved(sender, instance: ActionItem, raw=False, **kwargs):
    # Every save counts, through a service or not (fixtures, scripts, the admin).
    if not raw:
        _mark_items(ActionItem.objects.filter(pk=instance.pk))


@receiver(pre_delete, sender=ActionItem)
def _item_deleted(sender, instance: ActionItem, **kwargs):
    _mark_items(ActionItem.objects.filter(pk=instance.pk))


@receiver(pre_delete, sender=Postmortem)
def _postmortem_deleted(sender, instance: Postmortem, **kwargs):
    _mark_items(ActionItem.objects.filter(postmortem=instance))


@receiver(pre_delete, sender=Incident)
def _incident_deleted(sender, instance: Incident, **kwargs):
    _mark_items(ActionItem.objects.filter(postmortem__incident=instance))


@receiver(post_save, sender=Incident)
def _incident_saved(sender, instance: Incident, created: bool, raw=False, **kwargs):
    # Edits through save() (the services update rows, and are caught by their trail entry).
    if not raw and not created:
        _mark_items(ActionItem.objects.filter(postmortem__incident=instance))


@receiver(post_save, sender=Entry)
def _trail_entry(sender, instance: Entry, created: bool, raw=False, **kwargs):
    """An incident made private or public, or moved to another team: all its items' keys,
    in the old team too."""
    if raw or not created or instance.incident_pk is None:
        return
    if instance.content_type.model != "incident" or instance.action != Entry.Action.UPDATE:
        return
    changes = instance.changes if isinstance(instance.changes, dict) else None
    changes = changes or instance.changes_dict or {}
    changed = INCIDENT_FIELDS & set(changes)
    if not changed:
        return
    items = ActionItem.objects.filter(postmortem__incident_id=instance.incident_pk)
    if changed - {"private"}:
        # The trail names the team it had (names are unique); failing that, every team is
        # recounted (rare).
        before = changes.get("team") or changes.get("team_id")
        old = before[0] if isinstance(before, list | tuple) and before else None
        teams = Team.objects.filter(Q(name=str(old)) | Q(pk=_int(old))).values("pk")
        old_team = next(iter(teams), {}).get("pk")
        if old_team is None:
            _mark_everything()
            return
        _mark_items(items, team_id=old_team)
    _mark_items(items)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _before_read() -> None:
    """Changes of this transaction not yet committed (a service that writes, then reads the
    dashboard; tests) are counted before the rollups are read. Nothing pending: no query.
    Their teams are recounted whole: rows written in the same transaction without a save
    (fixtures back-dating created_at with update()) would leave a noted key stale."""
    if _pending.keys or _pending.everything:
        refresh_pending(whole_teams=True)


metrics.BEFORE_ROLLUP_READ.append(_before_read)
