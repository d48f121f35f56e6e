from django.contrib import admin

from .models import Incident, Profile, Service, SingleSignOnIdentity, Team, TimelineEvent


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members", "managers"]
    search_fields = ["name"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "team"]
    list_filter = ["team"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "timezone", "notify_due_soon", "reminder_hour"]
    search_fields = ["user__username"]


class TimelineInline(admin.TabularInline):
    model = TimelineEvent
    extra = 0
    raw_id_fields = ["author"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "severity", "status", "team", "started_at", "private"]
    list_filter = ["severity", "status", "team", "private", "postmortem_requirement"]
    search_fields = ["title", "number"]
    raw_id_fields = ["commander", "created_by", "related", "members"]
    filter_horizontal = ["services"]
    readonly_fields = ["number", "postmortem_requirement", "postmortem_reason"]
    inlines = [TimelineInline]
    date_hierarchy = "started_at"


@admin.register(SingleSignOnIdentity)
class SingleSignOnIdentityAdmin(admin.ModelAdmin):
    list_display = ["user", "issuer", "subject", "created_at", "last_sign_in_at"]
    search_fields = ["user__username", "subject"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "last_sign_in_at"]
