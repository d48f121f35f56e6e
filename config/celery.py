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


# --- The request id follows a request's tasks into the worker's log lines ------------------
from celery.signals import before_task_publish, task_postrun, task_prerun  # noqa: E402

from . import logs  # noqa: E402

_task_tokens: dict[str, object] = {}


@before_task_publish.connect
def _send_request_id(headers=None, **kwargs):
    rid = logs.request_id.get()
    if rid and headers is not None:
        headers["debrief_request_id"] = rid


@task_prerun.connect
def _adopt_request_id(task_id=None, task=None, **kwargs):
    rid = getattr(task.request, "debrief_request_id", None) or f"task-{task_id}"
    _task_tokens[task_id] = logs.request_id.set(rid)


@task_postrun.connect
def _drop_request_id(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        logs.request_id.reset(token)
