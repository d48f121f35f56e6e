import re

from django.core.management.base import BaseCommand, CommandError

from actions import jobs
from actions.metrics import Period
from incidents.models import Team

from .send_reminders import _report


class Command(BaseCommand):
    help = (
        "Build, store and email the monthly review digests (organisation and teams), each at "
        "most once per recipient. Default month: the previous calendar month."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM; default: last month.")
        parser.add_argument("--team", help="Only this team's digest (its slug).")
        parser.add_argument("--dry-run", action="store_true", help="Show the emails; store none.")
        parser.add_argument("--json", action="store_true", help="Print a JSON summary.")
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="Resend now the digests that failed (and those waiting to retry).",
        )

    def handle(
        self, *args, month=None, team=None, dry_run=False, json=False, retry_failed=False, **options
    ):
        period = None
        if month:
            if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
                raise CommandError(f"--month must look like 2026-10, not {month!r}.")
            period = Period.month(month)
        if team and not Team.objects.filter(slug=team).exists():
            raise CommandError(f"No team with the slug {team!r}.")
        summary = jobs.run_digests(period, team=team, dry_run=dry_run, retry_failed=retry_failed)
        _report(self, summary, as_json=json)
