from actions.models import ActionItem

# Which navigation entry a page of the actions app belongs to (others: by namespace).
ACTIONS_SECTIONS = {
    "list": "all",
    "dashboard": "dashboard",
    "dashboard-csv": "dashboard",
    "dashboard-figure": "dashboard",
    "dashboard-rows": "dashboard",
    "digests": "digests",
    "digest": "digests",
    "digest-preview": "digests",
    "dispatches": "digests",
}


def nav_section(match) -> str:
    if match is None:
        return ""
    if match.namespace == "actions":
        return ACTIONS_SECTIONS.get(match.url_name, "mine")
    return match.namespace


def navigation(request):
    """The navigation entry of this page, and the overdue count beside "My action items"."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def my_overdue():
        return ActionItem.objects.visible_to(user).overdue().filter(owner=user).count()

    section = nav_section(getattr(request, "resolver_match", None))
    return {"my_overdue_count": my_overdue, "nav_section": section}
