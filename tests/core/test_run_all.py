import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.core.management import CommandError, call_command

from core.management.commands import run_all

from ..config.support import (
    BASE_DIR,
    PYTHON,
    celery_client,
    child_env,
    free_port,
    group_alive,
    kill_group,
    load_settings,
    start,
    tail,
    wait_until,
)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_run_all_starts_the_dev_server_one_worker_and_one_beat(settings, tmp_path):
    settings.CELERY_BEAT_SCHEDULE_FILENAME = str(tmp_path / "var" / "celerybeat-schedule")
    commands = run_all.child_commands(8123)

    assert set(commands) == {"web", "worker", "beat"}
    assert commands["web"][1:] == ["manage.py", "runserver", "127.0.0.1:8123"]
    assert commands["worker"][1:6] == ["-m", "celery", "-A", "config", "worker"]
    assert commands["beat"][1:6] == ["-m", "celery", "-A", "config", "beat"]
    assert commands["beat"][-2:] == ["--schedule", str(tmp_path / "var" / "celerybeat-schedule")]
    # Beat runs on its own; a worker with -B would be a second scheduler.
    assert not {"-B", "--beat"} & set(commands["worker"])
    assert all(argv[0] == sys.executable for argv in commands.values())


def test_the_embedded_backends_get_their_directories(tmp_path):
    conf = load_settings({"DEBUG": "true", "DEBRIEF_VAR_DIR": str(tmp_path)})

    for path in run_all.local_dirs(conf):
        path.mkdir(parents=True, exist_ok=True)

    options = conf.CELERY_BROKER_TRANSPORT_OPTIONS
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert options[key].startswith(str(tmp_path)) and (tmp_path / options[key]).is_dir()
    assert (tmp_path / "celery" / "results").is_dir()
    assert (tmp_path / "mail").is_dir()


def test_redis_and_smtp_need_no_local_directories(tmp_path):
    conf = load_settings(
        {
            "DEBUG": "true",
            "DEBRIEF_VAR_DIR": str(tmp_path),
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "EMAIL_HOST": "smtp.example.com",
        }
    )
    # Only var/ itself, for beat's schedule file.
    assert set(run_all.local_dirs(conf)) == {tmp_path}


def test_the_banner_names_the_url_backends_and_demo_login(monkeypatch):
    production_like = {
        "DEBUG": "true",
        "DATABASE_URL": "postgres://debrief:s3cret@db.internal:5432/debrief",
        "REDIS_URL": "redis://:hunter2@redis.internal:6379/0",
        "EMAIL_HOST": "mailpit",
        "EMAIL_PORT": "1025",
    }
    monkeypatch.setattr(run_all, "settings", load_settings(production_like))

    banner = run_all.banner(8123)

    assert "http://127.0.0.1:8123" in banner
    assert "PostgreSQL (db.internal:5432/debrief)" in banner
    assert "Redis (redis.internal:6379/0)" in banner
    assert "s3cret" not in banner and "hunter2" not in banner
    assert "SMTP (mailpit:1025)" in banner
    assert "demo / demo-debrief" in banner


def test_the_local_banner_says_sqlite_embedded_broker_and_mail_files(monkeypatch, tmp_path):
    local = {"DEBUG": "true", "DEBRIEF_VAR_DIR": str(tmp_path)}
    monkeypatch.setattr(run_all, "settings", load_settings(local))

    banner = run_all.banner(8000)

    assert f"SQLite ({tmp_path / 'debrief.sqlite3'})" in banner
    assert f"embedded filesystem broker ({tmp_path / 'celery'})" in banner
    assert f"written to {tmp_path / 'mail'}/" in banner


@pytest.fixture
def fake_children(monkeypatch, tmp_path):
    """run_all with stand-in children; returns the processes it started."""
    monkeypatch.setattr(run_all, "local_dirs", lambda: [tmp_path])
    started, real_popen = [], subprocess.Popen

    def popen(argv, **kwargs):
        started.append(real_popen(argv, **kwargs))
        return started[-1]

    monkeypatch.setattr(run_all.subprocess, "Popen", popen)
    yield started
    for child in started:
        child.kill()
        child.wait()


def test_a_child_that_exits_stops_the_others_and_fails(monkeypatch, fake_children):
    crash = [sys.executable, "-c", "import time, sys; time.sleep(1); sys.exit(3)"]
    commands = {"web": SLEEPER, "worker": SLEEPER, "beat": crash}
    monkeypatch.setattr(run_all, "child_commands", lambda port: commands)

    with pytest.raises(CommandError, match="beat exited with code 3"):
        call_command("run_all", port=free_port())

    assert [child.returncode for child in fake_children] == [-signal.SIGTERM, -signal.SIGTERM, 3]


def test_sigterm_stops_every_child_and_exits_cleanly(monkeypatch, fake_children):
    monkeypatch.setattr(run_all, "child_commands", lambda port: dict.fromkeys("abc", SLEEPER))

    class NotHandled(Exception):
        pass

    def not_handled(signum, frame):
        raise NotHandled  # fails the test if run_all left SIGTERM to us

    def send_sigterm_once_started():
        deadline = time.monotonic() + 30
        while len(fake_children) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # let run_all settle into its watch loop
        os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, not_handled)
    sender = threading.Thread(target=send_sigterm_once_started)
    try:
        sender.start()
        call_command("run_all", port=free_port())  # returning normally is exit status 0
        assert signal.getsignal(signal.SIGTERM) is not_handled  # handler restored
    finally:
        sender.join(timeout=40)
        signal.signal(signal.SIGTERM, previous)

    assert len(fake_children) == 3
    assert all(child.returncode == -signal.SIGTERM for child in fake_children)


def test_a_busy_port_is_refused_before_anything_starts(fake_children):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(CommandError, match="already in use"):
            call_command("run_all", port=busy.getsockname()[1])
    assert fake_children == []


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def test_run_all_serves_runs_tasks_and_stops_everything_on_ctrl_c(tmp_path):
    var = tmp_path / "var"
    # Embedded broker and SQLite even when this run has PostgreSQL and Redis: what `make run` uses.
    env = child_env(
        DEBUG="true",
        DEBRIEF_VAR_DIR=str(var),
        DATABASE_URL=f"sqlite:///{tmp_path / 'debrief.sqlite3'}",
    )
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    port, log = free_port(), tmp_path / "run_all.log"
    proc = start([PYTHON, "manage.py", "run_all", "--port", str(port)], env, log)
    client = celery_client(load_settings(env))
    try:
        wait_until(lambda: _healthy(port), timeout=120, what="GET /healthz", log=log)
        reply = client.send_task("incidents.tasks.ping", args=["up"]).get(timeout=120)
        assert reply == "up"
        wait_until(lambda: "beat: Starting" in log.read_text(), timeout=60, what="beat", log=log)

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, tail(log)
        # Every child and grandchild (runserver's reloader, the worker's pool) is gone too.
        wait_until(lambda: not group_alive(proc.pid), timeout=20, what="children to exit", log=log)
    finally:
        client.close()
        kill_group(proc)

    output = log.read_text()
    assert f"Debrief is running at http://127.0.0.1:{port}" in output
    assert "SQLite" in output and "embedded filesystem broker" in output
    assert f"written to {var / 'mail'}/" in output
    assert not _healthy(port)
