from django.contrib import admin

from .models import (
    ActionItem,
    ActionItemEvent,
    CalendarFeed,
    Digest,
    Tracker,
    WebhookDelivery,
    WebhookEndpoint,
)


class EventInline(admin.TabularInline):
    model = ActionItemEvent
    extra = 0
    raw_id_fields = ["by", "from_owner", "to_owner"]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "due_on", "priority", "leverage", "status"]
    list_filter = ["status", "priority", "leverage"]
    search_fields = ["title", "ticket_key"]
    raw_id_fields = ["postmortem", "owner", "completed_by", "created_by"]
    inlines = [EventInline]


@admin.register(Tracker)
class TrackerAdmin(admin.ModelAdmin):
    list_display = ["name", "pattern", "url_template", "position"]
    list_editable = ["position"]


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["period", "scope", "created_at"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "last_used_at"]
    exclude = ["token"]  # the secret stays with its owner


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "team", "active", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "endpoint", "state", "attempts", "response_status", "created_at"]
    list_filter = ["state", "event"]
    raw_id_fields = ["item"]
