import json
import sys

from django.core.management.base import BaseCommand

from postmortems.blameless import lint_text


class Command(BaseCommand):
    help = "Check text on standard input for blame-oriented wording (see postmortems/blameless)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", help="Print the findings as a JSON list."
        )

    def handle(self, *args, **options):
        # Read sys.stdin at call time (not at import) so callers and tests can swap it.
        text = sys.stdin.read()
        findings = lint_text(text)
        if options["json"]:
            self.stdout.write(json.dumps([f.as_dict() for f in findings], indent=2))
            return
        if not findings:
            self.stdout.write("No blame-oriented wording found.")
            return
        for finding in findings:
            line = text.count("\n", 0, finding.start) + 1
            column = finding.start - (text.rfind("\n", 0, finding.start) + 1) + 1
            self.stdout.write(f'{line}:{column} {finding.rule}: "{finding.text}"')
            self.stdout.write(f"    why: {finding.message}")
            self.stdout.write(f"    try: {finding.suggestion}")
        noun = "finding" if len(findings) == 1 else "findings"
        self.stdout.write(f"{len(findings)} {noun}.")
