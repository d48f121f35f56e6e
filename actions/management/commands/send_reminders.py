import json

from django.core.management.base import BaseCommand

from actions import jobs


class Command(BaseCommand):
    help = (
        "Send the action item reminders and weekly manager notes due now, each at most once. "
        "For cron instead of Celery beat: run it hourly (owners choose their reminder hour); "
        "it also sends every email whose retry is due, as beat's tick does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Show the emails; send none.")
        parser.add_argument("--json", action="store_true", help="Print a JSON summary.")
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="Resend failed reminders and manager notes now (and those waiting to retry).",
        )

    def handle(self, *args, dry_run=False, json=False, retry_failed=False, **options):
        summary = jobs.run_reminders(dry_run=dry_run, retry_failed=retry_failed)
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
    if summary.retried_sent or summary.retrying:
        command.stdout.write(
            f"{summary.retried_sent} earlier failure(s) delivered now; "
            f"{summary.retrying} will be tried again (backoff)."
        )
    if summary.failed:
        command.stdout.write("Resend the failed ones now with --retry-failed.")
