"""What the postmortem editor's action items panel shows: rows with their quality hints."""

from __future__ import annotations

from incidents import permissions
from incidents.models import Team
from postmortems.checks import section_findings
from postmortems.models import Postmortem

from .forms import ActionItemForm
from .quality import action_item_hints, postmortem_item_hints


def item_rows(postmortem: Postmortem, items: list | None = None) -> tuple[list[dict], list]:
    if items is None:
        items = list(postmortem.action_items.select_related("owner"))
    teams = list(Team.objects.values_list("name", flat=True))
    rows = [
        {
            "item": item,
            "hints": action_item_hints(
                title=item.title,
                description=item.description,
                owner=item.owner,
                due_on=item.due_on,
                ticket_key=item.ticket_key,
                team_names=teams,
            ),
            "findings": section_findings(item.title),
        }
        for item in items
    ]
    return rows, postmortem_item_hints(items)


def membership_offered(user, incident) -> bool:
    """Whether item forms offer to make the owner a member: only to who may add members."""
    return user is not None and permissions.can(user, "change_privacy", incident)


def added_member_notice(item) -> str:
    """What the editor is told when saving the item made its owner a member of the incident."""
    if not getattr(item, "added_member", False):
        return ""
    owner = item.owner
    name = owner.get_full_name() or owner.get_username()
    return f"{name} is now a member of {item.postmortem.incident.reference}, so they can see it."


def items_panel_context(
    postmortem: Postmortem, form=None, editing=None, edit_form=None, items=None, user=None
) -> dict:
    """`items`: the postmortem's items when the page has read them already; `user`: who reads
    the panel (decides which forms and links it offers)."""
    rows, set_hints = item_rows(postmortem, items)
    offer = membership_offered(user, postmortem.incident)
    may_add = user is not None and permissions.can(user, "add_action_item", postmortem)
    return {
        "may_add_items": may_add,
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "item_rows": rows,
        "set_hints": set_hints,
        "item_form": form or (ActionItemForm(offer_membership=offer) if may_add else None),
        "editing_item": editing,
        "item_edit_form": edit_form,
    }
