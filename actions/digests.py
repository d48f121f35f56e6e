"""The monthly review digest: built once per (scope, month), stored, emailed, shown on a page.

Figures come from actions/metrics.py in PUBLIC_ONLY mode: a digest goes to whole teams and is
readable by everyone signed in, so private incidents and their items are simply not counted.
That is the simplest rule that can never leak one.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from incidents.models import Incident, Team, read_access
from outbox import ledger
from outbox.models import Dispatch

from . import metrics
from .metrics import PUBLIC_ONLY, Period, Scope
from .models import Digest

User = get_user_model()
LIST_LIMIT = 10


def compute_figures(period: Period, scope: Scope) -> dict:
    """Everything a digest shows, as JSON, from the shared metric definitions."""
    viewer = PUBLIC_ONLY
    owed = metrics.postmortems_owed(period.end, scope, viewer)
    decisions = metrics.decisions(period, scope, viewer)
    repeats = metrics.repeat_incidents(period, scope, viewer)
    completion = metrics.completion_by_due_date(period, scope, viewer)
    return {
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "scope": scope.key,
        "scope_label": scope.label,
        "incidents": metrics.incidents_by_severity(period, scope, viewer),
        "postmortems_published": metrics.postmortems_published(period, scope, viewer),
        "postmortems_owed": {
            "count": owed.count(),
            "rows": [
                {
                    "reference": i.reference,
                    "title": i.title,
                    "team": i.team.name,
                    "resolved_on": i.resolved_at.date().isoformat(),
                    "url": ledger.link_to(i),
                }
                for i in owed[:LIST_LIMIT]
            ],
        },
        "items": metrics.item_counts(period, scope, viewer),
        "completion": completion,
        "decisions": [
            {
                "title": item.title,
                "status": item.get_status_display(),
                "reason": item.reason,
                "owner": item.owner.get_full_name() or item.owner.username,
                "reference": item.postmortem.incident.reference,
                "url": ledger.link_to(item),
            }
            for item in decisions[:LIST_LIMIT]
        ],
        "decisions_count": decisions.count(),
        "repeats": [
            {
                "reference": i.reference,
                "title": i.title,
                "why": f"same pattern “{i.pattern}”"
                if i.same_pattern
                else "same service and contributing-factor category",
                "url": ledger.link_to(i),
            }
            for i in repeats[:LIST_LIMIT]
        ],
        "oldest_open": [
            {
                "title": item.title,
                "owner": item.owner.get_full_name() or item.owner.username,
                "due_on": item.due_on.isoformat(),
                "created_on": item.created_at.date().isoformat(),
                "reference": item.postmortem.incident.reference,
                "url": ledger.link_to(item),
            }
            for item in metrics.oldest_open_items(scope, viewer, LIST_LIMIT)
        ],
    }


# The lists of a digest whose rows each name an incident by its reference.
LISTS = ("decisions", "repeats", "oldest_open")


def figures_seen_by(digest: Digest, viewer, restricted: set[int] | None = None) -> tuple[dict, int]:
    """The stored figures with every listed row about an incident the viewer may not see now
    left out, and how many rows were left out.

    Figures are built from public incidents, but an incident can be made private after the
    digest was stored; the page must not keep showing it. Counts stay as they were built: they
    name no incident. `restricted` (from `restricted_numbers`): only those incidents are asked
    about, the rest being readable by everyone signed in.
    """
    figures = {**digest.figures}
    owed = figures.get("postmortems_owed") or {}
    lists = _lists(figures)
    numbers = listed_numbers(figures)
    asked = numbers if restricted is None else numbers & restricted
    visible = numbers - asked
    if asked:
        visible |= set(
            Incident.objects.visible_to(viewer)
            .filter(number__in=asked)
            .values_list("number", flat=True)
        )
    kept = {key: [row for row in rows if _number(row) in visible] for key, rows in lists.items()}
    hidden = sum(len(rows) - len(kept[key]) for key, rows in lists.items())
    figures.update({key: kept[key] for key in LISTS if key in figures})
    if owed:
        figures["postmortems_owed"] = {**owed, "rows": kept["owed"]}
    return figures, hidden


def _lists(figures: dict) -> dict[str, list[dict]]:
    lists = {key: figures.get(key) or [] for key in LISTS}
    lists["owed"] = (figures.get("postmortems_owed") or {}).get("rows") or []
    return lists


def listed_numbers(figures: dict) -> set[int]:
    """The numbers of the incidents the digest's lists name."""
    return {_number(row) for rows in _lists(figures).values() for row in rows} - {None}


def _number(row: dict) -> int | None:
    digits = str(row.get("reference", "")).removeprefix("INC-")
    return int(digits) if digits.isdigit() else None


def restricted_numbers(digest: Digest) -> set[int]:
    """The listed incidents that not everyone signed in may read now (private since, deleted,
    or every one with team-only reading): only these differ between recipients."""
    numbers = listed_numbers(digest.figures)
    if not numbers or read_access() == "team":
        return numbers
    public = Incident.objects.filter(number__in=numbers, private=False)
    return numbers - set(public.values_list("number", flat=True))


def recipients(team: Team | None) -> list[int]:
    """A team digest goes to its members and managers; the organisation one to all managers."""
    if team is None:
        users = User.objects.filter(managed_teams__isnull=False)
    else:
        users = User.objects.filter(Q(teams=team) | Q(managed_teams=team))
    return list(
        users.filter(is_active=True).exclude(email="").distinct().values_list("pk", flat=True)
    )


def scopes(team_slug: str | None = None) -> list[Scope]:
    """The organisation and every team with people in it; or just one team."""
    if team_slug:
        return [Scope(team=Team.objects.get(slug=team_slug))]
    teams = Team.objects.filter(Q(members__isnull=False) | Q(managers__isnull=False)).distinct()
    return [metrics.ORG, *(Scope(team=t) for t in teams)]


@transaction.atomic
def build_and_claim(period: Period, scope: Scope) -> tuple[Digest, ledger.Claim]:
    """Store the digest for (scope, period) once and claim one ledger row per recipient.

    Recipients are fixed when the digest is first built; later runs only return rows still
    pending (an interrupted send), so nobody gets the same month twice.
    """
    digest, created = Digest.objects.get_or_create(
        scope=scope.key,
        period=period.label,
        defaults={"team": scope.team, "figures": {}},
    )
    if created:
        digest.figures = compute_figures(period, scope)
        digest.save(update_fields=["figures"])
        keys = [
            ledger.Key(Dispatch.Kind.DIGEST, pk, period.label, scope.key)
            for pk in recipients(scope.team)
        ]
        return digest, ledger.claim(keys)
    # The digest's emails: the ledger rows with its key (kind, scope, period).
    emails = Dispatch.objects.filter(
        kind=Dispatch.Kind.DIGEST, scope=digest.scope, period=digest.period
    )
    pending = list(emails.filter(state=Dispatch.State.PENDING).values_list("pk", flat=True))
    settled = emails.exclude(state=Dispatch.State.PENDING).count()
    return digest, ledger.Claim(pending_ids=pending, already_settled=settled)
