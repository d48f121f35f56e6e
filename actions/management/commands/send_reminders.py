import json

from django.core.management.base import BaseCommand

from actions import jobs


class Command(BaseCommand):
    help = (
        "Send the action item reminders and weekly manager notes due now, each at most once. "
        "For cron instead of Celery beat: run it hourly (owners choose their reminder hour)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Show the emails; send none.")
        parser.add_argument("--json", action="store_true", help="Print a JSON summary.")

    def handle(self, *args, dry_run=False, json=False, **options):
        summary = jobs.run_reminders(dry_run=dry_run)
        _report(self, summary, as_json=json)


def _report(command, summary, *, as_json: bool) -> None:
    if summary.dry_run and not as_json:
        for preview in summary.previews:
            command.stdout.write(preview + "\n" + "-" * 72)
    if as_json:
        command.stdout.write(json.dumps(summary.as_dict(), indent=2))
        return
    verb = "would send" if summary.dry_run else "sent"
    command.stdout.write(
        f"{verb} {summary.emails_sent} email(s) listing {summary.items} item(s); "
        f"{summary.skipped_already_sent} already sent earlier; {summary.failed} failed; "
        f"{summary.nothing_to_send} had nothing left to say."
    )
