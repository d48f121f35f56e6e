"""The meeting presenter at a screen-share size (1280×720): what the room must see fits."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from ..factories import ActionItemFactory, ReviewMeetingFactory, TimelineEventFactory
from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

TEXTS = [
    "Deploy 4411 rolled out to the EU cluster",
    "Checkout error rate alert fired for the payments service",
    "@alice acknowledged the page and opened the incident channel",
    "Rollback of deploy 4411 started",
    "Error rate back under one percent",
    "Customer support reports card payments failing in two regions",
]


def _meeting(user, step: int):
    meeting = ReviewMeetingFactory(facilitator=user, attendees=[user])
    meeting.step = step
    meeting.save(update_fields=["step"])
    incident = meeting.postmortem.incident
    for n in range(12):
        TimelineEventFactory(
            incident=incident,
            occurred_at=incident.started_at + timedelta(minutes=3 * n),
            text=TEXTS[n % len(TEXTS)],
        )
    return meeting


def _open(page, user, meeting):
    log_in(page, user.username)
    page.goto(f"/postmortems/{meeting.postmortem.incident.number}/meetings/{meeting.pk}/present/")


def _box(locator) -> dict:
    return locator.bounding_box()


def test_eight_timeline_rows_fit_without_scrolling_at_1280x720(page, user):
    meeting = _meeting(user, step=1)
    _open(page, user, meeting)
    expect(page.locator("h1")).to_contain_text("Timeline")
    rows = page.locator(".ptable.timeline tbody tr")
    expect(rows).to_have_count(12)
    stage = _box(page.locator("#stage"))
    foot = _box(page.locator(".deck-foot"))
    bottom = min(stage["y"] + stage["height"], foot["y"])
    fully_visible = sum(
        1 for box in (_box(rows.nth(i)) for i in range(12)) if box["y"] + box["height"] <= bottom
    )
    assert fully_visible >= 8, f"only {fully_visible} of 12 timeline rows fit"
    # Still presentation-sized text (DESIGN.md: 28–32 px body text).
    size = (
        page.locator(".ptable.timeline td")
        .nth(2)
        .evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    )
    assert size >= 24


def test_the_key_legend_is_not_covered_by_the_control_bar(page, user):
    meeting = _meeting(user, step=0)
    meeting.postmortem.summary = " ".join(["The checkout service returned errors."] * 12)
    meeting.postmortem.save(update_fields=["summary"])
    _open(page, user, meeting)
    keys = page.locator(".keys")
    expect(keys).to_be_visible()
    legend, foot = _box(keys), _box(page.locator(".deck-foot"))
    stage = _box(page.locator("#stage"))
    assert legend["y"] + legend["height"] <= foot["y"], (legend, foot)
    assert legend["y"] + legend["height"] <= stage["y"] + stage["height"], (legend, stage)


def test_ticket_keys_stay_on_one_line(page, user):
    meeting = _meeting(user, step=3)
    for n in range(3):
        ActionItemFactory(
            postmortem=meeting.postmortem,
            title="Validate upstream lists in the config loader before every deploy " * 2,
            ticket_key=f"PAYMENTS-{41230 + n}",
        )
    _open(page, user, meeting)
    expect(page.locator("h1")).to_contain_text("Action items")
    cells = page.locator(".ptable.items tbody td", has_text="PAYMENTS-4123")
    expect(cells).to_have_count(3)
    for i in range(3):
        lines = cells.nth(i).evaluate(
            """el => { const r = document.createRange(); r.selectNodeContents(el);
                       const tops = new Set([...r.getClientRects()].map(b => Math.round(b.top)));
                       return tops.size; }"""
        )
        assert lines == 1, f"ticket key {i} wraps over {lines} lines"
