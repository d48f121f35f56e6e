import csv
from contextlib import contextmanager

from django.db import connection, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from incidents.paging import paginate, query_without_page

from .. import metrics
from . import rows as row_lists
from .figures import Dashboard
from .params import select


@contextmanager
def analytics():
    """One read transaction for the page's aggregates. On PostgreSQL, just-in-time
    compilation is switched off inside it: the planner's estimates for these joins trigger
    JIT, whose compile time (0.1–3 s measured at scale 1) exceeds the queries' own run time.
    Facts the figures share (the viewer's private incidents) are read once inside it."""
    with transaction.atomic(), metrics.reading_once():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def _sorts(request) -> dict[str, str]:
    """`<figure>_sort=<column>` (or `-<column>`) for the sortable tables."""
    return {
        key.removesuffix("_sort"): value
        for key, value in request.GET.items()
        if key.endswith("_sort") and value
    }


@require_GET
def dashboard(request):
    selection = select(request)
    board = Dashboard(selection, request.user, timezone.localdate(), _sorts(request))
    with analytics():
        headlines = board.headlines()
        sections = board.sections()
    template = "actions/dashboard.html"
    if request.htmx and not request.htmx.boosted:
        template += "#board"
    context = {
        "s": selection,
        "board": board,
        "headlines": headlines,
        "sections": sections,
        "query": selection.query(),
    }
    return render(request, template, context)


@require_GET
def dashboard_figure(request, key: str):
    """One figure: the htmx fragment that replaces its placeholder on the dashboard, or, for a
    plain request (no JavaScript, a shared link, "See all" under a table), a page of its own,
    with every row of its table (the dashboard shows the first few)."""
    selection = select(request, picker=False)
    board = Dashboard(selection, request.user, timezone.localdate(), _sorts(request))
    if not request.htmx:
        board.whole()
    with analytics():
        figure = board.figure(key)
    if figure is None:
        raise Http404("No such figure.")
    context = {"s": selection, "f": figure, "query": selection.query()}
    if request.htmx:
        return render(request, "actions/dashboard_figure.html", context)
    return render(request, "actions/dashboard_figure_page.html", context)


# A spreadsheet treats a cell starting with these as a formula; team and item names are typed
# by people, so such text is prefixed with a quote (numbers are left alone).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@require_GET
def dashboard_csv(request, key: str):
    selection = select(request, picker=False)
    board = Dashboard(selection, request.user, timezone.localdate(), _sorts(request)).full()
    with analytics():
        figure = board.figure(key)
    if figure is None:
        raise Http404("No such figure.")
    period = selection.period
    scope = selection.scope_key.replace(":", "-")
    name = f"debrief-{key}-{scope}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow([column.csv_label for column in figure.columns])
    writer.writerows([_safe(cell.value) for cell in row] for row in figure.rows)
    return response


@require_GET
def dashboard_rows(request, kind: str):
    selection = select(request, picker=False)
    with analytics():
        rows = row_lists.build(kind, selection, request.user, request.GET)
        page = paginate(request, rows.queryset, count=rows.count)
        page.object_list = (rows.load or list)(page.object_list)
    context = {
        "s": selection,
        "rows": rows,
        "page": page,
        "query": query_without_page(request),
        "back": selection.query(),
        "today": selection.today,
    }
    return render(request, "actions/dashboard_rows.html", context)
