from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "incidents"

    def ready(self):
        from . import (
            activity,  # noqa: F401 - registers the view_audit_log rule
            audit_trail,  # noqa: F401 - what the audit trail records here
            signals,  # noqa: F401
        )
