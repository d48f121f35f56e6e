"""`make run`: the dev web server, one Celery worker and one Celery beat, stopped together."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.celery import embedded_broker_dirs
from core.demo import role_accounts

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-debrief"  # created by `manage.py seed_demo`
STOP_TIMEOUT = 10  # seconds a child gets to shut down before it is killed


def child_commands(port: int) -> dict[str, list[str]]:
    """The command line of each child process, by name."""
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    return {
        "web": [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
        "worker": [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"],
        # Exactly one beat, so each periodic task is sent once per tick.
        "beat": [
            *celery,
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(settings.CELERY_BEAT_SCHEDULE_FILENAME),
        ],
    }


def local_dirs(conf=settings) -> list[Path]:
    """Directories the embedded backends write to; they fail rather than create them."""
    dirs = [Path(conf.VAR_DIR), Path(conf.CELERY_BEAT_SCHEDULE_FILENAME).parent]
    dirs += embedded_broker_dirs(conf)
    if conf.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        dirs.append(Path(conf.EMAIL_FILE_PATH))
    return dirs


def role_lines() -> list[str]:
    """`user / password   role` for each demo role account (made by seed_demo)."""
    accounts = [(f"{user} / {password}", role) for user, password, role in role_accounts()]
    width = max(len(login) for login, _ in accounts)
    return [f"    {login.ljust(width)}   {role}" for login, role in accounts]


def banner(port: int) -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        database = f"SQLite ({db['NAME']})"
    else:
        database = f"PostgreSQL ({db['HOST']}:{db['PORT'] or 5432}/{db['NAME']})"
    if settings.REDIS_URL:
        # Only the host: the URL may carry a password.
        tasks = f"Redis ({settings.REDIS_URL.rpartition('@')[2]})"
    else:
        tasks = f"embedded filesystem broker ({Path(settings.VAR_DIR) / 'celery'})"
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        email = f"written to {settings.EMAIL_FILE_PATH}/"
    else:
        email = f"SMTP ({settings.EMAIL_HOST}:{settings.EMAIL_PORT})"
    return "\n".join(
        [
            "",
            f"  Debrief is running at http://127.0.0.1:{port}",
            f"    database  {database}",
            f"    tasks     {tasks}",
            f"    email     {email}",
            f"    log in    {DEMO_USERNAME} / {DEMO_PASSWORD}",
            "  One demo account per role (docs/permissions.md):",
            *role_lines(),
            "  Ctrl-C stops everything.",
            "",
        ]
    )


def first_exit(children: dict[str, subprocess.Popen]) -> tuple[str, int] | None:
    for name, child in children.items():
        if child.poll() is not None:
            return name, child.returncode
    return None


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stop(children: dict[str, subprocess.Popen]) -> None:
    """Terminate every child still running, wait, then kill whatever is left."""
    # A second Ctrl-C must not abandon the cleanup half way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children.values():
        try:
            child.wait(timeout=max(0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat until Ctrl-C."
    requires_system_checks = []  # runserver, the first child, runs them

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *, port: int, **options):
        if port_in_use(port):
            raise CommandError(f"Port {port} is already in use; pick another with --port")
        for path in local_dirs():
            path.mkdir(parents=True, exist_ok=True)
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)  # a process manager stops us like Ctrl-C
        children, exited, announced = {}, None, False
        # Links in emails and calendar feeds point at this server unless SITE_URL says otherwise.
        env = {**os.environ, "SITE_URL": os.environ.get("SITE_URL") or f"http://127.0.0.1:{port}"}
        try:
            for name, argv in child_commands(port).items():
                children[name] = subprocess.Popen(argv, cwd=settings.BASE_DIR, env=env)
            while (exited := first_exit(children)) is None:
                # Announce once the site answers, so the banner follows the children's logs.
                if not announced and port_in_use(port):
                    self.stdout.write(banner(port))
                    self.stdout.flush()
                    announced = True
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if exited:
            name, code = exited
            raise CommandError(f"{name} exited with code {code}, so everything was stopped")
