import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from outbox import health, heartbeat


class Command(BaseCommand):
    help = (
        "Print what /healthz reports and exit 1 when unhealthy. For container health checks "
        "of processes that serve no HTTP (beat): --beat-within MINUTES also requires a beat "
        "tick that recent (beat's own tick runs every minute)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--beat-within", type=int, metavar="MINUTES")

    def handle(self, *args, beat_within=None, **options):
        healthy, details = health.report()
        self.stdout.write(json.dumps(details))
        if beat_within is not None:
            at = heartbeat.last((heartbeat.BEAT,))[heartbeat.BEAT]
            if at is None or (timezone.now() - at).total_seconds() > beat_within * 60:
                raise CommandError(f"beat has not ticked in the last {beat_within} minute(s)")
        if not healthy:
            raise CommandError("unhealthy: " + details["status"])
