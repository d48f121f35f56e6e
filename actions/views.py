from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from incidents.paging import paginate, query_without_page

from .filters import ActionItemFilter
from .models import ActionItem


def _render_list(request, queryset, title: str, *, mine: bool):
    filters = ActionItemFilter(request.GET, queryset=queryset)
    page = paginate(request, filters.qs)
    template = "actions/actionitem_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    context = {
        "filters": filters,
        "page": page,
        "query": query_without_page(request),
        "title": title,
        "mine": mine,
    }
    return render(request, template, context)


@require_GET
def my_actions(request):
    items = ActionItem.objects.visible_to(request.user).filter(owner=request.user).for_list()
    return _render_list(request, items, "My action items", mine=True)


@require_GET
def action_list(request):
    items = ActionItem.objects.visible_to(request.user).for_list()
    return _render_list(request, items, "Action items", mine=False)


@require_GET
def action_detail(request, pk: int):
    item = get_object_or_404(ActionItem.objects.visible_to(request.user).for_list(), pk=pk)
    return render(request, "actions/actionitem_detail.html", {"item": item})
