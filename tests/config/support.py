"""Helpers for tests that read settings under another environment or start real processes."""

import ast
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

from celery import Celery

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS_FILE = BASE_DIR / "config" / "settings.py"
PYTHON = sys.executable


def settings_env_names() -> set[str]:
    """Names config/settings.py reads from the environment, found in its source."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS_FILE.read_text())):
        if isinstance(node, ast.Call) and node.args:
            func, arg = ast.unparse(node.func), node.args[0]
            reads_env = func == "os.environ.get" or func.startswith("env_")
        elif isinstance(node, ast.Subscript):
            func, arg = ast.unparse(node.value), node.slice
            reads_env = func == "os.environ"
        else:
            continue
        if reads_env and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names.add(arg.value)
    return names


def load_settings(env: dict[str, str]) -> SimpleNamespace:
    """config/settings.py evaluated afresh with exactly `env` as the environment."""
    with mock.patch.dict(os.environ, env, clear=True):
        namespace = runpy.run_path(str(SETTINGS_FILE))
    return SimpleNamespace(**{key: value for key, value in namespace.items() if key.isupper()})


def celery_client(conf: SimpleNamespace) -> Celery:
    """A Celery app that talks to the broker and result backend `conf` selects."""
    app = Celery("debrief-test-client", set_as_current=False)
    app.config_from_object(conf, namespace="CELERY")
    return app


def child_env(**overrides: str) -> dict[str, str]:
    """This process's environment with the settings variables replaced by `overrides`."""
    # tests/conftest.py allows async-unsafe calls for Playwright; children are production-like.
    dropped = settings_env_names() | {"DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    # The shipped settings, not the suite's tests.settings (which adds the test-only provider).
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return env | overrides


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    # A session of its own, so everything it spawns can be found and stopped as one group.
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_group(proc: subprocess.Popen) -> None:
    """Last-resort cleanup, so a failing test leaves no process behind."""
    if group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {what}; log:\n{tail(log)}")
        time.sleep(0.5)


def tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
