"""Running one call in several threads at once, for the tests that race.

On PostgreSQL the race is real: each thread opens its own connection (checked), a barrier
releases them together, and the run checks that the calls overlapped in time; the database's
locks and constraints decide who wins.

On SQLite it is not: the test database is one in-memory file whose table locks fail at once
instead of waiting, so the threads take turns behind a lock and the same test checks only
turn-taking (the second call sees what the first one did). Such tests say so in their id
(`[turns-only-sqlite]`), in the run's first and last lines, and in a line of their own.
"""

import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import connection, connections

REAL = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
MODE = "real-race-postgresql" if REAL else "turns-only-sqlite"
DESCRIPTION = (
    "real races (own connections, started together)"
    if REAL
    else "turn-taking only (SQLite: threads run one after another)"
)

# Marks a racing test; its id then says which of the two it ran.
race = pytest.mark.parametrize("race_mode", [MODE], ids=[MODE])


@dataclass
class Run:
    results: list = field(default_factory=list)  # in the order the calls finished
    spans: list[tuple[float, float]] = field(default_factory=list)
    connections: list = field(default_factory=list)  # each thread's own database wrapper

    @property
    def overlapped(self) -> bool:
        """Some two calls were in progress at the same moment."""
        spans = sorted(self.spans)
        return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))


def run_together(target: Callable, count: int = 2, *, timeout: float = 60) -> Run:
    """Call `target` in `count` threads at once; its results, and proof of the race."""
    barrier = threading.Barrier(count)
    turns = nullcontext() if REAL else threading.Lock()
    run, errors, lock = Run(), [], threading.Lock()

    def worker():
        try:
            barrier.wait(timeout=10)
            with turns:
                start = time.monotonic()
                result = target()
                end = time.monotonic()
                wrapper = connections["default"]
            with lock:
                run.results.append(result)
                run.spans.append((start, end))
                run.connections.append(wrapper)
        except Exception as err:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(err)
        finally:
            connection.close()  # each thread opened its own connection

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), f"a racing call hung > {timeout} s"
    assert not errors, errors
    if REAL:
        assert len({id(wrapper) for wrapper in run.connections}) == count, "shared a connection"
        assert run.overlapped, "the calls ran one after another: no race happened"
    else:
        assert not run.overlapped, "SQLite calls are meant to take turns"
    return run


def report(capsys, line: str) -> None:
    """One visible line naming what the run exercised, even without -s."""
    with capsys.disabled():
        print(f"\n[concurrency] {MODE}: {line}")
