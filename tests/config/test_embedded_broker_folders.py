import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django
django.setup()
from incidents.tasks import ping
print(ping.delay("x").id)
"""


def test_any_process_can_enqueue_on_a_fresh_embedded_broker(tmp_path):
    """Not only the worker: the web process or a command may be the first to enqueue."""
    env = {
        **os.environ,
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBRIEF_VAR_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "celery" / "broker").iterdir())) == 1  # the queued message
    assert (tmp_path / "celery" / "results").is_dir()
