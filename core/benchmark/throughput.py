"""Throughput: signed-in clients requesting one page from gunicorn on loopback, as deployed.

The per-page figures (measuring.py) time one request at a time through the WSGI handler. This
answers the capacity question instead: with gunicorn's sync workers, one per core, and N
clients asking at once, how many requests a second does the machine serve, how long do the
clients wait (p50/p95), how many answers are not 200, and how much server CPU does one request
cost. The server runs as production does (DEBUG off, collected static files, WhiteNoise); the
clients are threads in this process, so they share the machine with the server, which is what
a load generator on the same host does.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings

from .measuring import percentile, to_ms
from .visitor import session_cookie

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
APPLICATION = "config.wsgi"  # what gunicorn serves (the Dockerfile's command)


@dataclass
class LoadResult:
    name: str
    path: str
    clients: int
    workers: int
    seconds: float
    requests: int
    errors: int
    requests_per_s: float
    requests_per_s_per_core: float
    p50_ms: float
    p95_ms: float
    cpu_ms_per_request: float

    def as_json(self) -> dict:
        return asdict(self)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(static_root: Path) -> dict[str, str]:
    """The environment of a deployed server: DEBUG off, hashed static files (WhiteNoise)."""
    return {
        **os.environ,
        "DEBUG": "false",
        # The clients' session was signed with this process's key.
        "SECRET_KEY": settings.SECRET_KEY or secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(static_root),
    }


def collect_static(static_root: Path) -> None:
    """As the Dockerfile's image does; with DEBUG off the pages name the hashed files."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=production_env(static_root),
        check=True,
    )


def server_cpu_seconds(master: int) -> float:
    """User + system CPU of gunicorn's master and its workers, from /proc (Linux)."""
    total = 0
    pids = [master]
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # a worker that was just replaced
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


class Server:
    """gunicorn serving config.wsgi on a free loopback port, production-like."""

    def __init__(self, *, workers: int, static_root: Path):
        self.workers = workers
        self.port = free_port()
        env = production_env(static_root)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                APPLICATION,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_until_up(self, path: str, cookie: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.process.stderr.read()[-2000:]}")
            try:
                status, _ = get(self.port, path, cookie)
            except OSError:
                time.sleep(0.2)
                continue
            if status != 200:
                self.stop()
                raise RuntimeError(f"GET {path} answered {status} from gunicorn")
            return
        self.stop()
        raise RuntimeError("gunicorn did not answer within a minute")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def get(port: int, path: str, cookie: str) -> tuple[int, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        connection.close()


def load(
    name: str,
    path: str,
    user,
    *,
    clients: int,
    seconds: float,
    workers: int | None = None,
    warmup: int = 3,
) -> LoadResult:
    """Start gunicorn, let `clients` threads request `path` for `seconds`, stop it."""
    workers = workers or os.cpu_count() or 1
    static_root = Path(settings.VAR_DIR) / "bench-static"
    collect_static(static_root)
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_cookie(user)}"
    server = Server(workers=workers, static_root=static_root)
    try:
        server.wait_until_up(path, cookie)
        for _ in range(warmup * workers):  # every worker has loaded its templates
            get(server.port, path, cookie)
        durations: list[float] = []
        errors = 0
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def client() -> None:
            nonlocal errors
            while time.monotonic() < stop_at:
                try:
                    status, took = get(server.port, path, cookie)
                except OSError:
                    status, took = 0, 0.0
                with lock:
                    durations.append(took)
                    errors += status != 200

        threads = [threading.Thread(target=client) for _ in range(clients)]
        cpu_before = server_cpu_seconds(server.process.pid)
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu = server_cpu_seconds(server.process.pid) - cpu_before
    finally:
        server.stop()
    requests = len(durations)
    rate = requests / elapsed if elapsed else 0.0
    return LoadResult(
        name=name,
        path=path,
        clients=clients,
        workers=workers,
        seconds=round(elapsed, 1),
        requests=requests,
        errors=errors,
        requests_per_s=round(rate, 1),
        requests_per_s_per_core=round(rate / min(workers, os.cpu_count() or 1), 1),
        p50_ms=to_ms(statistics.median(durations)) if durations else 0.0,
        p95_ms=to_ms(percentile(durations, 0.95)) if durations else 0.0,
        cpu_ms_per_request=round(cpu * 1000 / requests, 1) if requests else 0.0,
    )


def table(results: list[LoadResult]) -> str:
    header = (
        f"{'throughput':<26} {'clients':>7} {'workers':>7} {'req/s':>7} {'req/s/core':>10} "
        f"{'p50_ms':>8} {'p95_ms':>8} {'errors':>6} {'cpu_ms/req':>10}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name:<26} {r.clients:>7} {r.workers:>7} {r.requests_per_s:>7.1f} "
            f"{r.requests_per_s_per_core:>10.1f} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} "
            f"{r.errors:>6} {r.cpu_ms_per_request:>10.1f}"
        )
    return "\n".join(lines)
