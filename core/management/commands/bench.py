import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import benchmark
from core.benchmark import targets, throughput


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
        parser.add_argument(
            "--compare",
            type=Path,
            default=None,
            metavar="JSON",
            help="An earlier run's output (e.g. at scale 1): report each page's p50 growth.",
        )
        load = parser.add_argument_group("throughput (gunicorn on loopback)")
        load.add_argument(
            "--throughput",
            action="store_true",
            help="Also load the incident list (or the --only pages) from concurrent clients.",
        )
        load.add_argument("--clients", type=int, default=16, help="Concurrent clients.")
        load.add_argument("--seconds", type=float, default=20.0, help="Length of each run.")
        load.add_argument("--workers", type=int, default=None, help="Default: one per core.")

    def handle(self, *args, scale, repeat, warmup, rebuild, only, output, compare, **options):
        if scale <= 0 or repeat < 1:
            raise CommandError("--scale must be positive and --repeat at least 1.")
        if options["clients"] < 1 or options["seconds"] <= 0:
            raise CommandError("--clients must be at least 1 and --seconds positive.")
        earlier = self.earlier_run(compare)
        entries = [e for e in benchmark.REGISTRY if not only or e.name in only]
        unknown = set(only) - {e.name for e in benchmark.REGISTRY}
        if unknown:
            raise CommandError(f"No such page or job: {', '.join(sorted(unknown))}")
        rows = benchmark.ensure_dataset(scale, rebuild=rebuild, log=self.stdout.write)
        self.stdout.write(", ".join(f"{count:,} {name}" for name, count in rows.items()))
        bench = benchmark.Bench(scale, rows)
        results, failures = benchmark.run(entries, bench, repeat=repeat, warmup=warmup)
        self.stdout.write(benchmark.table(results))
        report = [r.as_json() for r in results]
        if options["throughput"]:
            loads = self.throughput(bench, only, options)
            self.stdout.write(throughput.table(loads))
            report += [{"kind": "throughput", "scale": scale} | r.as_json() for r in loads]
        output = output or Path(settings.VAR_DIR) / "bench.json"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2) + "\n")
        self.stdout.write(f"Wrote {output}")
        verdicts = targets.page_verdicts(report)
        verdicts += targets.throughput_verdicts([r for r in report if r["kind"] == "throughput"])
        if earlier:
            verdicts += targets.growth_verdicts(earlier, report)
        self.stdout.write(targets.table(verdicts))
        if failures:
            raise CommandError("Some entries failed:\n  " + "\n  ".join(failures))

    def earlier_run(self, path: Path | None) -> list[dict] | None:
        if path is None:
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise CommandError(f"--compare {path}: {err}") from err

    def throughput(self, bench, only: list[str], options) -> list:
        pages = [
            e
            for e in benchmark.REGISTRY
            if isinstance(e, benchmark.Page)
            and (e.name in only if only else e.name == "incident list")
        ]
        loads = []
        for page in pages:
            self.stdout.write(
                f"Loading {page.name} from {options['clients']} clients for "
                f"{options['seconds']:g} s ..."
            )
            loads.append(
                throughput.load(
                    page.name,
                    page.url(bench),
                    page.user(bench),
                    clients=options["clients"],
                    seconds=options["seconds"],
                    workers=options["workers"],
                )
            )
        return loads
