"""The email ledger in the Django admin, and the delivery page: what is still trying or was
given up on, why, and a "resend now" (single or bulk) that reuses the same ledger row."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from . import heartbeat, ledger, queue
from .models import Dispatch

PAGE_SIZE = 50


def resend(rows) -> int:
    """Make these failed or waiting emails due now and queue each once (same rows, no copies)."""
    with transaction.atomic():
        ids = ledger.retry_now(rows)
        queue.send_after_commit(ids)
    return len(ids)


@admin.register(Dispatch)
class DispatchAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "recipient",
        "scope",
        "period",
        "state",
        "attempts",
        "next_try_at",
        "sent_at",
    ]
    list_filter = ["kind", "state"]
    search_fields = ["recipient__email", "scope", "period"]
    raw_id_fields = ["recipient"]
    actions = ["resend_now"]
    change_list_template = "admin/outbox/dispatch/change_list.html"

    @admin.action(description="Resend now (failed or waiting emails)", permissions=["change"])
    def resend_now(self, request, queryset):
        count = resend(queryset)
        self.message_user(request, f"{count} email(s) queued to resend now.", messages.SUCCESS)

    def get_urls(self):
        own = [
            path(
                "delivery/",
                self.admin_site.admin_view(self.delivery_view),
                name="outbox_dispatch_delivery",
            )
        ]
        return own + super().get_urls()

    def delivery_view(self, request: HttpRequest) -> HttpResponse:
        return delivery(request, self)


@require_http_methods(["GET", "POST"])
def delivery(request: HttpRequest, model_admin: DispatchAdmin) -> HttpResponse:
    """Pending and failed emails with the reason, attempts and next try; resend now."""
    # admin_view has already required a signed-in, active staff member; resending changes
    # ledger rows, so it takes the same permission as editing them.
    if not model_admin.has_change_permission(request):
        raise PermissionDenied("Only staff who may change sent emails can see this page.")
    if request.method == "POST":
        # A row's own button sends "one"; the bulk button sends the ticked boxes.
        post = request.POST
        chosen = [post["one"]] if "one" in post else post.getlist("dispatch")
        ids = [int(pk) for pk in chosen if pk.isdigit()]
        count = resend(Dispatch.objects.filter(pk__in=ids)) if ids else 0
        if count:
            messages.success(request, f"{count} email(s) queued to resend now.")
        else:
            messages.warning(request, "Choose at least one pending or failed email to resend.")
        back = reverse("admin:outbox_dispatch_delivery")
        query = request.POST.get("query", "")
        return redirect(f"{back}?{query}" if query else back)

    rows = Dispatch.objects.undelivered().select_related("recipient").order_by("next_try_at", "pk")
    state = request.GET.get("state", "")
    if state in (Dispatch.State.PENDING, Dispatch.State.FAILED):
        rows = rows.filter(state=state)
    kind = request.GET.get("kind", "")
    if kind in Dispatch.Kind.values:
        rows = rows.filter(kind=kind)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Email delivery: pending and failed",
        "opts": Dispatch._meta,
        "page": page,
        "state": state,
        "kind": kind,
        "kinds": Dispatch.Kind.choices,
        "query": params.urlencode(),
        "max_attempts": settings.DEBRIEF_EMAIL_MAX_ATTEMPTS,
        "beat": heartbeat.last((heartbeat.BEAT,))[heartbeat.BEAT],
    }
    return TemplateResponse(request, "admin/outbox/dispatch/delivery.html", context)
