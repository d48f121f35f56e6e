import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("debrief")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def embedded_broker_dirs(conf) -> list[Path]:
    """Folders the embedded filesystem broker and file result backend write to (none with Redis).

    Kombu and Celery fail rather than create them.
    """
    if conf.REDIS_URL:
        return []
    options = conf.CELERY_BROKER_TRANSPORT_OPTIONS
    keys = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")
    dirs = [Path(options[key]) for key in keys]
    dirs.append(Path(conf.CELERY_RESULT_BACKEND.removeprefix("file://")))
    return dirs


@app.on_after_configure.connect
def _prepare_embedded_broker(sender, **kwargs):
    """Any process may enqueue first (web, a command, a test's live server), not only the worker."""
    from django.conf import settings

    for folder in embedded_broker_dirs(settings):
        folder.mkdir(parents=True, exist_ok=True)
