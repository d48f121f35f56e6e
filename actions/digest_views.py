from html import escape

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from incidents import permissions
from incidents.models import Team
from incidents.paging import paginate, query_without_page
from outbox.models import Dispatch

from . import digests, metrics
from .models import Digest


def _scope_options(chosen: str) -> str:
    """The scope filter's options: every team's, written in Python (200 teams at scale 5 cost
    a template loop 5 ms) from two columns rather than a model object each."""
    options = [("", "All digests"), ("org", "Organisation")]
    options += [
        (f"team:{slug}", name)
        for slug, name in Team.objects.order_by("name").values_list("slug", "name")
    ]
    html = "".join(
        f'<option value="{escape(key)}"{" selected" * (key == chosen)}>{escape(label)}</option>'
        for key, label in options
    )
    return mark_safe(html)  # noqa: S308 - every value and label is escaped above


@require_GET
def digest_list(request):
    # Digests count public incidents only (see digests.py), so everyone signed in may read them.
    digests = Digest.objects.defer("figures")
    scope = request.GET.get("scope", "")
    if scope:
        digests = digests.filter(scope=scope)
    page = paginate(request, digests)
    page.object_list = Digest.objects.listed(page.object_list)
    context = {
        "page": page,
        "query": query_without_page(request),
        "scope": scope,
        "scope_options": _scope_options(scope),
    }
    return render(request, "actions/digest_list.html", context)


@require_GET
def digest_detail(request, pk: int):
    digest = get_object_or_404(Digest.objects.select_related("team"), pk=pk)
    figures, hidden = digests.figures_seen_by(digest, request.user)
    context = {"digest": digest, "figures": figures, "hidden": hidden}
    return render(request, "actions/digest_detail.html", context)


@require_GET
def digest_preview(request):
    """This month so far, for a scope: computed now from the same definitions, neither stored
    nor emailed, so a team can see its digest take shape (and a fresh install has one)."""
    scope_key = request.GET.get("scope", "org")
    if scope_key == "org":
        scope = metrics.ORG
    elif scope_key.startswith("team:"):
        scope = metrics.Scope(team=get_object_or_404(Team, slug=scope_key.removeprefix("team:")))
    else:
        raise Http404("Choose the organisation or a team.")
    today = timezone.localdate()
    period = metrics.Period(today.replace(day=1), today)
    figures = digests.compute_figures(period, scope)
    preview = Digest(period=period.label, team=scope.team, scope=scope.key, figures=figures)
    context = {"digest": preview, "figures": figures, "hidden": 0, "preview": True}
    return render(request, "actions/digest_detail.html", context)


@require_GET
def dispatch_list(request):
    """The email ledger: staff see every row (failures included); team managers the emails to
    the people of the teams they manage (reminders are how items get finished, and a manager
    checks they went out); everyone else their own."""
    rows = Dispatch.objects.select_related("recipient")
    user = request.user
    managed = permissions.managed_team_ids(user)
    if not user.is_staff:
        who = Q(recipient=user)
        if managed:
            who |= Q(recipient__teams__in=managed) | Q(recipient__managed_teams__in=managed)
            rows = rows.filter(pk__in=Dispatch.objects.filter(who).values("pk"))
        else:
            rows = rows.filter(who)
    state = request.GET.get("state", "")
    if state in Dispatch.State.values:
        rows = rows.filter(state=state)
    context = {
        "page": paginate(request, rows),
        "query": query_without_page(request),
        "state": state,
        "states": Dispatch.State.choices,
        "scope": "all" if user.is_staff else "teams" if managed else "mine",
    }
    return render(request, "actions/dispatch_list.html", context)
