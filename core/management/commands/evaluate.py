"""`make eval`: measure the language tools on their labelled corpora and record the figures.

Each tool's evaluation writes its own section of docs/evaluation.md (between its markers) and
returns rows for the table printed here.
"""

from django.core.management.base import BaseCommand

from actions.markdown import evaluation
from postmortems import blame_evaluation


class Command(BaseCommand):
    help = "Precision/recall of the blameless check and importer accuracy, on both corpus halves."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-write", action="store_true", help="Print only; leave docs/evaluation.md alone."
        )

    def handle(self, *args, **options):
        write = not options["no_write"]
        scores = blame_evaluation.run(write=write)
        self.stdout.write("Blameless-language check (tests/corpus/blame)")
        header = f"{'half':<28}{'sentences':>10}{'precision':>11}{'recall':>9}{'ms/sent':>9}"
        self.stdout.write(header)
        for s in scores:
            self.stdout.write(
                f"{s.half:<28}{s.sentences:>10}{s.precision:>11.1%}{s.recall:>9.1%}"
                f"{s.ms_per_sentence:>9.2f}"
            )
        self.stdout.write("")
        # The importer's evaluation prints its own table and writes its own section.
        figures = evaluation.run(write=write, out=self.stdout.write)
        test_blame = next(s for s in scores if s.half == "test")
        test_import = figures["test"]
        blame_met = test_blame.precision >= 0.9 and test_blame.recall >= 0.9
        import_met = test_import["accuracy"] >= 0.95 and test_import["misplaced_events"] == 0
        self.stdout.write("")
        self.stdout.write(
            f"Targets on the test halves: blameless check {'met' if blame_met else 'NOT met'}; "
            f"importer {'met' if import_met else 'NOT met'}."
        )
        if write:
            self.stdout.write(f"Written to {blame_evaluation.DOC}")
