from actions.models import ActionItem


def navigation(request):
    """The overdue count beside "My action items" in the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def my_overdue():
        return ActionItem.objects.visible_to(user).overdue().filter(owner=user).count()

    return {"my_overdue_count": my_overdue}
