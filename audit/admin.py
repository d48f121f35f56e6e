from django.contrib import admin

from . import display
from .models import Entry

# auditlog registers its own admin for the entry model, which lets a delete cascade through;
# the trail is never edited, so it is replaced by one that only reads.
if admin.site.is_registered(Entry):
    admin.site.unregister(Entry)


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "actor_name", "action_name", "kind", "object_repr", "incident_pk"]
    list_select_related = ["actor", "content_type"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "actor__username", "actor_email"]
    date_hierarchy = "timestamp"
    readonly_fields = [
        "timestamp",
        "actor",
        "actor_email",
        "action",
        "content_type",
        "object_pk",
        "object_repr",
        "incident_pk",
        "changes",
        "cid",
    ]
    fields = readonly_fields

    @admin.display(description="who")
    def actor_name(self, entry):
        return entry.actor or entry.actor_email or "system"

    @admin.display(description="action")
    def action_name(self, entry):
        return display.action_of(entry)

    @admin.display(description="type")
    def kind(self, entry):
        return display.kind_of(entry)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
