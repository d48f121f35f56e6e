from django.core.management.base import BaseCommand

from actions.repeats import rebuild_repeat_flags
from actions.rollups import rebuild_dashboard_rollups


class Command(BaseCommand):
    help = (
        "Recompute the stored dashboard rollups (repeat flags per incident, per-day item "
        "counts) after a bulk load."
    )

    def handle(self, *args, **options):
        self.stdout.write(rebuild_repeat_flags())
        self.stdout.write(rebuild_dashboard_rollups())
