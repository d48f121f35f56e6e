import os
import signal
import uuid
from datetime import timedelta

from celery.beat import ScheduleEntry
from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.celery import app
from core.management.commands.run_all import local_dirs
from incidents.tasks import clear_expired_sessions

from .support import PYTHON, celery_client, child_env, kill_group, load_settings, start, tail

REPLY_TIMEOUT = 90  # a cold worker on a busy two-core machine


def test_a_real_worker_round_trips_a_ping(tmp_path):
    # Redis when the run has REDIS_URL (CI), else the embedded broker inside tmp_path.
    env = child_env(DEBUG="true", DEBRIEF_VAR_DIR=str(tmp_path / "var"))
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    conf = load_settings(env)
    for path in local_dirs(conf):
        path.mkdir(parents=True, exist_ok=True)
    # A queue of our own, so other workers sharing this Redis neither take nor send our ping.
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
        result = client.send_task("incidents.tasks.ping", args=["round trip"], queue=queue)
        try:
            assert result.get(timeout=REPLY_TIMEOUT) == "round trip"
        except CeleryTimeout as err:
            raise AssertionError(f"no reply in {REPLY_TIMEOUT}s; worker log:\n{tail(log)}") from err
        worker.send_signal(signal.SIGTERM)  # warm shutdown
        assert worker.wait(timeout=60) == 0, tail(log)
    finally:
        kill_group(worker)
        with client.connection_for_write() as conn:
            # Declaring first tells this connection the binding, so deleting leaves none in Redis.
            bound = client.amqp.queues[queue].bind(conn.default_channel)
            bound.declare()
            bound.delete()
        client.close()
    expected = "redis://" if "REDIS_URL" in env else "filesystem://"
    assert conf.CELERY_BROKER_URL.startswith(expected)


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()  # what a worker does at start: autodiscover tasks.py
    assert settings.CELERY_BEAT_SCHEDULE
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, f"beat entry {name!r} names an unknown task"


def test_the_beat_schedule_runs_on_utc():
    assert app.conf.timezone == "UTC"
    assert app.conf.enable_utc
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        # Beat binds each schedule to the app, so read the zone the way beat will.
        schedule = ScheduleEntry(name=name, app=app, **entry).schedule
        assert str(schedule.tz) == "UTC", name


def test_clearing_expired_sessions_deletes_only_expired_ones(db):
    expired, live = SessionStore(), SessionStore()
    expired.set_expiry(timezone.now() - timedelta(days=1))
    expired.create()
    live.create()
    assert Session.objects.filter(session_key=expired.session_key).exists()

    clear_expired_sessions()

    assert not Session.objects.filter(session_key=expired.session_key).exists()
    assert Session.objects.filter(session_key=live.session_key).exists()
