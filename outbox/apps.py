from django.apps import AppConfig
from django.core import checks


class OutboxConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "outbox"

    def ready(self):
        from . import ledger

        checks.register(ledger.check_builders)
