"""Operations: JSON logs with a request id per request (and into Celery tasks), and a 503
retry page instead of a 500 while the database is unreachable."""

import json
import logging
import sys

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from config import celery as celery_signals
from config import logs
from config.middleware import RequestIdMiddleware

from .support import load_settings


def _json_lines(records: list[logging.LogRecord]) -> list[dict]:
    formatter, stamp = logs.JsonFormatter(), logs.RequestIdFilter()
    out = []
    for record in records:
        stamp.filter(record)
        out.append(json.loads(formatter.format(record)))
    return out


class _Keep(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        logs.RequestIdFilter().filter(record)  # stamped while the request is still running
        self.records.append(record)


def test_log_format_json_configures_the_json_formatter_with_request_ids():
    conf = load_settings({"DEBUG": "true", "LOG_FORMAT": "json"})
    handler = conf.LOGGING["handlers"]["console"]
    assert handler["formatter"] == "json" and handler["filters"] == ["request_id"]
    assert conf.CELERY_WORKER_HIJACK_ROOT_LOGGER is False
    plain = load_settings({"DEBUG": "true"})
    assert plain.LOGGING["handlers"]["console"]["formatter"] == "plain"
    with pytest.raises(Exception, match="LOG_FORMAT must be plain or json"):
        load_settings({"DEBUG": "true", "LOG_FORMAT": "xml"})


def test_each_request_gets_an_id_on_its_log_lines_and_response():
    keep, logger = _Keep(), logging.getLogger("debrief.test")
    logger.addHandler(keep)
    logger.setLevel(logging.INFO)

    def view(request):
        logger.info("saving incident %s", 7)
        return HttpResponse("ok")

    try:
        middleware = RequestIdMiddleware(view)
        first = middleware(RequestFactory().get("/"))
        second = middleware(RequestFactory().get("/", headers={"X-Request-ID": "proxy-abc-123"}))
        hostile = middleware(RequestFactory().get("/", headers={"X-Request-ID": "a\nb"}))
    finally:
        logger.removeHandler(keep)
    ids = [r["X-Request-ID"] for r in (first, second, hostile)]
    assert len(ids[0]) == 32 and ids[1] == "proxy-abc-123" and "\n" not in ids[2]
    lines = _json_lines(keep.records)
    assert [line["request_id"] for line in lines] == ids
    assert lines[0]["message"] == "saving incident 7" and lines[0]["level"] == "INFO"
    assert lines[0]["logger"] == "debrief.test" and lines[0]["time"].endswith("+00:00")
    assert logs.request_id.get() == ""  # nothing leaks into the next request


def test_an_exception_is_one_json_line():
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    [line] = _json_lines([record])
    assert "ZeroDivisionError" in line["exception"]


def test_tasks_enqueued_by_a_request_log_with_its_id():
    headers = {}
    token = logs.request_id.set("req-1234567")
    try:
        celery_signals._send_request_id(headers=headers)
    finally:
        logs.request_id.reset(token)
    assert headers == {"debrief_request_id": "req-1234567"}

    class Request:
        debrief_request_id = "req-1234567"

    class Task:
        request = Request()

    celery_signals._adopt_request_id(task_id="t1", task=Task())
    assert logs.request_id.get() == "req-1234567"
    celery_signals._drop_request_id(task_id="t1")
    assert logs.request_id.get() == ""


def test_a_view_hitting_a_database_outage_answers_503_with_a_retry_page():
    middleware = RequestIdMiddleware(lambda request: HttpResponse("unused"))
    request = RequestFactory().get("/")
    response = middleware.process_exception(request, OperationalError("down"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "briefly unavailable" in response.content.decode()


@pytest.mark.django_db
def test_a_database_outage_while_loading_the_session_is_a_503_not_a_500(
    client, user, settings, monkeypatch
):
    settings.DEBUG = False
    client.force_login(user)
    client.raise_request_exception = False

    def down(self):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SessionStore, "load", down)
    response = client.get(reverse("incidents:list"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "tries again by itself" in response.content.decode()
