"""Overdue reminders to owners (daily) and long-overdue notes to team managers (weekly).

Who is due is decided in each recipient's own timezone: an owner is reminded once their local
clock has passed their reminder hour, at most once per local day (the ledger key is that day).
Beat ticks hourly in UTC, so a missed tick only delays a reminder to the next hour, and a
daylight-saving change can neither skip nor repeat a local day.

This module plans (who is due, with which ledger key); emails.py renders each email at send
time. Privacy: an email lists only items its recipient may see (the incident privacy rule
applied to the recipient), so a reminder never reveals a private incident to a non-member.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Q

from incidents.models import Incident, Team, read_access
from incidents.zones import zone_named
from outbox.ledger import Key
from outbox.models import Dispatch
from postmortems.models import Postmortem

from .models import ActionItem

User = get_user_model()
Kind = Dispatch.Kind


def due_soon_days() -> int:
    return settings.DEBRIEF_REMINDER_DUE_SOON_DAYS


def manager_threshold_days() -> int:
    return settings.DEBRIEF_MANAGER_OVERDUE_DAYS


def local_now(now: datetime, tz_name: str | None) -> datetime:
    return now.astimezone(zone_named(tz_name))


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def visible_to_each_owner(items):
    """The read rule (incidents.models.visible_incident_q) applied per row to the row's own
    owner, for batch jobs: public incidents (with team-only reading: of the owner's teams or
    commanded by them), members, the owning team's managers, admins."""
    membership = Incident.members.through.objects.filter(
        incident_id=OuterRef("postmortem__incident_id"), user_id=OuterRef("owner_id")
    )
    managed = Team.managers.through.objects.filter(
        team_id=OuterRef("postmortem__incident__team_id"), user_id=OuterRef("owner_id")
    )
    public = Q(postmortem__incident__private=False)
    if read_access() == "team":
        in_team = Team.members.through.objects.filter(
            team_id=OuterRef("postmortem__incident__team_id"), user_id=OuterRef("owner_id")
        )
        # Those involved in the postmortem read it too (visible_incident_q's "involved").
        co_author = Postmortem.co_authors.through.objects.filter(
            postmortem_id=OuterRef("postmortem_id"), user_id=OuterRef("owner_id")
        )
        reviewer = Postmortem.reviewers.through.objects.filter(
            postmortem_id=OuterRef("postmortem_id"), user_id=OuterRef("owner_id")
        )
        public &= (
            Q(Exists(in_team))
            | Q(postmortem__incident__commander=F("owner"))
            | Q(postmortem__author=F("owner"))
            | Q(Exists(co_author))
            | Q(Exists(reviewer))
        )
    return items.filter(public | Q(owner__is_superuser=True) | Exists(membership) | Exists(managed))


def wanted(due_on: date, today: date, notify_due_soon: bool) -> bool:
    """Whether an open item belongs in its owner's reminder for `today`.

    Overdue items always do: no preference silences them (P0/P1 included). Items due in the
    next N days do unless the owner opted out of due-soon reminders.
    """
    if due_on < today:
        return True
    return notify_due_soon and due_on <= today + timedelta(days=due_soon_days())


@dataclass
class Plan:
    key: Key
    item_ids: list[int] = field(default_factory=list)


def plan_reminders(now: datetime) -> list[Plan]:
    """Owners whose reminder is due now, with the items it will list.

    One query over open items due up to N days ahead (the latest date any timezone can have
    reached), then per-owner decisions in Python: the query count does not grow with owners.
    """
    horizon = now.date() + timedelta(days=due_soon_days() + 1)
    rows = (
        visible_to_each_owner(ActionItem.objects.open().filter(due_on__lte=horizon))
        .filter(owner__is_active=True)
        .exclude(owner__email="")
        .values_list(
            "pk",
            "owner_id",
            "due_on",
            "owner__profile__timezone",
            "owner__profile__reminder_hour",
            "owner__profile__notify_due_soon",
        )
        .order_by("owner_id", "due_on", "priority", "pk")
    )
    plans: dict[int, Plan] = {}
    for pk, owner_id, due_on, tz_name, hour, due_soon in rows.iterator(chunk_size=5000):
        local = local_now(now, tz_name)
        if local.hour < (9 if hour is None else hour):
            continue
        today = local.date()
        if not wanted(due_on, today, True if due_soon is None else due_soon):
            continue
        plan = plans.get(owner_id)
        if plan is None:
            plan = plans[owner_id] = Plan(Key(Kind.REMINDER, owner_id, today.isoformat()))
        plan.item_ids.append(pk)
    return list(plans.values())


def plan_manager_notes(now: datetime) -> list[Plan]:
    """Managers of teams with items overdue longer than the threshold, once per ISO week."""
    threshold = manager_threshold_days()
    # The latest local date anywhere is tomorrow in UTC terms; filter exactly per manager below.
    cutoff = now.date() + timedelta(days=1) - timedelta(days=threshold)
    items = list(
        ActionItem.objects.open()
        .filter(due_on__lt=cutoff)
        .values_list("pk", "postmortem__incident__team_id", "due_on")
    )
    if not items:
        return []
    by_team: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for pk, team_id, due_on in items:
        by_team[team_id].append((pk, due_on))
    managers = (
        Team.managers.through.objects.filter(team_id__in=by_team, user__is_active=True)
        .exclude(user__email="")
        .values_list(
            "user_id", "team_id", "user__profile__timezone", "user__profile__reminder_hour"
        )
    )
    plans: dict[int, Plan] = {}
    for user_id, team_id, tz_name, hour in managers:
        local = local_now(now, tz_name)
        if local.hour < (9 if hour is None else hour):
            continue
        late = [pk for pk, due in by_team[team_id] if due < local.date() - timedelta(threshold)]
        if not late:
            continue
        plan = plans.get(user_id)
        if plan is None:
            key = Key(Kind.MANAGER_NOTE, user_id, iso_week(local.date()))
            plan = plans[user_id] = Plan(key)
        plan.item_ids.extend(late)
    return list(plans.values())
