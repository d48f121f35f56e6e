"""Every change to an action item goes through here, so each one is recorded and announced.

The postmortem editor and the meeting capture call these too: create, edit, change status,
change due date, reassign. Each asks incidents.permissions first (PermissionDenied), so every
route to the same change gets the same answer. Rules that need a reason raise ValidationError
with a message meant for the person typing.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit import trail
from incidents import permissions
from incidents.services import claim_version

from . import webhooks
from .forms import ActionItemForm
from .models import ActionItem, ActionItemEvent

Status = ActionItem.Status
# The one list of what a person types for an item is the form's; owner and due date have
# their own services because changing them is recorded with a reason.
EDITABLE_FIELDS = tuple(f for f in ActionItemForm.Meta.fields if f not in ("owner", "due_on"))


def _reason(reason: str | None) -> str:
    return (reason or "").strip()


def _owner_sees_incident(*, incident, owner, by, add_member: bool) -> bool:
    """An owner who cannot read the item's incident would never see the item in their list
    nor be reminded of it: refuse, or (when asked and allowed) make them a member.

    Returns True when the owner was added as a member, so the view can say so.
    """
    if owner is None or incident.is_visible_to(owner):
        return False
    name = owner.get_full_name() or owner.get_username()
    if add_member and by is not None:
        permissions.require(by, "change_privacy", incident)
        incident.members.add(owner)
        owner._debrief_member_incident_ids = None  # their cached memberships are stale now
        return True
    if by is None or permissions.can(by, "change_privacy", incident):
        hint = "tick “Add them as a member” to let them see it, or choose someone who can."
    else:
        hint = (
            "ask the commander, a manager of the team or an admin to add them as a member "
            "first, or choose someone who can."
        )
    raise ValidationError({"owner": f"{name} cannot see {incident.reference}; {hint}"})


@trail.audited
@transaction.atomic
def create_action_item(
    *, postmortem, by, created_by=None, add_member: bool = False, **fields
) -> ActionItem:
    """Add an item to a postmortem; records who created it and announces it to webhooks.

    `by` is who adds it and is asked; None is an operator's command (a Markdown import at the
    console), with nobody to ask. `created_by` is who the item is recorded as created by when
    that is someone else (the author an import names). An owner who cannot see the incident
    is refused, or added as its member with `add_member` (`item.added_member` says so).
    """
    if by is not None:
        permissions.require(by, "add_action_item", postmortem)
    added = _owner_sees_incident(
        incident=postmortem.incident, owner=fields.get("owner"), by=by, add_member=add_member
    )
    author = created_by or by
    status = fields.get("status", Status.OPEN)
    if status in ActionItem.STATUSES_NEEDING_REASON and not _reason(fields.get("reason")):
        raise ValidationError({"reason": "Say why the item is blocked or will not be done."})
    item = ActionItem(postmortem=postmortem, created_by=author, **fields)
    if item.status == Status.DONE:
        item.completed_at, item.completed_by = timezone.now(), author
    item.full_clean(exclude=["postmortem", "owner", "created_by", "completed_by"])
    item.save()
    ActionItemEvent.objects.create(
        item=item,
        kind=ActionItemEvent.Kind.CREATED,
        by=author,
        to_status=item.status,
        to_due=item.due_on,
        to_owner=item.owner,
    )
    webhooks.announce(item, "action_item.created")
    item.added_member = added
    return item


def _save(item: ActionItem, fields: list[str]) -> None:
    """Save the changed fields and bump the version, so an edit loaded before is refused."""
    item.version = F("version") + 1
    item.save(update_fields=[*fields, "version", "updated_at"])
    item.refresh_from_db(fields=["version"])


@trail.audited
@transaction.atomic
def update_action_item(
    *,
    item: ActionItem,
    by,
    reason: str = "",
    owner=None,
    due_on: date | None = None,
    add_member: bool = False,
    version: int | None = None,
    **fields,
) -> ActionItem:
    """Save edited fields; an owner or due-date change is recorded with `reason` as its why.

    A due-date change needs a reason. Status changes go through `change_status`. With
    `version` (the one the editor loaded) the edit is refused with EditConflict when someone
    changed the item since; the item stays locked until the edit is recorded.
    """
    permissions.require(by, "change_action_item", item)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    claim_version(item, version)
    if due_on is not None and due_on != item.due_on:
        change_due_date(item=item, due_on=due_on, reason=reason, by=by, announce=False)
    if owner is not None and owner.pk != item.owner_id:
        reassign(
            item=item, owner=owner, reason=reason, by=by, announce=False, add_member=add_member
        )
    changed = [name for name, value in fields.items() if getattr(item, name) != value]
    if changed:
        for name in changed:
            setattr(item, name, fields[name])
        _save(item, changed)
        ActionItemEvent.objects.create(
            item=item, kind=ActionItemEvent.Kind.EDITED, by=by, fields=changed
        )
    webhooks.announce(item, "action_item.updated")
    return item


@trail.audited
@transaction.atomic
def change_status(*, item: ActionItem, status: str, reason: str = "", by) -> ActionItem:
    """Move an item to a new status; blocked and won't do need a reason, done records who/when.

    Reopening (done or won't do back to open) is recorded like any other change.
    """
    permissions.require(by, "change_action_item", item)
    if status not in Status.values:
        raise ValidationError({"status": "Choose one of the listed statuses."})
    reason = _reason(reason)
    if status in ActionItem.STATUSES_NEEDING_REASON and not reason:
        label = Status(status).label.lower()
        raise ValidationError({"reason": f"Say why the item is {label}: it is a decision."})
    if status == item.status and reason == item.reason:
        return item
    previous = item.status
    item.status = status
    if status == Status.DONE:
        if previous != Status.DONE:
            item.completed_at, item.completed_by = timezone.now(), by
    else:
        item.completed_at, item.completed_by = None, None
    # The reason shown on the item is the one for its current state; history keeps them all.
    item.reason = reason if status in ActionItem.STATUSES_NEEDING_REASON else ""
    _save(item, ["status", "reason", "completed_at", "completed_by"])
    ActionItemEvent.objects.create(
        item=item,
        kind=ActionItemEvent.Kind.STATUS,
        by=by,
        from_status=previous,
        to_status=status,
        reason=reason,
    )
    event = "action_item.completed" if status == Status.DONE else "action_item.updated"
    webhooks.announce(item, event)
    return item


@trail.audited
@transaction.atomic
def change_due_date(
    *, item: ActionItem, due_on: date, reason: str, by, announce: bool = True
) -> ActionItem:
    """Move the due date; the reason is required and the old date kept in the history."""
    permissions.require(by, "change_action_item", item)
    reason = _reason(reason)
    if due_on == item.due_on:
        return item
    if not reason:
        raise ValidationError({"reason": "Say why the due date moves: the history keeps it."})
    previous = item.due_on
    item.due_on = due_on
    _save(item, ["due_on"])
    ActionItemEvent.objects.create(
        item=item,
        kind=ActionItemEvent.Kind.DUE_DATE,
        by=by,
        from_due=previous,
        to_due=due_on,
        reason=reason,
    )
    if announce:
        webhooks.announce(item, "action_item.updated")
    return item


@trail.audited
@transaction.atomic
def reassign(
    *,
    item: ActionItem,
    owner,
    reason: str = "",
    by,
    announce: bool = True,
    add_member: bool = False,
):
    """Give the item to another person (one named owner, never a team) who can see it."""
    permissions.require(by, "change_action_item", item)
    if owner.pk == item.owner_id:
        return item
    item.added_member = _owner_sees_incident(
        incident=item.postmortem.incident, owner=owner, by=by, add_member=add_member
    )
    previous = item.owner_id
    item.owner = owner
    _save(item, ["owner"])
    ActionItemEvent.objects.create(
        item=item,
        kind=ActionItemEvent.Kind.OWNER,
        by=by,
        from_owner_id=previous,
        to_owner=owner,
        reason=_reason(reason),
    )
    if announce:
        webhooks.announce(item, "action_item.updated")
    return item


def _check_bulk(items: list[ActionItem], by, reason: str) -> str:
    """Bulk changes are for managers, and only of items of the teams they manage."""
    permissions.require(by, "bulk_change_action_items")
    foreign = [i for i in items if not permissions.can(by, "bulk_change_action_item", i)]
    if foreign:
        raise PermissionDenied(f"You manage none of the teams of {len(foreign)} selected item(s).")
    reason = _reason(reason)
    if not items:
        raise ValidationError("Select at least one item.")
    if not reason:
        raise ValidationError({"reason": "Give a reason: it is recorded on every item."})
    return reason


@trail.audited
@transaction.atomic
def bulk_reassign(*, items: list[ActionItem], owner, reason: str, by) -> int:
    """Reassign several items at once (managers of their teams only); returns how many moved."""
    reason = _check_bulk(items, by, reason)
    moved = [i for i in items if i.owner_id != owner.pk]
    for item in moved:
        reassign(item=item, owner=owner, reason=reason, by=by)
    return len(moved)


@trail.audited
@transaction.atomic
def bulk_change_status(*, items: list[ActionItem], status: str, reason: str, by) -> int:
    """Move several items to one status at once (managers only); each keeps its own history,
    and blocked or won't do take the one reason given."""
    reason = _check_bulk(items, by, reason)
    moved = [i for i in items if i.status != status]
    for item in moved:
        change_status(item=item, status=status, reason=reason, by=by)
    return len(moved)


@transaction.atomic
def bulk_change_due_date(*, items: list[ActionItem], due_on: date, reason: str, by) -> int:
    """Move several items' due date at once (managers only); each keeps its own history."""
    reason = _check_bulk(items, by, reason)
    moved = [i for i in items if i.due_on != due_on]
    for item in moved:
        change_due_date(item=item, due_on=due_on, reason=reason, by=by)
    return len(moved)
