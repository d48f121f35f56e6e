"""Benchmark: build a large organisation, then time the main pages and jobs against it.

`manage.py bench --scale S` (`make bench`, SCALE=0.05 by default). In three parts:

- dataset.py: the bench organisation at a scale (built with bulk_create, reused across runs,
  every row marked "bench-" so it lives beside real or demo data);
- measuring.py: timing a page (requested through the WSGI handler by visitor.py, and its floor)
  or a job, and the report;
- registry.py: what is measured. Adding a page or a job is a few lines there: see REGISTRY.
"""

from .dataset import (
    build_dataset,
    dataset_matches,
    dataset_rows,
    drop_dataset,
    ensure_dataset,
    plan_for,
)
from .measuring import (
    Bench,
    BenchmarkError,
    Job,
    Page,
    Result,
    measure_job,
    measure_page,
    percentile,
    run,
    table,
)
from .registry import REGISTRY, url

__all__ = [
    "REGISTRY",
    "Bench",
    "BenchmarkError",
    "Job",
    "Page",
    "Result",
    "build_dataset",
    "dataset_matches",
    "dataset_rows",
    "drop_dataset",
    "ensure_dataset",
    "measure_job",
    "measure_page",
    "percentile",
    "plan_for",
    "run",
    "table",
    "url",
]
