from django.apps import AppConfig


class ActionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "actions"

    def ready(self):
        from . import (
            audit_trail,  # noqa: F401 - what the audit trail records here
            emails,  # noqa: F401 - registers this app's email builders with the outbox
            figure_rollups,  # noqa: F401 - keeps the incident and postmortem rollups in step
            repeats,  # noqa: F401 - keeps the stored repeat flags in step with changes
            rollups,  # noqa: F401 - keeps the dashboard's per-day rollups in step
        )
