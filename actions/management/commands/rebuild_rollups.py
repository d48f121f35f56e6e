from django.core.management.base import BaseCommand

from actions.repeats import rebuild_repeat_flags


class Command(BaseCommand):
    help = "Recompute the stored dashboard rollups (repeat flags per incident) after a bulk load."

    def handle(self, *args, **options):
        self.stdout.write(rebuild_repeat_flags())
