"""The only place that answers "may this person do that?".

Services call `require(by, action, obj)` before they change anything, so every route to the
same change (page, htmx fragment, meeting capture, import, bulk form) gets the same answer.
Views may call `can()` to decide what to show, never to decide what to allow.

Rules read attributes of the object they are given instead of importing the upper apps'
models, so this module stays at the bottom of the layering (docs/domain.md, "Who may do what").
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from .models import Incident, Team

Rule = Callable[[object, object], bool]
RULES: dict[str, Rule] = {}
MESSAGES: dict[str, str] = {}


def rule(action: str, message: str):
    """Register the rule for one action, with the sentence a refused person reads."""

    def register(func: Rule) -> Rule:
        RULES[action] = func
        MESSAGES[action] = message
        return func

    return register


def can(user, action: str, obj=None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if action not in RULES:
        raise KeyError(f"no permission rule for {action!r}")
    return RULES[action](user, obj)


def require(user, action: str, obj=None) -> None:
    if not can(user, action, obj):
        raise PermissionDenied(MESSAGES[action])


# --- Facts about a user, fetched once per request ------------------------------------------


def team_ids(user) -> set[int]:
    """Ids of the teams the user belongs to or manages (cached on the user object)."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_debrief_team_ids", None)
    if cached is None:
        cached = set(
            Team.objects.filter(Q(members=user) | Q(managers=user)).values_list("pk", flat=True)
        )
        user._debrief_team_ids = cached
    return cached


def managed_team_ids(user) -> set[int]:
    """Ids of the teams the user manages (cached on the user object)."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_debrief_managed_team_ids", None)
    if cached is None:
        cached = set(Team.objects.filter(managers=user).values_list("pk", flat=True))
        user._debrief_managed_team_ids = cached
    return cached


def _incident_of(obj) -> Incident:
    """The incident an object belongs to: itself, or its `incident`/`postmortem.incident`."""
    if isinstance(obj, Incident):
        return obj
    if hasattr(obj, "incident_id"):
        return obj.incident
    if hasattr(obj, "postmortem_id"):
        return obj.postmortem.incident
    raise TypeError(f"{type(obj).__name__} belongs to no incident")


# --- The rules --------------------------------------------------------------------------------


@rule("view", "This incident is private to its members.")
def _view(user, obj) -> bool:
    return _incident_of(obj).is_visible_to(user)


@rule("open_incident", "Only signed-in people open incidents.")
def _open_incident(user, _obj) -> bool:
    return True  # anyone signed in and active (checked by can()) may declare an incident


@rule("change_preferences", "People change only their own preferences.")
def _change_preferences(user, profile) -> bool:
    return profile.user_id == user.pk


@rule("manage_calendar_feed", "People turn on, reset and revoke only their own calendar feed.")
def _manage_calendar_feed(user, owner) -> bool:
    return owner.pk == user.pk


@rule("edit", "Only people who can see this incident change it or its documents.")
def _edit(user, obj) -> bool:
    # Widened into roles by the permissions issue; today whoever sees an incident edits it.
    return _incident_of(obj).is_visible_to(user)


@rule("add_action_item", "Only the incident's team, the postmortem's author and admins add items.")
def _add_action_item(user, postmortem) -> bool:
    if not postmortem.incident.is_visible_to(user):
        return False
    return (
        user.is_superuser
        or postmortem.author_id == user.pk
        or postmortem.incident.team_id in team_ids(user)
    )


@rule(
    "change_action_item",
    "Only the owner, the creator, the incident's team and admins change this item.",
)
def _change_action_item(user, item) -> bool:
    if user.is_superuser or user.pk in (item.owner_id, item.created_by_id):
        return True
    incident = item.postmortem.incident
    return incident.team_id in team_ids(user) and incident.is_visible_to(user)


@rule("bulk_change_action_items", "Bulk changes are for team managers.")
def _bulk_change(user, _obj) -> bool:
    return user.is_superuser or bool(managed_team_ids(user))


@rule("bulk_change_action_item", "You manage none of the teams of this item.")
def _bulk_change_item(user, item) -> bool:
    """One item of a bulk change: its incident's team is one the user manages."""
    if user.is_superuser:
        return True
    incident = item.postmortem.incident
    return incident.team_id in managed_team_ids(user) and incident.is_visible_to(user)


@rule("drive_meeting", "Only the facilitator or the postmortem's author drives the steps.")
def _drive_meeting(user, meeting) -> bool:
    return user.is_superuser or user.pk in (meeting.facilitator_id, meeting.postmortem.author_id)


@rule("set_up_webhooks", "Webhooks are set up by team managers and admins.")
def _set_up_webhooks(user, _obj) -> bool:
    """May open the webhooks page at all: manages some team's endpoints, or all of them."""
    return user.is_superuser or bool(managed_team_ids(user))


@rule("manage_webhooks", "Webhooks are set up by team managers and admins.")
def _manage_webhooks(user, team) -> bool:
    """`team` None asks about organisation-wide endpoints, which only admins manage."""
    if user.is_superuser:
        return True
    if team is None:
        return False
    return team.pk in managed_team_ids(user)
