"""Timing: who requests the pages, what a page and a job are, and the report.

A page is requested `repeat` times through the WSGI handler (see visitor.py) by a logged-in
user, and its main SQL alone (its floor) is timed the same number of times; a job is timed once
in a transaction that is rolled back.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection, transaction
from django.db.models import Count

from incidents.models import Incident, Team

from .dataset import ENGINEER, MANAGER, PREFIX
from .visitor import HOST, Visitor, overridden

User = get_user_model()


class Bench:
    """The realistic people and objects pages are requested with, looked up once."""

    def __init__(self, scale: float, rows: dict[str, int]):
        self.scale = scale
        self.rows = rows

    @cached_property
    def engineer(self):
        return User.objects.get(username=ENGINEER)

    @cached_property
    def manager(self):
        return User.objects.get(username=MANAGER)

    @cached_property
    def team(self) -> Team:
        return Team.objects.get(slug=f"{PREFIX}team-000")

    @cached_property
    def busy_incident(self) -> Incident:
        """The first team's incident with the longest timeline."""
        return (
            Incident.objects.filter(team=self.team, private=False)
            .annotate(events=Count("timeline"))
            .order_by("-events", "pk")
            .first()
        )


@dataclass(frozen=True)
class Page:
    """A page requested `repeat` times by a logged-in user.

    url: the address to request for this bench (a realistic user and object).
    floor: runs the page's main SQL alone (e.g. the same filtered, paginated queryset), so the
        report shows how much of the page's time is that SQL and how much everything else.
    user: who is logged in; a plain engineer unless the page is for someone else.
    """

    name: str
    url: Callable[[Bench], str]
    floor: Callable[[Bench], object] | None = None
    user: Callable[[Bench], object] = lambda bench: bench.engineer
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """A callable (a periodic job, a digest, an export) timed once.

    run returns extra figures for the report, e.g. {"owners": 12}; emails sent through Django's
    mail API are counted as "emails". It runs in a transaction that is rolled back, so reruns
    measure the same work (callbacks registered with on_commit therefore never fire).
    """

    name: str
    run: Callable[[Bench], dict | None]


@dataclass
class Result:
    name: str
    scale: float
    queries: int
    p50_ms: float
    p95_ms: float
    floor_ms: float | None
    rows: dict[str, int]
    extra: dict = field(default_factory=dict)
    kind: str = "page"

    def as_json(self) -> dict:
        data = {
            "name": self.name,
            "kind": self.kind,
            "scale": self.scale,
            "database": connection.vendor,
            "queries": self.queries,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "floor_ms": self.floor_ms,
            "rows": self.rows,
        }
        return data | self.extra


class BenchmarkError(Exception):
    pass


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile: with 20 samples, p95 is the 19th fastest."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def to_ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def measure_page(page: Page, bench: Bench, *, repeat: int, warmup: int = 2) -> Result:
    visitor = Visitor(
        page.user(bench),
        headers=page.headers,
        secure=getattr(settings, "SECURE_SSL_REDIRECT", False),
    )
    url = page.url(bench)

    def get():
        response = visitor.get(url)
        if response.status_code != 200:
            raise BenchmarkError(f"{page.name}: GET {url} returned {response.status_code}")

    try:
        for _ in range(warmup):
            get()
        durations, counts = [], []
        for _ in range(repeat):
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                started = time.perf_counter()
                get()
                durations.append(time.perf_counter() - started)
            counts.append(counter.count)
    finally:
        visitor.log_out()
    floor_ms = None
    if page.floor:
        page.floor(bench)  # warm, like the page
        floors = []
        for _ in range(repeat):
            started = time.perf_counter()
            page.floor(bench)
            floors.append(time.perf_counter() - started)
        floor_ms = to_ms(statistics.median(floors))
    return Result(
        name=page.name,
        scale=bench.scale,
        queries=max(counts),
        p50_ms=to_ms(statistics.median(durations)),
        p95_ms=to_ms(percentile(durations, 0.95)),
        floor_ms=floor_ms,
        rows=bench.rows,
    )


class QueryCounter:
    """Counts queries without keeping them (Django's debug log of queries stops at 9,000)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure_job(job: Job, bench: Bench) -> Result:
    counter = QueryCounter()
    with (
        overridden(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        transaction.atomic(),
    ):
        mail.outbox = []
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            extra = job.run(bench) or {}
            elapsed = time.perf_counter() - started
        extra = {"emails": len(mail.outbox), **extra}
        transaction.set_rollback(True)
    return Result(
        name=job.name,
        scale=bench.scale,
        queries=counter.count,
        p50_ms=to_ms(elapsed),
        p95_ms=to_ms(elapsed),
        floor_ms=None,
        rows=bench.rows,
        extra=extra,
        kind="job",
    )


def run(
    entries: list[Page | Job], bench: Bench, *, repeat: int = 20, warmup: int = 2
) -> tuple[list[Result], list[str]]:
    """Measure each entry; a failing page is reported, and the others still run."""
    results, failures = [], []
    # The visitor's host name; real deployments list their own hosts.
    with overridden(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, HOST]):
        for entry in entries:
            try:
                if isinstance(entry, Job):
                    results.append(measure_job(entry, bench))
                else:
                    results.append(measure_page(entry, bench, repeat=repeat, warmup=warmup))
            except Exception as err:  # one broken page must not hide the others' figures
                failures.append(f"{entry.name}: {type(err).__name__}: {err}")
    return results, failures


def table(results: list[Result]) -> str:
    header = f"{'name':<34} {'scale':>6} {'queries':>7} {'p50_ms':>9} {'p95_ms':>9} {'floor_ms':>9}"
    lines = [header, "-" * len(header)]
    for r in results:
        floor = "-" if r.floor_ms is None else f"{r.floor_ms:.1f}"
        extra = "  " + " ".join(f"{k}={v}" for k, v in r.extra.items()) if r.extra else ""
        lines.append(
            f"{r.name:<34} {r.scale:>6g} {r.queries:>7} {r.p50_ms:>9.1f} {r.p95_ms:>9.1f} "
            f"{floor:>9}{extra}"
        )
    lines.append("-" * len(header))
    lines += totals(results)
    return "\n".join(lines)


def totals(results: list[Result]) -> list[str]:
    """One line for all pages (the sum of their p50s and p95s: a whole tour of the site, one
    request each) and one for all jobs, so two runs compare at a glance."""
    lines = []
    pages = [r for r in results if r.kind == "page"]
    if pages:
        floors = [r.floor_ms for r in pages if r.floor_ms is not None]
        name = f"total: {len(pages)} pages"
        floor = f"{sum(floors):.1f}" if floors else "-"
        lines.append(
            f"{name:<34} {pages[0].scale:>6g} {sum(r.queries for r in pages):>7} "
            f"{sum(r.p50_ms for r in pages):>9.1f} {sum(r.p95_ms for r in pages):>9.1f} "
            f"{floor:>9}"
        )
    jobs = [r for r in results if r.kind == "job"]
    if jobs:
        name = f"total: {len(jobs)} jobs"
        emails = sum(r.extra.get("emails", 0) for r in jobs)
        lines.append(
            f"{name:<34} {jobs[0].scale:>6g} {sum(r.queries for r in jobs):>7} "
            f"{sum(r.p50_ms for r in jobs):>9.1f} {sum(r.p95_ms for r in jobs):>9.1f} "
            f"{'-':>9}  emails={emails}"
        )
    return lines
