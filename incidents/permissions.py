"""The only place that answers "may this person do that?" (the table: docs/permissions.md).

Services call `require(by, action, obj)` before they change anything, so every route to the
same change (page, htmx fragment, meeting capture, import, bulk form) gets the same answer.
Views and templates (`{% can %}`) may ask `can()` to decide what to show, never to decide what
to allow.

Roles: organisation admin (`is_superuser`); team manager (`Team.managers`); team member
(`Team.members`); the incident's commander; the postmortem's authors (lead author and
co-authors); assigned reviewers; read-only viewers (`Profile.read_only`), who never write.
Reading follows `Incident.is_visible_to` / `visible_incident_q` (incidents/models.py).

Rules read attributes of the object they are given instead of importing the upper apps'
models, so this module stays at the bottom of the layering (docs/domain.md, "Who may do what").
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied

from .models import (
    Incident,
    authored_incident_ids,
    is_read_only,
    managed_team_ids,
    team_ids,
)

# Re-exported: callers ask the policy module for these facts.
__all__ = ["can", "require", "rule", "team_ids", "managed_team_ids", "is_read_only"]

Rule = Callable[[object, object], bool]
RULES: dict[str, Rule] = {}
MESSAGES: dict[str, str] = {}
# Actions a read-only viewer may still take: reading, and keeping their own settings.
READS: set[str] = set()


def rule(action: str, message: str, *, reads: bool = False):
    """Register the rule for one action, with the sentence a refused person reads.

    Every action writes unless `reads=True`: read-only viewers are refused writes here, once,
    so a rule registered by another module cannot forget them.
    """

    def register(func: Rule) -> Rule:
        RULES[action] = func
        MESSAGES[action] = message
        if reads:
            READS.add(action)
        return func

    return register


def can(user, action: str, obj=None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if action not in RULES:
        raise KeyError(f"no permission rule for {action!r}")
    if action not in READS and is_read_only(user):
        return False
    return RULES[action](user, obj)


def require(user, action: str, obj=None) -> None:
    if not can(user, action, obj):
        if action not in READS and is_read_only(user):
            raise PermissionDenied("Read-only viewers do not change anything.")
        raise PermissionDenied(MESSAGES[action])


# --- Roles on one incident ------------------------------------------------------------------


def _incident_of(obj) -> Incident:
    """The incident an object belongs to: itself, or its `incident`/`postmortem.incident`."""
    if isinstance(obj, Incident):
        return obj
    if hasattr(obj, "incident_id"):
        return obj.incident
    if hasattr(obj, "postmortem_id"):
        return obj.postmortem.incident
    raise TypeError(f"{type(obj).__name__} belongs to no incident")


def is_author(user, obj) -> bool:
    """Lead author or co-author of the postmortem of `obj`'s incident."""
    postmortem = obj if hasattr(obj, "author_ids") else None
    if postmortem is None and hasattr(obj, "postmortem_id") and not isinstance(obj, Incident):
        postmortem = obj.postmortem
    if postmortem is not None and postmortem.author_id == user.pk:
        return True  # no query for the common case
    return _incident_of(obj).pk in authored_incident_ids(user)


def manages(user, obj) -> bool:
    """Admin, or a manager of the team that owns `obj`'s incident."""
    return user.is_superuser or _incident_of(obj).team_id in managed_team_ids(user)


def is_editor(user, obj) -> bool:
    """May change the incident's facts, timeline and postmortem: the owning team (members
    and managers), the commander, the postmortem's authors, and admins; all of them only
    while they can read it (a private incident's editors are also its members)."""
    incident = _incident_of(obj)
    if not incident.is_visible_to(user):
        return False
    return (
        user.is_superuser
        or incident.team_id in team_ids(user)
        or incident.commander_id == user.pk
        or is_author(user, obj)
    )


# --- The rules --------------------------------------------------------------------------------


@rule("view", "This incident is private to its members.", reads=True)
def _view(user, obj) -> bool:
    return _incident_of(obj).is_visible_to(user)


@rule("open_incident", "Read-only viewers do not open incidents.")
def _open_incident(user, _obj) -> bool:
    return True  # anyone signed in, active and not read-only (checked by can())


@rule("change_preferences", "People change only their own preferences.", reads=True)
def _change_preferences(user, profile) -> bool:
    return profile.user_id == user.pk


@rule(
    "manage_calendar_feed",
    "People turn on, reset and revoke only their own calendar feed.",
    reads=True,
)
def _manage_calendar_feed(user, owner) -> bool:
    return owner.pk == user.pk


@rule(
    "edit",
    "Only the incident's team, its commander, the postmortem's authors and admins change it.",
)
def _edit(user, obj) -> bool:
    return is_editor(user, obj)


@rule(
    "change_privacy",
    "Only the commander, the team's managers and admins change who may see this incident.",
)
def _change_privacy(user, incident) -> bool:
    return incident.is_visible_to(user) and (
        manages(user, incident) or incident.commander_id == user.pk
    )


@rule("override", "Only the team's managers and admins override.")
def _override(user, obj) -> bool:
    return _incident_of(obj).is_visible_to(user) and manages(user, obj)


@rule("comment", "This incident is private to its members.")
def _comment(user, postmortem) -> bool:
    return postmortem.incident.is_visible_to(user)


@rule(
    "add_action_item",
    "Only the incident's team, its commander, the postmortem's authors and admins add items.",
)
def _add_action_item(user, postmortem) -> bool:
    return is_editor(user, postmortem)


@rule(
    "change_action_item",
    "Only the item's owner and creator, the incident's editors and admins change this item.",
)
def _change_action_item(user, item) -> bool:
    incident = item.postmortem.incident
    if not incident.is_visible_to(user):
        return False
    return user.pk in (item.owner_id, item.created_by_id) or is_editor(user, item)


@rule("bulk_change_action_items", "Bulk changes are for team managers.")
def _bulk_change(user, _obj) -> bool:
    return user.is_superuser or bool(managed_team_ids(user))


@rule("bulk_change_action_item", "You manage none of the teams of this item.")
def _bulk_change_item(user, item) -> bool:
    """One item of a bulk change: its incident's team is one the user manages."""
    incident = item.postmortem.incident
    return manages(user, incident) and incident.is_visible_to(user)


# --- Dashboards -------------------------------------------------------------------------------


@rule(
    "view_team_dashboard", "A team's dashboard is for its members, managers and admins.", reads=True
)
def _view_team_dashboard(user, team) -> bool:
    return user.is_superuser or team.pk in team_ids(user)


@rule(
    "view_org_dashboard",
    "The organisation dashboard is for admins, team managers and read-only viewers.",
    reads=True,
)
def _view_org_dashboard(user, _obj) -> bool:
    return user.is_superuser or bool(managed_team_ids(user)) or is_read_only(user)


@rule("view_owner_counts", "Counts per person are for the team's managers and admins.", reads=True)
def _view_owner_counts(user, team) -> bool:
    """`team` None is the organisation (or a service across teams): admins only."""
    if user.is_superuser:
        return True
    return team is not None and team.pk in managed_team_ids(user)


@rule("drive_meeting", "Only the facilitator or the postmortem's authors drive the steps.")
def _drive_meeting(user, meeting) -> bool:
    return (
        user.is_superuser
        or meeting.facilitator_id == user.pk
        or is_author(user, meeting.postmortem)
    )


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
