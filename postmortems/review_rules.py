"""Who may steer a postmortem's review: choose authors, send for review, approve, publish,
publish without the approvals, reopen (docs/domain.md, "Review").

Registered with the one policy (incidents.permissions) from PostmortemsConfig.ready, so services
ask `permissions.require(by, "approve", postmortem)` like any other action. The general rules
("view", "edit") stay in incidents/permissions.py; these build on them.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

from incidents import permissions
from incidents.permissions import rule


def is_read_only(user) -> bool:
    """A read-only viewer (a stakeholder) reads and never writes."""
    try:
        return bool(user.profile.read_only)
    except (AttributeError, ObjectDoesNotExist):
        return False


def manages_team_of(user, postmortem) -> bool:
    return postmortem.incident.team_id in permissions.managed_team_ids(user)


def _steers(user, postmortem) -> bool:
    """Authors, the incident's commander, its team's managers and admins."""
    if user.is_superuser:
        return True
    if is_read_only(user) or not postmortem.incident.is_visible_to(user):
        return False
    return (
        user.pk in postmortem.author_ids()
        or user.pk == postmortem.incident.commander_id
        or manages_team_of(user, postmortem)
    )


@rule("change_authors", "Only the people who edit this postmortem choose its authors.")
def _change_authors(user, postmortem) -> bool:
    return not is_read_only(user) and permissions.can(user, "edit", postmortem)


@rule("send_for_review", "Only the people who edit this postmortem send it for review.")
def _send_for_review(user, postmortem) -> bool:
    return not is_read_only(user) and permissions.can(user, "edit", postmortem)


@rule("approve", "Only the reviewers assigned to this postmortem approve it, never its authors.")
def _approve(user, postmortem) -> bool:
    if is_read_only(user) or user.pk in postmortem.author_ids():
        return False
    if not postmortem.incident.is_visible_to(user):
        return False
    return postmortem.reviewers.filter(pk=user.pk).exists()


@rule(
    "publish",
    "Only the postmortem's authors, the incident commander, the team's managers and admins "
    "publish it.",
)
def _publish(user, postmortem) -> bool:
    return _steers(user, postmortem)


@rule(
    "publish_override",
    "Only a manager of the incident's team or an admin publishes without the required "
    "approvals or sections.",
)
def _publish_override(user, postmortem) -> bool:
    if user.is_superuser:
        return True
    if is_read_only(user) or not postmortem.incident.is_visible_to(user):
        return False
    return manages_team_of(user, postmortem)


@rule(
    "reopen",
    "Only the postmortem's authors, the incident commander, the team's managers and admins "
    "reopen it.",
)
def _reopen(user, postmortem) -> bool:
    return _steers(user, postmortem)
