import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import benchmark


class Command(BaseCommand):
    help = "Build (or reuse) a large bench dataset and time the main pages and jobs against it."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=0.05, help="1 = 20,000 incidents.")
        parser.add_argument("--repeat", type=int, default=20, help="Timed requests per page.")
        parser.add_argument("--warmup", type=int, default=2, help="Untimed requests first.")
        parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the data.")
        parser.add_argument(
            "--only", action="append", default=[], metavar="NAME", help="Measure only these."
        )
        parser.add_argument("--output", type=Path, default=None, help="Default: var/bench.json.")

    def handle(self, *args, scale, repeat, warmup, rebuild, only, output, **options):
        if scale <= 0 or repeat < 1:
            raise CommandError("--scale must be positive and --repeat at least 1.")
        entries = [e for e in benchmark.REGISTRY if not only or e.name in only]
        unknown = set(only) - {e.name for e in benchmark.REGISTRY}
        if unknown:
            raise CommandError(f"No such page or job: {', '.join(sorted(unknown))}")
        rows = benchmark.ensure_dataset(scale, rebuild=rebuild, log=self.stdout.write)
        self.stdout.write(", ".join(f"{count:,} {name}" for name, count in rows.items()))
        bench = benchmark.Bench(scale, rows)
        results, failures = benchmark.run(entries, bench, repeat=repeat, warmup=warmup)
        self.stdout.write(benchmark.table(results))
        output = output or Path(settings.VAR_DIR) / "bench.json"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps([r.as_json() for r in results], indent=2) + "\n")
        self.stdout.write(f"Wrote {output}")
        if failures:
            raise CommandError("Some entries failed:\n  " + "\n  ".join(failures))
