"""A logged-in person requesting pages through Django's WSGI handler, as a web server would.

Shipped code does not import django.test, so this builds the WSGI environ itself and calls the
same handler that gunicorn calls: every middleware, the view, the template and the response's
close, with the session cookie and any cookies the site sets (such as the CSRF cookie) sent back
on the next request, like a browser.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from importlib import import_module
from io import BytesIO

from django.conf import settings
from django.contrib.auth import login, logout
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse

HOST = "bench.localhost"  # added to ALLOWED_HOSTS while the bench runs (see overridden)


@contextmanager
def overridden(**values) -> Iterator[None]:
    """Change settings for the duration, then put them back.

    Only for settings read when used (ALLOWED_HOSTS, EMAIL_BACKEND), not ones cached at start-up.
    """
    previous = {name: getattr(settings, name) for name in values}
    for name, value in values.items():
        setattr(settings, name, value)
    try:
        yield
    finally:
        for name, value in previous.items():
            setattr(settings, name, value)


@contextmanager
def keeping_the_connection() -> Iterator[None]:
    """Keep the database connection open across requests.

    The handler closes it at the start and end of each request unless CONN_MAX_AGE says
    otherwise; SQLite's is 0, so every page would also time a reconnect, and a bench run inside
    a transaction (a test) would lose it. The figures measure the page, so keep it, as a
    persistent connection in production does.
    """
    disconnected = [
        signal
        for signal in (request_started, request_finished)
        if signal.disconnect(close_old_connections)
    ]
    try:
        yield
    finally:
        for signal in disconnected:
            signal.connect(close_old_connections)


def session_cookie(user) -> str:
    """A signed-in session for the user, as a successful log-in form makes, without a password."""
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    request.session.save()
    return request.session.session_key


class Visitor:
    """One person's browser: logged in, with fixed extra headers (e.g. HX-Request)."""

    def __init__(self, user, *, headers: dict[str, str] | None = None, secure: bool = False):
        self.handler = WSGIHandler()
        self.headers = {
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in (headers or {}).items()
        }
        self.secure = secure
        self.cookies = SimpleCookie()
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore
        self.cookies[settings.SESSION_COOKIE_NAME] = session_cookie(user)

    def get(self, address: str) -> HttpResponse:
        """GET a path (with its query string); a view's exception is raised here, not a 500."""
        path, _, query = address.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": HOST,
            "SERVER_PORT": "443" if self.secure else "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": HOST,
            "HTTP_COOKIE": "; ".join(f"{m.key}={m.coded_value}" for m in self.cookies.values()),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if self.secure else "http",
            "wsgi.input": BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            **self.headers,
        }
        raised = []

        def keep(sender, **kwargs):
            raised.append(sys.exc_info()[1])

        got_request_exception.connect(keep, weak=False)
        try:
            with keeping_the_connection():
                response = self.handler(environ, _start_response)
                try:
                    for _ in response:  # the body, as the server would send it
                        pass
                finally:
                    response.close()
        finally:
            got_request_exception.disconnect(keep)
        if raised and raised[0] is not None:
            raise raised[0]
        self.cookies.update(response.cookies)
        return response

    def log_out(self) -> None:
        request = HttpRequest()
        request.session = self.session_store(self.cookies[settings.SESSION_COOKIE_NAME].value)
        logout(request)  # deletes the session row


def _start_response(status, headers, exc_info=None):
    return lambda data: None
