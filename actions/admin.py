from django.contrib import admin

from .models import ActionItem


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "due_on", "priority", "leverage", "status"]
    list_filter = ["status", "priority", "leverage"]
    search_fields = ["title", "ticket_key"]
    raw_id_fields = ["postmortem", "owner", "completed_by", "created_by"]
