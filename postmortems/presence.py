"""Who else has a postmortem's editor open, and in which section: the heartbeats of the
editor's poll, kept as one row per person in the database (no extra service to run)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max, Q
from django.utils import timezone

from incidents import permissions

from .models import EditorPresence, Postmortem

# A person counts as present this long after their last heartbeat (the poll sends one every
# few seconds while the page is open), so a closed tab drops out within half a minute.
EXPIRES = timedelta(seconds=30)
# An unchanged heartbeat rewrites its row at most this often: most polls only read.
REWRITE_AFTER = timedelta(seconds=10)


@dataclass(frozen=True)
class Present:
    name: str
    section: str

    @property
    def label(self) -> str:
        return Postmortem.SECTION_LABELS.get(self.section, "")


def for_poll(user, number: int) -> Postmortem | None:
    """The postmortem of incident `number` if `user` may see it, with `numbers` (the newest
    revision number of each section) read in the same query."""
    newest = {
        f"_top_{s}": Max("revisions__number", filter=Q(revisions__section=s))
        for s in Postmortem.SECTION_FIELDS
    }
    postmortem = (
        Postmortem.objects.visible_to(user)
        .select_related("incident")
        .defer(*Postmortem.SECTION_FIELDS)  # a poll needs the numbers, not the texts
        .filter(incident__number=number)
        .annotate(**newest)
        .order_by()
        .first()
    )
    if postmortem is None or not permissions.can(user, "view", postmortem):
        return None
    postmortem.numbers = {
        s: getattr(postmortem, f"_top_{s}") or 0 for s in Postmortem.SECTION_FIELDS
    }
    return postmortem


def heartbeat(*, postmortem: Postmortem, by: AbstractBaseUser, section: str) -> list[Present]:
    """Record that `by` has the editor open (in `section`, or "" when in none) and return
    everyone else present, by name."""
    permissions.require(by, "view", postmortem)
    if section not in Postmortem.SECTION_LABELS:
        section = ""
    now = timezone.now()
    rows = list(
        EditorPresence.objects.filter(postmortem=postmortem, seen_at__gte=now - EXPIRES)
        .order_by()
        .values_list(
            "user_id", "section", "seen_at", "user__first_name", "user__last_name", "user__username"
        )
    )
    mine = next((r for r in rows if r[0] == by.pk), None)
    if mine is None or mine[1] != section or mine[2] < now - REWRITE_AFTER:
        # One INSERT … ON CONFLICT statement: no read-then-write race between two tabs.
        EditorPresence.objects.bulk_create(
            [EditorPresence(postmortem=postmortem, user=by, section=section, seen_at=now)],
            update_conflicts=True,
            unique_fields=["postmortem", "user"],
            update_fields=["section", "seen_at"],
        )
    others = [
        Present(name=f"{first} {last}".strip() or username, section=where)
        for user_id, where, _, first, last, username in rows
        if user_id != by.pk
    ]
    return sorted(others, key=lambda p: p.name.lower())


def leave(*, postmortem: Postmortem, by: AbstractBaseUser) -> None:
    """Forget `by`'s presence at once (the editor's page was closed)."""
    EditorPresence.objects.filter(postmortem=postmortem, user=by).delete()
