from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import permissions
from incidents.paging import paginate, query_without_page

from . import webhooks
from .forms import WebhookForm
from .models import WebhookDelivery


@require_http_methods(["GET", "POST"])
def webhook_list(request):
    permissions.require(request.user, "set_up_webhooks")
    form = WebhookForm(
        request.POST or None,
        teams=webhooks.teams_managed_by(request.user),
        allow_org=permissions.can(request.user, "manage_webhooks", None),
    )
    if request.method == "POST" and form.is_valid():
        endpoint = webhooks.create_endpoint(by=request.user, **form.cleaned_data)
        messages.success(request, "Webhook added. Its signing secret is shown on its page.")
        return redirect(endpoint)
    endpoints = webhooks.endpoints_managed_by(request.user).annotate(
        failed=Count("deliveries", filter=Q(deliveries__state="failed"))
    )
    status = 422 if form.errors else 200
    return render(
        request, "actions/webhook_list.html", {"endpoints": endpoints, "form": form}, status=status
    )


@require_GET
def webhook_detail(request, pk: int):
    endpoint = get_object_or_404(webhooks.endpoints_managed_by(request.user), pk=pk)
    deliveries = endpoint.deliveries.select_related("item")
    context = {
        "endpoint": endpoint,
        "page": paginate(request, deliveries),
        "query": query_without_page(request),
    }
    return render(request, "actions/webhook_detail.html", context)


@require_POST
def webhook_change(request, pk: int):
    endpoint = get_object_or_404(webhooks.endpoints_managed_by(request.user), pk=pk)
    action = request.POST.get("action")
    if action == "toggle":
        webhooks.set_endpoint_paused(endpoint=endpoint, paused=endpoint.active, by=request.user)
        messages.success(request, "Webhook " + ("enabled." if endpoint.active else "paused."))
    elif action == "delete":
        webhooks.delete_endpoint(endpoint=endpoint, by=request.user)
        messages.success(request, "Webhook deleted.")
        return redirect("actions:webhooks")
    elif action == "retry":
        try:
            delivery_id = int(request.POST.get("delivery", ""))
        except ValueError:
            return HttpResponseBadRequest("Which delivery? Its id is a number.")
        delivery = get_object_or_404(
            endpoint.deliveries, pk=delivery_id, state=WebhookDelivery.State.FAILED
        )
        webhooks.retry_delivery(delivery=delivery, by=request.user)
        messages.success(request, "Delivery queued again.")
    return redirect(endpoint)
