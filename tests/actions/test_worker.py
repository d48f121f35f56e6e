"""One reminder through a real Celery worker, on the broker this run is configured with.

Redis when REDIS_URL is set (CI), else the embedded filesystem broker: never skipped. The worker
is a separate process, so it cannot see pytest's in-memory test database; both sides share a
SQLite file under tmp_path instead, and the email lands in the file backend under var/mail.
"""

import os
import subprocess
import uuid

from celery.exceptions import TimeoutError as CeleryTimeout

from core.management.commands.run_all import local_dirs

from ..config.support import (
    PYTHON,
    celery_client,
    child_env,
    kill_group,
    load_settings,
    start,
    tail,
)

REPLY_TIMEOUT = 90

SETUP = """
from datetime import timedelta
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", verbosity=0)
from tests.factories import ActionItemFactory, UserFactory
owner = UserFactory(username="worker-owner", email="owner@example.com")
owner.profile.reminder_hour = 0
owner.profile.save()
late = timezone.localdate() - timedelta(days=2)
ActionItemFactory(owner=owner, title="Rotate the TLS certificate", due_on=late)
from actions import reminders
from outbox import ledger
claim = ledger.claim([p.key for p in reminders.plan_reminders(timezone.now())])
print(claim.pending_ids[0])
"""

STATE = """
from outbox.models import Dispatch
d = Dispatch.objects.get()
print(d.state, d.attempts, d.item_count)
"""


def _shell(code: str, env: dict) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_a_real_worker_sends_one_reminder_once(tmp_path, capsys):
    var = tmp_path / "var"
    env = child_env(
        DEBUG="true",
        DEBRIEF_VAR_DIR=str(var),
        DATABASE_URL=f"sqlite:///{tmp_path / 'worker.sqlite3'}",
    )
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    conf = load_settings(env)
    for path in local_dirs(conf):
        path.mkdir(parents=True, exist_ok=True)
    dispatch_id = int(_shell(SETUP, env))
    queue = f"debrief-test-{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    worker = start(
        [PYTHON, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", queue]
        + ["--without-mingle", "--without-gossip", "--loglevel", "INFO"],
        env,
        log,
    )
    client = celery_client(conf)
    try:
        for _ in range(2):  # the second run of the same task must send nothing
            result = client.send_task("outbox.tasks.send_email", args=[dispatch_id], queue=queue)
            try:
                result.get(timeout=REPLY_TIMEOUT)
            except CeleryTimeout as err:
                raise AssertionError(f"no reply in {REPLY_TIMEOUT}s; log:\n{tail(log)}") from err
    finally:
        kill_group(worker)
        with client.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
        client.close()
    assert _shell(STATE, env) == "sent 1 1"
    messages = [p.read_text() for p in (var / "mail").iterdir()]
    assert len(messages) == 1
    assert "Subject: Debrief: 1 overdue action item" in messages[0]
    assert "Rotate the TLS certificate" in messages[0]
    with capsys.disabled():
        broker = "Redis" if "REDIS_URL" in env else "the embedded filesystem broker"
        print(f"\n[worker] one reminder sent once through a real worker on {broker}")
