from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from incidents.models import Team
from incidents.paging import paginate, query_without_page
from outbox.models import Dispatch

from . import digests
from .models import Digest


@require_GET
def digest_list(request):
    # Digests count public incidents only (see digests.py), so everyone signed in may read them.
    digests = Digest.objects.select_related("team")
    scope = request.GET.get("scope", "")
    if scope:
        digests = digests.filter(scope=scope)
    context = {
        "page": paginate(request, digests),
        "query": query_without_page(request),
        "scope": scope,
        "teams": Team.objects.order_by("name"),
    }
    return render(request, "actions/digest_list.html", context)


@require_GET
def digest_detail(request, pk: int):
    digest = get_object_or_404(Digest.objects.select_related("team"), pk=pk)
    figures, hidden = digests.figures_seen_by(digest, request.user)
    context = {"digest": digest, "figures": figures, "hidden": hidden}
    return render(request, "actions/digest_detail.html", context)


@require_GET
def dispatch_list(request):
    """The email ledger: staff see every row (failures included); others their own."""
    rows = Dispatch.objects.select_related("recipient")
    if not request.user.is_staff:
        rows = rows.filter(recipient=request.user)
    state = request.GET.get("state", "")
    if state in Dispatch.State.values:
        rows = rows.filter(state=state)
    context = {
        "page": paginate(request, rows),
        "query": query_without_page(request),
        "state": state,
        "states": Dispatch.State.choices,
    }
    return render(request, "actions/dispatch_list.html", context)
