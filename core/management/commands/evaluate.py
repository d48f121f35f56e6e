"""`make eval`: measure the language tools on their labelled corpora and record the figures.

Each tool's evaluation writes its own section of docs/evaluation.md (between its markers) and
returns rows for the table printed here.
"""

import importlib

from django.core.management.base import BaseCommand

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
        if write:
            self._importer()
        else:
            self.stdout.write("Importer: skipped with --no-write (its run() writes its section).")
        if write:
            self.stdout.write(f"Written to {blame_evaluation.DOC}")

    def _importer(self) -> None:
        # The importer's evaluation lives with the importer (actions/markdown/evaluation.py)
        # and writes its own section; it may not exist on every branch yet.
        try:
            evaluation = importlib.import_module("actions.markdown.evaluation")
        except ModuleNotFoundError as missing:
            if missing.name and not "actions.markdown.evaluation".startswith(missing.name):
                raise  # a real import error inside the module, not its absence
            self.stdout.write(
                "Importer: no evaluation yet (actions/markdown/evaluation.py is missing); "
                "its section of docs/evaluation.md is left as it is."
            )
            return
        self.stdout.write("")
        self.stdout.write("Markdown importer (actions.markdown.evaluation)")
        result = evaluation.run()
        if result is not None:
            self.stdout.write(result if isinstance(result, str) else str(result))
