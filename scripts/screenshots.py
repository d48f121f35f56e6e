"""Refresh docs/screenshots/ for the README: the demo organisation in Chromium at 1440×900.

`make screenshots` migrates a database of its own (var/screenshots.sqlite3 unless
DATABASE_URL is set), loads the demo once, serves it on a free local port and runs this. The
pages are the README's tour: list, incident, postmortem, editor, meeting, dashboard, digest.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}
# Chromium flags for a machine with a closed network (see tests/browser/conftest.py).
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def tour() -> list[tuple[str, str]]:
    """(file name, path) of each page, found in the demo data."""
    import django

    sys.path.insert(0, str(ROOT))  # run as a script from scripts/: the project is one up
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.urls import reverse

    from incidents.models import Incident
    from postmortems.models import ReviewMeeting

    incident = (
        Incident.objects.filter(private=False, postmortem__status="published")
        .order_by("-started_at")
        .first()
    )
    meeting = ReviewMeeting.objects.order_by("scheduled_at").first()
    pages = [("incidents", "/incidents/"), ("my-action-items", "/actions/mine/")]
    if incident:
        number = incident.number
        pages += [
            ("incident", f"/incidents/{number}/"),
            ("postmortem", f"/postmortems/{number}/"),
            ("editor", f"/postmortems/{number}/edit/"),
        ]
    if meeting:
        number = meeting.postmortem.incident.number
        pages.append(("meeting", reverse("postmortems:meeting-present", args=[number, meeting.pk])))
    pages += [("dashboard", "/actions/dashboard/"), ("digest", "/actions/digests/preview/")]
    return pages


def shoot(base_url: str, pages, out: Path, *, username: str, password: str, browser):
    """Log in once and save one PNG per page with `browser` (a Playwright Chromium)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    context = browser.new_context(viewport=VIEWPORT, base_url=base_url)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    for name, path in pages:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        target = out / f"{name}.png"
        page.screenshot(path=str(target))
        written.append(target)
    context.close()
    return written


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    pages = tour()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
            written = shoot(
                base, pages, OUT, username="demo", password="demo-debrief", browser=browser
            )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    for path in written:
        print(f"screenshots: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
