"""Quality hints for action items: the checks a good facilitator would make out loud.

One implementation for the postmortem editor and the action item forms. Hints are advice, not
validation: an item with hints can still be saved. The practice behind them (see "Action items"
in the domain notes): each item is a deliverable, has one named person as owner, a due date
and a ticket in the real tracker; a postmortem has few items and at least one that prevents
the class of incident.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from incidents.models import Team

MAX_ITEMS = 5
PREVENTION = "prevention"  # ActionItem.Leverage.PREVENTION


@dataclass(frozen=True)
class Hint:
    code: str
    message: str


# Verbs and phrases that describe an activity or an attitude rather than a result.
_VAGUE = re.compile(
    r"\b(?:improve[sd]?|improving|look(?:ing)? (?:into|at)|investigate[sd]?|investigating"
    r"|be (?:more )?careful|consider(?:ing)?|review(?:ing)?|ensure|make sure|better"
    r"|revisit|explore|think about|discuss|evaluate|follow[- ]up|harden|more robust"
    r"|raise awareness|remind|educate|monitor)\b",
    re.IGNORECASE,
)
# Nouns that name something that will exist when the item is done. Deliberately not
# "monitoring"/"alerting": "improve alerting" is the textbook vague item.
_DELIVERABLE = re.compile(
    r"(?i:\b(?:alerts?|alarms?|runbooks?|playbooks?|PRs?|pull requests?|tests?|(?<!double-)checks?"
    r"|dashboards?|configs?|configuration|scripts?|migrations?|limits?|timeouts?|quotas?"
    r"|thresholds?|probes?|lint(?:er)? rules?|validations?|feature flags?|flags?|canary"
    r"|canaries|circuit breakers?|retr(?:y|ies)|backoff|backups?|index(?:es)?|SLOs?|metrics?"
    r"|gates?|guards?|hooks?|cron(?: jobs?)?|policy|policies|templates?|checklists?"
    r"|rate limits?|docs? page|ADR)\b)"
    r"|#\d+|\b[A-Z][A-Z0-9]+-\d+\b",  # a PR number or a ticket key such as OPS-142
)
_TEAM_WORDS = re.compile(
    r"\b(?:team|squad|crew|group|guild|department|dept|org|chapter|tribe|on-?call|rotation"
    r"|everyone|all)\b|[-_](?:team|squad|oncall|on-call|eng)$",
    re.IGNORECASE,
)
_SEVERAL = re.compile(r",|&|\+|/|\band\b", re.IGNORECASE)


def action_item_hints(
    *,
    title: str,
    description: str = "",
    owner=None,
    owner_text: str = "",
    due_on: date | None = None,
    ticket_key: str = "",
    today: date | None = None,
    team_names: Iterable[str] = (),
) -> list[Hint]:
    """Hints for one action item; [] means it looks specific, owned, dated and tracked.

    owner is a User (or None); owner_text is what was typed where no user is picked yet,
    e.g. "@sre-team". team_names are known teams, so "Payments" reads as a team.
    """
    hints = []
    if _VAGUE.search(title) and not _DELIVERABLE.search(f"{title}\n{description}"):
        hints.append(
            Hint(
                "vague",
                "Say what will exist when this is done: an alert, a runbook, a PR, a test, a "
                "config check. 'Improve monitoring' cannot be finished.",
            )
        )

    owner_text = owner_text.strip()
    if _is_team(owner, owner_text, team_names):
        hints.append(
            Hint("team_owner", "Name one person as owner; a team owning it means nobody does.")
        )
    elif owner is None and owner_text and _SEVERAL.search(owner_text):
        hints.append(Hint("several_owners", "Pick one owner; others can help without owning it."))
    elif owner is None and not owner_text:
        hints.append(Hint("no_owner", "Give it an owner: one named person."))

    today = today or timezone.localdate()
    if due_on is None:
        hints.append(Hint("no_due_date", "Set a due date; items without one are not finished."))
    elif due_on < today:
        hints.append(Hint("past_due", "The due date has passed: finish it or set a new date."))

    if not ticket_key.strip():
        hints.append(
            Hint("no_ticket", "Link a ticket in the team's tracker, where the work is planned.")
        )
    return hints


def postmortem_item_hints(items: Iterable) -> list[Hint]:
    """Hints for a postmortem's set of action items (ActionItem rows or dicts with 'leverage')."""
    items = list(items)
    hints = []
    if len(items) > MAX_ITEMS:
        hints.append(
            Hint(
                "too_many",
                f"{len(items)} action items: fewer is better. Three finished items beat fifteen "
                "listed; keep the ones with the most leverage.",
            )
        )
    if not any(_leverage(item) == PREVENTION for item in items):
        hints.append(
            Hint(
                "no_prevention",
                "No item prevents this class of incident. Did the review find the real "
                "contributing factors?",
            )
        )
    return hints


def _is_team(owner, owner_text: str, team_names: Iterable[str]) -> bool:
    if isinstance(owner, Team):
        return True
    if not owner_text:
        return False
    typed = _normalise(owner_text)
    if any(typed == _normalise(name) for name in team_names):
        return True
    return bool(_TEAM_WORDS.search(owner_text.lstrip("@")))


def _normalise(name: str) -> str:
    # "@Payments-Team", "payments team" and "payments_team" are the same team.
    return re.sub(r"[\s_-]+", " ", name.lstrip("@")).strip().lower()


def _leverage(item) -> str | None:
    if isinstance(item, dict):
        return item.get("leverage")
    return getattr(item, "leverage", None)
