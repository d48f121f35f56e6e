"""The emails of the actions app, rendered at send time from their ledger row, so each is current.

Registered with the outbox (imported from ActionsConfig.ready): owner reminders and manager
notes (planned in reminders.py) and monthly digests (built in digests.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from incidents.zones import zone_of
from outbox import ledger
from outbox.models import Dispatch

from .models import ActionItem, Digest
from .reminders import due_soon_days, manager_threshold_days

Kind = Dispatch.Kind


def _item_rows(items, today: date) -> list[dict]:
    return [
        {
            "item": item,
            "incident": item.postmortem.incident,
            "days_late": (today - item.due_on).days,
            "url": ledger.link("actions:detail", item.pk),
            "done_url": ledger.link("actions:done", item.pk),
            "due_url": ledger.link("actions:detail", item.pk, fragment="due"),
        }
        for item in items
    ]


def reminder_items(owner, today: date, notify_due_soon: bool):
    """The items an owner's reminder lists for `today`, most overdue first."""
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
    owner = dispatch.recipient
    today = date.fromisoformat(dispatch.period)
    profile = getattr(owner, "profile", None)
    notify = profile.notify_due_soon if profile else True
    rows = _item_rows(reminder_items(owner, today, notify), today)
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
    manager = dispatch.recipient
    today = dispatch.created_at.astimezone(zone_of(manager)).date()
    cutoff = today - timedelta(days=manager_threshold_days())
    items = (
        ActionItem.objects.visible_to(manager)
        .open()
        .filter(postmortem__incident__team__managers=manager, due_on__lt=cutoff)
        .select_related("owner", "postmortem__incident__team")
        .order_by("postmortem__incident__team__name", "due_on", "pk")
    )
    rows = _item_rows(items, today)
    if not rows:
        return None
    teams: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        teams[row["incident"].team.name].append(row)
    return ledger.render(
        to=manager.email,
        subject=f"Debrief: {_plural(len(rows), 'action item')} overdue "
        f"more than {manager_threshold_days()} days",
        template="actions/email/manager_note",
        context={
            "recipient": manager,
            "today": today,
            "teams": dict(teams),
            "threshold": manager_threshold_days(),
            "team_url": ledger.link("actions:team", query="overdue=on"),
        },
        items=len(rows),
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
    found = Digest.objects.filter(scope=dispatch.scope, period=dispatch.period).first()
    if found is None:
        return None  # deleted since the claim: nothing to send
    return digest_message(
        found.figures, dispatch.recipient.email, found.title, ledger.link_to(found)
    )
