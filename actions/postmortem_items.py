"""What the postmortem editor's action items panel shows: rows with their quality hints."""

from __future__ import annotations

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


def items_panel_context(
    postmortem: Postmortem, form=None, editing=None, edit_form=None, items=None
) -> dict:
    """`items`: the postmortem's items when the page has read them already."""
    rows, set_hints = item_rows(postmortem, items)
    return {
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "item_rows": rows,
        "set_hints": set_hints,
        "item_form": form or ActionItemForm(),
        "editing_item": editing,
        "item_edit_form": edit_form,
    }
