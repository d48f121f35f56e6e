"""How postmortem pages show action items without the postmortems app importing this one.

The editor and the meeting presenter are postmortems' templates; they load this library and
ask for the panel, the earlier unfinished fixes, or a capture form. This is the narrow interface
from the document to its items (README, "Layering").
"""

from django import template

from ..forms import ActionItemForm
from ..postmortem_items import items_panel_context
from ..related import earlier_open_items as earlier_items_for

register = template.Library()


# Inclusion tags render with a fresh context that keeps the page's CSRF token, so the panel's
# forms work without JavaScript and no context processor runs a second time.
@register.inclusion_tag("actions/postmortem_items.html", takes_context=True)
def postmortem_items_panel(context) -> dict:
    """The editor's action items panel; a failed form from an actions view is shown again."""
    return items_panel_context(
        context["postmortem"],
        form=context.get("item_form"),
        editing=context.get("editing_item"),
        edit_form=context.get("item_edit_form"),
        items=context.get("items"),  # the editor's document context read them already
        user=context["request"].user,
    )


@register.inclusion_tag("actions/earlier_items.html", takes_context=True)
def earlier_open_items(context) -> dict:
    """Open items from earlier incidents on the same services or factor categories."""
    user = context["request"].user
    known = {}
    if context.get("services") is not None and context.get("factors") is not None:
        # The editor's document context read them already.
        known = {
            "service_ids": [s.pk for s in context["services"]],
            "categories": [f.category for f in context["factors"]],
        }
    return {"earlier_items": earlier_items_for(context["incident"], user, **known)}


@register.simple_tag
def action_item_form(form=None, auto_id: str = "id_%s"):
    """The given (bound, failed) form, else a blank one for capturing an item."""
    return form or ActionItemForm(auto_id=auto_id)
