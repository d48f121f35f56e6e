from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Page, Paginator


def paginate(request, queryset, per_page: int | None = None) -> Page:
    """One page of results; a bad or too-large page number gives the nearest real page."""
    paginator = Paginator(queryset, per_page or settings.PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def query_without_page(request) -> str:
    """The current filters as a query string, so pagination links keep them."""
    pairs = [
        (name, value)
        for name, values in request.GET.lists()
        if name != "page"
        for value in values
        if value != ""  # empty filters add nothing but noise to a shared link
    ]
    return urlencode(pairs)
