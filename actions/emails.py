"""The emails of the actions app, rendered at send time from their ledger row, so each is current.

Registered with the outbox (imported from ActionsConfig.ready): owner reminders and manager
notes (planned in reminders.py) and monthly digests (built in digests.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta

from incidents.models import Team
from incidents.zones import zone_of
from outbox import ledger
from outbox.models import Dispatch

from . import digests
from .models import ActionItem, Digest
from .reminders import due_soon_days, manager_threshold_days, visible_to_each_owner

Kind = Dispatch.Kind


def reminder_items(owner, today: date, notify_due_soon: bool):
    """The items an owner's reminder lists for `today`, most overdue first (the live rule,
    one owner at a time: what `reminder_batch` must agree with)."""
    last = today + timedelta(days=due_soon_days()) if notify_due_soon else today - timedelta(1)
    return (
        ActionItem.objects.visible_to(owner)
        .open()
        .filter(owner=owner, due_on__lte=last)
        .select_related("postmortem__incident")
        .order_by("due_on", "priority", "pk")
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


@ledger.builder(Kind.REMINDER)
def reminder(dispatch: Dispatch) -> ledger.Message | None:
    return reminder_batch([dispatch])[dispatch.pk]


@ledger.batch_builder(Kind.REMINDER)
def reminder_batch(dispatches: list[Dispatch]) -> dict[int, ledger.Message | None]:
    """Many owners' reminders from one query over all their items, grouped here per owner.

    The same items as `reminder_items` gives each owner (the read rule applied per row to the
    row's owner), read as plain values: model objects and a queryset per email were most of
    the sweep's time.
    """
    if not dispatches:
        return {}
    days = {d.pk: date.fromisoformat(d.period) for d in dispatches}
    horizon = max(days.values()) + timedelta(days=due_soon_days())
    rows = (
        visible_to_each_owner(
            ActionItem.objects.open().filter(
                owner_id__in={d.recipient_id for d in dispatches}, due_on__lte=horizon
            )
        )
        .order_by("due_on", "priority", "pk")
        .values_list(
            "pk",
            "owner_id",
            "title",
            "priority",
            "status",
            "reason",
            "due_on",
            "postmortem__incident__number",
        )
    )
    by_owner: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_owner[row[1]].append(row)
    links = _ItemLinks()
    built: dict[int, ledger.Message | None] = {}
    for dispatch in dispatches:
        today = days[dispatch.pk]
        profile = getattr(dispatch.recipient, "profile", None)
        notify = profile.notify_due_soon if profile else True
        last = today + timedelta(days=due_soon_days()) if notify else today - timedelta(1)
        items = [row for row in by_owner.get(dispatch.recipient_id, ()) if row[6] <= last]
        built[dispatch.pk] = _reminder_message(dispatch.recipient, today, items, links)
    return built


class _ItemLinks:
    """An item's three links, each reversed once and then filled in by string formatting
    (reverse() per item was a visible share of a sweep of tens of thousands of items)."""

    _SENTINEL = 987654321

    def __init__(self):
        self.detail = ledger.link("actions:detail", self._SENTINEL)
        self.done = ledger.link("actions:done", self._SENTINEL)

    def row(self, pk: int) -> dict[str, str]:
        detail = self.detail.replace(str(self._SENTINEL), str(pk))
        return {
            "url": detail,
            "done_url": self.done.replace(str(self._SENTINEL), str(pk)),
            "due_url": f"{detail}#due",
        }


def _row(pk, title, priority, status, reason, due_on, number, today: date, links) -> dict:
    """One listed item as the email templates read it (plain values, no model objects)."""
    return {
        "item": {
            "pk": pk,
            "title": title,
            "priority": priority,
            "status": status,
            "reason": reason,
            "due_on": due_on,
        },
        "incident": {"reference": f"INC-{number}" if number else "INC-new"},
        "days_late": (today - due_on).days,
        "due": due_on.isoformat(),  # preformatted: the date filter was a tenth of the sweep
        **links.row(pk),
    }


def _reminder_message(owner, today: date, items: list[tuple], links: _ItemLinks):
    rows = [
        _row(pk, title, priority, status, reason, due_on, number, today, links)
        for pk, _, title, priority, status, reason, due_on, number in items
    ]
    if not rows:
        return None
    overdue = [r for r in rows if r["days_late"] > 0]
    soon = [r for r in rows if r["days_late"] <= 0]
    if overdue:
        subject = f"{_plural(len(overdue), 'overdue action item')}"
        if soon:
            subject += f", {len(soon)} due soon"
    else:
        subject = f"{_plural(len(soon), 'action item')} due soon"
    return ledger.render(
        to=owner.email,
        subject=f"Debrief: {subject}",
        template="actions/email/reminder",
        context={
            "recipient": owner,
            "today": today,
            "overdue": overdue,
            "soon": soon,
            "due_soon_days": due_soon_days(),
            "mine_url": ledger.link("actions:mine"),
            "preferences_url": ledger.link("incidents:preferences"),
        },
        items=len(rows),
    )


@ledger.builder(Kind.MANAGER_NOTE)
def manager_note(dispatch: Dispatch) -> ledger.Message | None:
    return manager_note_batch([dispatch])[dispatch.pk]


@ledger.batch_builder(Kind.MANAGER_NOTE)
def manager_note_batch(dispatches: list[Dispatch]) -> dict[int, ledger.Message | None]:
    """Many managers' weekly notes from one query over their teams' long-overdue items.

    No per-row read rule is needed: the read rule lets a team's managers read every incident
    of the team, private ones included (visible_incident_q's `managed`), and a note lists only
    the teams its recipient manages.
    """
    if not dispatches:
        return {}
    managed: dict[int, set[int]] = defaultdict(set)
    for user_id, team_id in Team.managers.through.objects.filter(
        user_id__in={d.recipient_id for d in dispatches}
    ).values_list("user_id", "team_id"):
        managed[user_id].add(team_id)
    threshold = timedelta(days=manager_threshold_days())
    days = {d.pk: d.created_at.astimezone(zone_of(d.recipient)).date() for d in dispatches}
    rows = (
        ActionItem.objects.open()
        .filter(
            postmortem__incident__team_id__in=set().union(*managed.values()),
            due_on__lt=max(days.values()) - threshold,
        )
        .order_by("postmortem__incident__team__name", "due_on", "pk")
        .values_list(
            "pk",
            "title",
            "priority",
            "status",
            "reason",
            "due_on",
            "postmortem__incident__number",
            "postmortem__incident__team_id",
            "postmortem__incident__team__name",
            "owner__first_name",
            "owner__last_name",
            "owner__username",
        )
    )
    rows = list(rows) if managed else []
    links = _ItemLinks()
    built: dict[int, ledger.Message | None] = {}
    for dispatch in dispatches:
        today, teams_of = days[dispatch.pk], managed.get(dispatch.recipient_id, set())
        cutoff = today - threshold
        teams: dict[str, list[dict]] = defaultdict(list)
        for pk, title, priority, status, reason, due_on, number, team_id, team, *who in rows:
            if team_id in teams_of and due_on < cutoff:
                row = _row(pk, title, priority, status, reason, due_on, number, today, links)
                first, last, username = who
                row["owner"] = f"{first} {last}".strip() or username
                teams[team].append(row)
        built[dispatch.pk] = _manager_message(dispatch.recipient, today, dict(teams))
    return built


def _manager_message(manager, today: date, teams: dict[str, list[dict]]):
    count = sum(len(rows) for rows in teams.values())
    if not count:
        return None
    return ledger.render(
        to=manager.email,
        subject=f"Debrief: {_plural(count, 'action item')} overdue "
        f"more than {manager_threshold_days()} days",
        template="actions/email/manager_note",
        context={
            "recipient": manager,
            "today": today,
            "teams": teams,
            "threshold": manager_threshold_days(),
            "team_url": ledger.link("actions:team", query="overdue=on"),
        },
        items=count,
    )


def digest_subject(figures: dict) -> str:
    start = date.fromisoformat(figures["start"])
    completion = figures["completion"]
    rate = f"{completion['rate']:.0%} on time" if completion["rate"] is not None else "nothing due"
    return f"Debrief review for {figures['scope_label']}, {start:%B %Y}: {rate}"


def digest_message(figures: dict, to: str, title: str, url: str) -> ledger.Message:
    """A digest's email from its stored figures (also what `send_digest --dry-run` prints)."""
    return ledger.render(
        to=to,
        subject=digest_subject(figures),
        template="actions/email/digest",
        context={
            "f": figures,
            "title": title,
            "url": url,
            "month": date.fromisoformat(figures["start"]),
        },
        items=figures["items"]["created"],
    )


@ledger.builder(Kind.DIGEST)
def digest(dispatch: Dispatch) -> ledger.Message | None:
    return digest_batch([dispatch])[dispatch.pk]


@ledger.batch_builder(Kind.DIGEST)
def digest_batch(dispatches: list[Dispatch]) -> dict[int, ledger.Message | None]:
    """Each digest rendered once for all its recipients who see the same rows.

    The listed rows leave out incidents a recipient may not read now (`figures_seen_by`, the
    live rule). When no listed incident is restricted, everyone sees the same digest and it is
    rendered once; otherwise recipients are grouped by what they see, one render per group.
    The body names no recipient, so a copy differs only in its address.
    """
    keys = {(d.scope, d.period) for d in dispatches}
    found = {
        (d.scope, d.period): d
        for d in Digest.objects.filter(
            scope__in={s for s, _ in keys}, period__in={p for _, p in keys}
        ).select_related("team")
    }
    built: dict[int, ledger.Message | None] = {}
    for key in keys:
        stored = found.get(key)
        mine = [d for d in dispatches if (d.scope, d.period) == key]
        if stored is None:  # deleted since the claim: nothing to send
            built.update((d.pk, None) for d in mine)
            continue
        restricted = digests.restricted_numbers(stored)
        rendered: dict[tuple, ledger.Message] = {}
        for dispatch in mine:
            if restricted:
                figures, _ = digests.figures_seen_by(stored, dispatch.recipient, restricted)
                seen = tuple(sorted(digests.listed_numbers(figures)))
            else:
                figures, seen = stored.figures, ()
            message = rendered.get(seen)
            if message is None:
                message = rendered[seen] = digest_message(
                    figures, "", stored.title, ledger.link_to(stored)
                )
            built[dispatch.pk] = replace(message, to=dispatch.recipient.email, headers={})
    return built
