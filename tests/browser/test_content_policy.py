"""The Content-Security-Policy in a real Chromium: the main pages load, take htmx swaps and run
their scripts with no inline script or style, and the browser reports no violation."""

import pytest
from playwright.sync_api import expect

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    ReviewMeetingFactory,
    TeamFactory,
    TimelineEventFactory,
)
from .conftest import htmx_idle, log_in

pytestmark = pytest.mark.django_db(transaction=True)

# Installed before any page script: records every violation the browser reports.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def watched(page):
    page.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.console_violations = console
    return page


def violations(page) -> list[str]:
    return page.evaluate("window.__violations") + page.console_violations


def test_main_pages_and_their_htmx_swaps_break_no_rule(watched, user, admin_user):
    page = watched
    team = TeamFactory()
    team.members.add(user)
    incident = IncidentFactory(team=team, commander=user, title="Checkout 502s")
    TimelineEventFactory(incident=incident, text="Alert fired")
    pm = PostmortemFactory(incident=incident, author=user)
    ActionItemFactory(postmortem=pm, owner=user, title="Add a canary step")
    log_in(page, user.username)

    visited = {}
    for url in (
        "/",
        "/incidents/",
        incident.get_absolute_url(),
        pm.get_absolute_url(),
        f"/postmortems/{incident.number}/edit/",
        "/actions/",
        "/actions/mine/",
        "/actions/dashboard/",
        "/actions/digests/",
        "/actions/calendar/",
    ):
        page.console_violations.clear()
        response = page.goto(url)
        assert response.status == 200, url
        htmx_idle(page)
        visited[url] = violations(page)
    bad = {url: found for url, found in visited.items() if found}
    assert not bad, "\n".join(f"{u}: {f}" for u, f in bad.items())

    # An htmx filter round trip on the incident list and a section save in the editor.
    page.goto("/incidents/")
    page.locator("#id_q").fill("Checkout")
    expect(page.locator("#results")).to_contain_text("Checkout 502s")
    page.goto(f"/postmortems/{incident.number}/edit/")
    box = page.get_by_role("textbox", name="Summary", exact=True)
    box.fill("The checkout tier answered **502** for 14 minutes.")
    expect(page.locator("#state-summary")).to_contain_text("Saved at", timeout=8000)
    expect(page.locator("#preview-summary strong")).to_have_text("502")
    assert violations(page) == []

    # The calendar address selects itself on focus (a listener now, not an onfocus attribute).
    page.goto("/actions/calendar/")
    page.get_by_role("button", name="Create my calendar address").click()
    feed = page.locator("input[data-select-on-focus]")
    feed.focus()
    assert feed.evaluate("el => el.selectionEnd - el.selectionStart") == len(feed.input_value())
    # The digest scope select submits itself (a listener now, not an onchange attribute).
    page.goto("/actions/digests/")
    page.locator("#scope").select_option(index=1)
    page.wait_for_url("**scope=**")
    assert violations(page) == []

    page.context.clear_cookies()
    log_in(page, admin_user.username)
    page.goto("/admin/")
    expect(page.locator("h1, #site-name").first).to_be_visible()
    assert violations(page) == []


def test_the_presenter_sizes_its_agenda_by_script_under_the_policy(watched, user):
    page = watched
    meeting = ReviewMeetingFactory(facilitator=user, attendees=[user])
    log_in(page, user.username)
    number = meeting.postmortem.incident.number
    page.goto(f"/postmortems/{number}/meetings/{meeting.pk}/present/")
    segments = page.locator("#progress .seg")
    expect(segments.first).to_be_visible()
    grows = segments.evaluate_all("els => els.map(e => getComputedStyle(e).flexGrow)")
    widths = segments.evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    # Ground rules 5, timeline 10, factors 20, items 20, close 5 minutes: sized in proportion.
    assert grows == ["5", "10", "20", "20", "5"]
    assert widths[2] > 3 * widths[0]
    assert page.evaluate("document.documentElement.classList.contains('js')")
    assert violations(page) == []
