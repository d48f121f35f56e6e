from django.contrib import admin

from .models import Dispatch


@admin.register(Dispatch)
class DispatchAdmin(admin.ModelAdmin):
    list_display = ["kind", "recipient", "scope", "period", "state", "attempts", "sent_at"]
    list_filter = ["kind", "state"]
    raw_id_fields = ["recipient"]
