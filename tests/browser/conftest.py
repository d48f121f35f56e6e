"""Shared Playwright fixtures: a real Chromium against a live server of the test database.

`make test` picks the browser first (scripts/ensure_browser.py) and passes it in CHROMIUM_PATH;
without it Debian's /usr/bin/chromium is used. No browser fails these tests, never skips them.
"""

import os
import select
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import pytest
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler
from playwright.sync_api import sync_playwright
from pytest_django.live_server_helper import LiveServer

from . import BROWSER_USED

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "correct-horse-battery"
# A page's requests end well within this after its context is closed; longer is a hang.
SETTLE_SECONDS = 15


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


class _CountingServer(LiveServerThread.server_class):
    """Knows how many browser connections are open, so a test ends only after the requests
    it caused have been answered: the database flush must not run under a request.

    On in-memory SQLite every request thread shares the test's one connection, which cannot
    serve two requests at once (that is how a full run once hung in two server threads); there
    the server answers one request at a time.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_connections = 0
        self.changed = threading.Condition()
        self.turn = threading.Lock() if self.connections_override else nullcontext()

    def process_request(self, request, client_address):
        with self.changed:  # counted as it is accepted, before its thread starts
            self.open_connections += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.changed:
                self.open_connections -= 1
                self.changed.notify_all()

    def wait_until_idle(self, timeout: float) -> bool:
        """True once no connection is open or waiting to be accepted."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.open_connections or select.select([self.socket], [], [], 0)[0]:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.05))
        return True

    def set_app(self, application):
        turn = self.turn

        def one_at_a_time(environ, start_response):
            with turn:
                response = application(environ, start_response)
                try:
                    return list(response)  # a streamed body would read the database later
                finally:
                    if hasattr(response, "close"):
                        response.close()  # request_finished runs here, inside the turn

        super().set_app(one_at_a_time)


class _LiveServerThread(LiveServerThread):
    server_class = _CountingServer

    def _create_server(self, connections_override=None):
        return self.server_class(
            (self.host, self.port),
            QuietWSGIRequestHandler,
            allow_reuse_address=False,
            connections_override=connections_override,
        )


@pytest.fixture(scope="session")
def live_server(django_db_setup):
    """pytest-django's live server on the counting server above, started after the test
    database exists: only then does it see that the database is in-memory SQLite and hand the
    test's connection to its threads (otherwise each thread opened its own connection to the
    shared in-memory database, whose table locks fail at once instead of waiting)."""
    server = LiveServer("localhost", start=False)
    server.thread = _LiveServerThread(
        server.thread.host,
        static_handler=server.thread.static_handler,
        connections_override=server.thread.connections_override,
        port=server.thread.port,
    )
    server.thread.daemon = True
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(request):
    if not Path(CHROMIUM).exists():
        # Fail loudly: a browser suite that silently skips proves nothing.
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run the suite with `make test` (it finds or "
            "installs one), install Debian's 'chromium' package, or set CHROMIUM_PATH.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        request.config.stash[BROWSER_USED] = f"Chromium {browser.version} at {CHROMIUM}"
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, live_server):
    contexts = []

    def make(**kwargs):
        kwargs.setdefault("viewport", {"width": 1280, "height": 720})
        kwargs.setdefault("base_url", live_server.url)
        context = browser.new_context(**kwargs)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    # Closing a context drops its connections; what the server was still answering (an htmx
    # request fired as the test ended) finishes before the test's database is flushed.
    if not live_server.thread.httpd.wait_until_idle(SETTLE_SECONDS):
        pytest.fail(f"the live server still had open requests {SETTLE_SECONDS} s after the test")


@pytest.fixture
def page(new_context):
    return new_context().new_page()


def log_in(page, username: str, password: str = PASSWORD):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


@pytest.fixture
def logged_in_page(page, user):
    """A page logged in through the real login form as `user` (alice)."""
    return log_in(page, user.username)


def htmx_idle(page) -> None:
    """Wait until htmx has no request in flight and has settled the last swap, so the next
    key press or change lands on content htmx has already wired up."""
    page.wait_for_function(
        "() => window.htmx && !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )
