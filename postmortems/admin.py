from django.contrib import admin

from .models import ContributingFactor, Postmortem


class FactorInline(admin.StackedInline):
    model = ContributingFactor
    extra = 0


@admin.register(Postmortem)
class PostmortemAdmin(admin.ModelAdmin):
    list_display = ["incident", "status", "author", "published_at"]
    list_filter = ["status"]
    raw_id_fields = ["incident", "author", "reviewers"]
    inlines = [FactorInline]
