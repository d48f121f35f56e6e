"""The fault drill (`make drill`): real processes, real faults, then count every email.

Against PostgreSQL and Redis (DATABASE_URL / REDIS_URL; by default the local ones, with a
database of its own, `debrief_drill`, dropped and created afresh, and Redis database 15,
flushed), it seeds due reminders, manager notes and a month's digests, starts a local SMTP
sink (scripts/smtp_sink.py), a real Celery worker and gunicorn, and plays beat's every-minute
tick itself every two seconds (retries are shortened to seconds for the drill). Then:

  a. the reminder sweep runs on the worker; the worker is killed (SIGKILL, its whole process
     group) mid-sweep and started again;
  b. the digest sweep runs; the SMTP sink is stopped mid-sweep and started again later;
  c. a few clients request pages while PostgreSQL is restarted
     (`pg_ctlcluster --skip-systemctl-redirect <version> main restart`).

Afterwards it checks that every due email reached the sink exactly once (messages counted per
ledger key, the X-Debrief-Email header) and that no request was answered with a 500. It prints
the figures, writes var/drill/result.json, exits 1 on any lost or duplicated email or any 500,
and always leaves PostgreSQL running.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
VAR = BASE_DIR / "var" / "drill"

DATABASE_URL = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/debrief_drill"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
TEAMS = int(os.environ.get("DRILL_TEAMS", "10"))
MEMBERS = int(os.environ.get("DRILL_MEMBERS", "30"))  # per team; each owns one overdue item
FAULTS = os.environ.get("DRILL_FAULTS", "abc")  # a subset, e.g. "ab", while working on the drill
TICK_SECONDS = 2.0
PAGES = ["/", "/incidents/", "/actions/mine/", "/actions/team/", "/actions/digests/", "/healthz"]


def log(message: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return env | {
        "DEBUG": "false",
        "SECRET_KEY": "drill-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(SMTP_PORT),
        "EMAIL_USE_TLS": "false",
        "DEBRIEF_VAR_DIR": str(VAR / "var"),
        "STATIC_ROOT": str(VAR / "static"),
        # Seconds instead of minutes, so the drill's retries happen while it watches.
        "DEBRIEF_EMAIL_RETRY_SECONDS": "2",
        "DEBRIEF_EMAIL_RETRY_MAX_SECONDS": "8",
        "DEBRIEF_EMAIL_MAX_ATTEMPTS": "30",
        "LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


SMTP_PORT = free_port()
WEB_PORT = free_port()


class Proc:
    """A child in a process group of its own, so a kill takes its children too."""

    def __init__(self, name: str, argv: list[str]):
        self.name, self.argv, self.popen = name, argv, None
        self.log = VAR / f"{name}.log"

    def start(self) -> Proc:
        out = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            cwd=BASE_DIR,
            env=child_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def send(self, sig: int) -> None:
        if self.popen and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    def stop(self, sig: int = signal.SIGTERM, wait: float = 20) -> None:
        if self.popen is None:
            return
        self.send(sig)
        try:
            self.popen.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            self.popen.wait(timeout=10)
        # Anything left in the group (a pool child) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen = None


def wait_until(check, *, timeout: float, what: str, every: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


# --- Set-up ---------------------------------------------------------------------------------


def recreate_database() -> None:
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    admin = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"database {name} created afresh")


def flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    log(f"redis {REDIS_URL} flushed")


def manage(*args: str) -> None:
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=BASE_DIR,
        env=child_env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def setup_django() -> None:
    os.environ.update(child_env() | {"DEBUG": "true"})
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def seed() -> dict:
    """Teams with a manager and members, each member owning one long-overdue item."""
    from datetime import timedelta

    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from actions.models import ActionItem
    from incidents.models import Profile
    from tests.factories import ActionItemFactory, IncidentFactory, PostmortemFactory, TeamFactory

    User = get_user_model()
    long_ago = timezone.localdate() - timedelta(days=20)
    # Bulk inserts: the drill is about sending, and a loaded machine makes row-by-row slow.
    names = [f"manager{t}" for t in range(TEAMS)]
    names += [f"owner{t}-{m}" for t in range(TEAMS) for m in range(MEMBERS)]
    User.objects.bulk_create(
        [User(username=n, email=f"{n}@example.com", password="!") for n in names]
    )
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    # reminder_hour 0: due now, whatever the hour.
    Profile.objects.bulk_create([Profile(user=u, reminder_hour=0) for u in users.values()])
    items = []
    for t in range(TEAMS):
        team = TeamFactory(name=f"Drill team {t}", slug=f"drill-{t}")
        team.managers.add(users[f"manager{t}"])
        owners = [users[f"owner{t}-{m}"] for m in range(MEMBERS)]
        team.members.add(*owners)
        incident = IncidentFactory(team=team, title=f"Checkout errors in region {t}")
        postmortem = PostmortemFactory(incident=incident)
        items += [
            ActionItemFactory.build(owner=owner, postmortem=postmortem, due_on=long_ago)
            for owner in owners
        ]
    ActionItem.objects.bulk_create(items)
    viewer = users["manager0"]
    session = SessionStore()
    session[SESSION_KEY] = str(viewer.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = viewer.get_session_auth_hash()
    session.create()
    return {"session": session.session_key}


def expected_keys() -> tuple[set[str], set[str]]:
    """The ledger keys of every email due: reminders and notes now, last month's digests."""
    from django.utils import timezone

    from actions import digests, reminders
    from actions.metrics import Period
    from outbox.models import Dispatch

    now = timezone.now()
    plans = reminders.plan_reminders(now) + reminders.plan_manager_notes(now)
    remind = {
        Dispatch(kind=p.key.kind, recipient_id=p.key.recipient_id, period=p.key.period).key_label
        for p in plans
    }
    period = Period.previous_month(now.date())
    digest = set()
    for scope in digests.scopes():
        for pk in digests.recipients(scope.team):
            row = Dispatch(kind="digest", recipient_id=pk, scope=scope.key, period=period.label)
            digest.add(row.key_label)
    return remind, digest


# --- Watching -------------------------------------------------------------------------------


def sink_counts() -> collections.Counter:
    path = VAR / "sink.jsonl"
    if not path.exists():
        return collections.Counter()
    counts = collections.Counter()
    for line in path.read_text().splitlines():
        if line.strip():
            counts[json.loads(line)["key"]] += 1
    return counts


def ledger_states() -> dict:
    from django.db import connection

    from outbox.models import Dispatch

    connection.close()  # a fresh connection: PostgreSQL may have restarted under us
    rows = list(Dispatch.objects.values_list("kind", "state", "attempts"))
    states = dict(collections.Counter(f"{kind}:{state}" for kind, state, _ in rows))
    tries = collections.Counter(attempts for _, _, attempts in rows)
    return states | {"rows_by_tries": dict(sorted(tries.items()))}


class Ticker(threading.Thread):
    """Beat's every-minute tick (outbox.tasks.send_due), every two seconds for the drill."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.stop, self.ticks, self.errors = app, threading.Event(), 0, 0

    def run(self) -> None:
        while not self.stop.wait(TICK_SECONDS):
            try:
                self.app.send_task("outbox.tasks.send_due")
                self.ticks += 1
            except Exception:  # noqa: BLE001 - a broker hiccup: the next tick tries again
                self.errors += 1


def celery_app():
    from celery import Celery

    app = Celery("drill", set_as_current=False)
    app.conf.broker_url = REDIS_URL
    app.conf.result_backend = REDIS_URL
    return app


def settled(keys: set[str], counts: collections.Counter) -> bool:
    return all(counts[k] >= 1 for k in keys)


# --- The three faults -----------------------------------------------------------------------


def drill_worker_kill(app, worker: Proc, keys: set[str]) -> dict:
    log(f"a. reminder sweep on the worker: {len(keys)} emails due")
    app.send_task("actions.tasks.send_reminders")
    target = max(1, len(keys) // 3)
    wait_until(
        lambda: sum(sink_counts()[k] for k in keys) >= target,
        timeout=120,
        what="a third of the reminders at the sink",
        every=0.05,
    )
    before = sum(sink_counts()[k] for k in keys)
    worker.stop(signal.SIGKILL, wait=5)
    log(f"   worker killed (SIGKILL) with {before}/{len(keys)} delivered; restarting it")
    time.sleep(2)
    worker.start()
    started = time.monotonic()
    wait_until(lambda: settled(keys, sink_counts()), timeout=300, what="every reminder")
    return {
        "due": len(keys),
        "delivered_before_kill": before,
        "seconds_to_deliver_the_rest": round(time.monotonic() - started, 1),
    }


def drill_smtp_outage(app, sink: Proc, keys: set[str]) -> dict:
    log(f"b. digest sweep on the worker: {len(keys)} emails due")
    app.send_task("actions.tasks.send_digests")
    target = max(1, len(keys) // 3)
    wait_until(
        lambda: sum(sink_counts()[k] for k in keys) >= target,
        timeout=180,
        what="a third of the digests at the sink",
        every=0.05,
    )
    sink.stop(signal.SIGTERM)
    before = sum(sink_counts()[k] for k in keys)
    log(f"   SMTP sink stopped with {before}/{len(keys)} delivered; down for 20 s")
    time.sleep(20)
    states = ledger_states()
    sink.start()
    wait_until(lambda: port_open(SMTP_PORT), timeout=30, what="the SMTP sink")
    started = time.monotonic()
    log("   SMTP sink back")
    wait_until(lambda: settled(keys, sink_counts()), timeout=300, what="every digest")
    return {
        "due": len(keys),
        "delivered_before_outage": before,
        "ledger_during_outage": {k: v for k, v in states.items() if k.startswith("digest:")},
        "seconds_to_deliver_the_rest": round(time.monotonic() - started, 1),
    }


def drill_postgres_restart(session: str) -> dict:
    versions = sorted(os.listdir("/etc/postgresql"))
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"]
    statuses: collections.Counter = collections.Counter()
    final: collections.Counter = collections.Counter()
    retried = {"count": 0}
    errors: collections.Counter = collections.Counter()
    stop = threading.Event()
    lock = threading.Lock()

    def one(url: str) -> int:
        request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as err:
            return err.code
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            with lock:
                errors[type(err).__name__] += 1
            return 0

    def client(n: int) -> None:
        i = n
        while not stop.is_set():
            url = f"http://127.0.0.1:{WEB_PORT}{PAGES[i % len(PAGES)]}"
            i += 1
            status = one(url)
            with lock:
                statuses[status] += 1
            # A 503 (the retry page) or a dropped connection is tried again, as the page's own
            # refresh or a proxy would; a 500 never is.
            tries = 0
            while status in (0, 503) and tries < 20 and not stop.is_set():
                time.sleep(0.5)
                tries += 1
                with lock:
                    retried["count"] += 1
                status = one(url)
                with lock:
                    statuses[status] += 1
            with lock:
                final[status] += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(4)
    log(f"c. restarting PostgreSQL under load: {' '.join(command)}")
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    restart_seconds = round(time.monotonic() - started, 1)
    log(f"   restart exit {done.returncode} after {restart_seconds} s; load continues 8 s")
    time.sleep(8)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    return {
        "restart_command": " ".join(command),
        "restart_exit": done.returncode,
        "restart_seconds": restart_seconds,
        "responses": {str(k): v for k, v in sorted(statuses.items())},
        "final_answers": {str(k): v for k, v in sorted(final.items())},
        "retries": retried["count"],
        "connection_errors": dict(errors),
    }


def ensure_postgres_running() -> bool:
    versions = sorted(os.listdir("/etc/postgresql"))
    probe = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "status"]
    if subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        log("PostgreSQL is down: starting it")
        start = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
        subprocess.run(start, check=False)
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


# --- Main -----------------------------------------------------------------------------------


def _terminated(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")  # runs the clean-up in main's finally


def main() -> int:
    signal.signal(signal.SIGTERM, _terminated)
    VAR.mkdir(parents=True, exist_ok=True)
    for old in VAR.glob("*.log"):
        old.unlink()
    (VAR / "sink.jsonl").unlink(missing_ok=True)
    log(f"database {DATABASE_URL}, broker {REDIS_URL}, SMTP :{SMTP_PORT}, web :{WEB_PORT}")
    recreate_database()
    flush_redis()
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")
    setup_django()
    info = seed()
    remind_keys, digest_keys = expected_keys()
    log(
        f"seeded {TEAMS} teams x {MEMBERS} owners: {len(remind_keys)} reminders and notes due, "
        f"{len(digest_keys)} digest emails due"
    )

    sink = Proc(
        "sink",
        [
            PYTHON,
            "scripts/smtp_sink.py",
            "--port",
            str(SMTP_PORT),
            "--out",
            str(VAR / "sink.jsonl"),
            "--delay",
            "0.01",
        ],
    )
    worker = Proc(
        "worker",
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "-n",
            f"drill-{os.getpid()}@%h",
        ],
    )
    web = Proc(
        "web",
        [
            str(BIN / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{WEB_PORT}",
            "--workers",
            "2",
            "--timeout",
            "30",
        ],
    )
    app = celery_app()
    ticker = Ticker(app)
    result: dict = {"seeded": {"teams": TEAMS, "owners": TEAMS * MEMBERS}}
    try:
        sink.start()
        wait_until(lambda: port_open(SMTP_PORT), timeout=30, what="the SMTP sink")
        worker.start()
        web.start()
        wait_until(lambda: port_open(WEB_PORT), timeout=60, what="gunicorn")
        ticker.start()
        if "a" in FAULTS:
            result["a_worker_killed"] = drill_worker_kill(app, worker, remind_keys)
        else:
            app.send_task("actions.tasks.send_reminders")
        if "b" in FAULTS:
            result["b_smtp_outage"] = drill_smtp_outage(app, sink, digest_keys)
        else:
            app.send_task("actions.tasks.send_digests")
        wait_until(
            lambda: settled(remind_keys | digest_keys, sink_counts()),
            timeout=300,
            what="every due email",
        )
        if "c" in FAULTS:
            result["c_postgres_restart"] = drill_postgres_restart(info["session"])
        time.sleep(2 * TICK_SECONDS)  # late duplicates, if any, would arrive now
    finally:
        ticker.stop.set()
        for proc in (web, worker, sink):
            proc.stop()
        result["postgres_running_at_the_end"] = ensure_postgres_running()
        app.close()

    counts = sink_counts()
    due = remind_keys | digest_keys
    lost = sorted(k for k in due if counts[k] == 0)
    duplicated = {k: n for k, n in counts.items() if n > 1}
    unexpected = sorted(k for k in counts if k not in due)
    http = result.get("c_postgres_restart", {"responses": {}})
    result["emails"] = {
        "due": len(due),
        "messages_at_the_sink": sum(counts.values()),
        "delivered_once": sum(1 for k in due if counts[k] == 1),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "unexpected": len(unexpected),
        "lost_keys": lost[:20],
        "duplicated_keys": dict(list(duplicated.items())[:20]),
        "ledger": ledger_states(),
    }
    result["http_500s"] = http["responses"].get("500", 0)
    result["ticks"] = {"sent": ticker.ticks, "failed_to_enqueue": ticker.errors}
    (VAR / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    ok = not lost and not duplicated and not unexpected and result["http_500s"] == 0
    log(
        f"{'PASS' if ok else 'FAIL'}: {len(due)} due, {len(lost)} lost, {len(duplicated)} "
        f"duplicated, {result['http_500s']} answers of 500; results in {VAR / 'result.json'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
