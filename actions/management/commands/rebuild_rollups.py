from django.core.management.base import BaseCommand

from actions.figure_rollups import rebuild_figure_rollups
from actions.repeats import rebuild_repeat_flags
from actions.rollups import rebuild_dashboard_rollups


class Command(BaseCommand):
    help = (
        "Recompute the stored dashboard rollups (repeat flags per incident, per-day item "
        "counts, incident and postmortem figures per day and month) after a bulk load."
    )

    def handle(self, *args, **options):
        self.stdout.write(rebuild_repeat_flags())
        self.stdout.write(rebuild_dashboard_rollups())
        self.stdout.write(rebuild_figure_rollups())
