from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.models import Team
from incidents.paging import paginate, query_without_page

from .forms import WebhookForm
from .models import WebhookDelivery, WebhookEndpoint, managed_teams_of
from .tasks import deliver_webhook


def _endpoints(user):
    """Admins manage every endpoint; team managers those of their teams."""
    endpoints = WebhookEndpoint.objects.select_related("team")
    if user.is_superuser:
        return endpoints
    return endpoints.filter(team_id__in=managed_teams_of(user))


def _form_teams(user):
    teams = Team.objects.order_by("name")
    return teams if user.is_superuser else teams.filter(pk__in=managed_teams_of(user))


@require_http_methods(["GET", "POST"])
def webhook_list(request):
    teams = _form_teams(request.user)
    if not request.user.is_superuser and not teams.exists():
        raise PermissionDenied("Webhooks are set up by team managers and admins.")
    form = WebhookForm(request.POST or None, teams=teams, allow_org=request.user.is_superuser)
    if request.method == "POST" and form.is_valid():
        endpoint = form.save(commit=False)
        endpoint.created_by = request.user
        endpoint.save()
        messages.success(request, "Webhook added. Its signing secret is shown on its page.")
        return redirect(endpoint)
    endpoints = _endpoints(request.user).annotate(
        failed=Count("deliveries", filter=Q(deliveries__state="failed"))
    )
    status = 422 if form.errors else 200
    return render(
        request, "actions/webhook_list.html", {"endpoints": endpoints, "form": form}, status=status
    )


@require_GET
def webhook_detail(request, pk: int):
    endpoint = get_object_or_404(_endpoints(request.user), pk=pk)
    deliveries = endpoint.deliveries.select_related("item")
    context = {
        "endpoint": endpoint,
        "page": paginate(request, deliveries),
        "query": query_without_page(request),
    }
    return render(request, "actions/webhook_detail.html", context)


@require_POST
def webhook_change(request, pk: int):
    endpoint = get_object_or_404(_endpoints(request.user), pk=pk)
    action = request.POST.get("action")
    if action == "toggle":
        endpoint.active = not endpoint.active
        endpoint.save(update_fields=["active"])
        messages.success(request, "Webhook " + ("enabled." if endpoint.active else "paused."))
    elif action == "delete":
        endpoint.delete()
        messages.success(request, "Webhook deleted.")
        return redirect("actions:webhooks")
    elif action == "retry":
        delivery = get_object_or_404(
            endpoint.deliveries, pk=request.POST.get("delivery"), state="failed"
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(state="pending", error="")
        deliver_webhook.delay(delivery.pk)
        messages.success(request, "Delivery queued again.")
    return redirect(endpoint)
