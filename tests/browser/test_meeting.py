"""The review meeting in Chromium: the facilitator's keyboard and timer, a follower's screen."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from actions.models import ActionItem
from postmortems.models import ReviewMeeting

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    ReviewMeetingFactory,
    TimelineEventFactory,
    UserFactory,
)
from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def present_url(meeting) -> str:
    return f"/postmortems/{meeting.postmortem.incident.number}/meetings/{meeting.pk}/present/"


def choose_person(field, username: str, label: str) -> None:
    """The owner field is a username box with suggestions (or, in older forms, a select)."""
    if field.evaluate("el => el.tagName") == "SELECT":
        field.select_option(label=label)
    else:
        field.fill(username)


def step_of(meeting) -> int:
    return ReviewMeeting.objects.values_list("step", flat=True).get(pk=meeting.pk)


def test_the_facilitator_steps_with_the_keyboard_and_pauses_the_timer_with_t(page, user):
    meeting = ReviewMeetingFactory(facilitator=user, attendees=[user])
    TimelineEventFactory(incident=meeting.postmortem.incident, text="Deploy 4411 rolled out")
    page.clock.install()  # the page's clock runs as usual until the test moves it on
    log_in(page, user.username)
    page.goto(present_url(meeting))
    heading = page.locator("h1")
    timer = page.locator("#timer")
    expect(heading).to_contain_text("Ground rules")
    expect(timer.locator(".timer-value")).to_have_text("5:00")
    expect(timer).to_contain_text("Not started")

    page.keyboard.press("t")  # starts the meeting and its countdown
    expect(timer).to_contain_text("left")
    expect(timer.locator(".timer-value")).to_have_text(re.compile(r"^4:5\d$"), timeout=4000)

    page.keyboard.press("t")  # pause
    expect(timer).to_contain_text("Paused")
    paused_at = timer.locator(".timer-value").inner_text()
    page.clock.run_for(5_000)  # five seconds of the page's timers, at once
    page.wait_for_function("() => !document.querySelector('.htmx-request')")  # its polls answered
    assert timer.locator(".timer-value").inner_text() == paused_at  # a paused clock stands still
    page.keyboard.press("t")  # resume
    expect(timer).not_to_contain_text("Paused")

    page.keyboard.press("ArrowRight")
    expect(heading).to_contain_text("Timeline walk-through")
    expect(page.get_by_text("Deploy 4411 rolled out")).to_be_visible()
    expect(timer.locator(".timer-value")).to_have_text(re.compile(r"^(10:00|9:5\d)$"))
    page.keyboard.press(" ")  # space: next
    expect(heading).to_contain_text("Contributing factors")
    page.keyboard.press("ArrowLeft")
    expect(heading).to_contain_text("Timeline walk-through")
    page.keyboard.press("+")  # five more minutes
    expect(timer.locator(".timer-value")).to_have_text(re.compile(r"^1[45]:\d\d$"))
    assert step_of(meeting) == 1
    # The agenda bar marks the current step for assistive technology too.
    expect(page.locator('#progress [aria-current="step"]')).to_contain_text("Timeline walk-through")

    page.keyboard.press("f")
    page.wait_for_function("() => document.fullscreenElement !== null")
    page.keyboard.press("f")
    page.wait_for_function("() => document.fullscreenElement === null")


def test_keys_do_nothing_to_the_steps_while_typing_in_the_capture_panel(page, user):
    meeting = ReviewMeetingFactory(facilitator=user, attendees=[user])
    ReviewMeeting.objects.filter(pk=meeting.pk).update(step=3)
    log_in(page, user.username)
    page.goto(present_url(meeting))
    page.keyboard.press("c")
    title = page.get_by_label("What will be delivered")
    expect(title).to_be_focused()
    title.press_sequentially("t f c ", delay=10)
    title.press("ArrowRight")
    title.press("ArrowLeft")
    expect(title).to_have_value("t f c ")
    page.keyboard.press("Escape")
    expect(page.locator("#capture")).to_be_hidden()
    assert step_of(meeting) == 3
    assert ReviewMeeting.objects.get(pk=meeting.pk).started_at is None


def test_an_action_item_added_in_the_meeting_appears_on_a_followers_screen(
    new_context, user, other_user
):
    owner = UserFactory(username="dana", first_name="Dana", last_name="Kim")
    meeting = ReviewMeetingFactory(facilitator=user, attendees=[user, other_user, owner])
    meeting.postmortem.incident.team.members.add(user)  # items are added by the team
    ActionItemFactory(postmortem=meeting.postmortem, title="Alert on config reload failures")
    ReviewMeeting.objects.filter(pk=meeting.pk).update(step=3)
    facilitator = log_in(new_context().new_page(), user.username)
    follower = log_in(new_context().new_page(), other_user.username)
    facilitator.goto(present_url(meeting))
    follower.goto(present_url(meeting))
    expect(follower.locator("h1")).to_contain_text("Action items")
    expect(follower.get_by_text("Following Alice Ng")).to_be_visible()
    expect(follower.locator("#controls")).to_have_count(0)

    facilitator.keyboard.press("c")  # opens on the action item form at this step
    panel = facilitator.locator("#capture")
    expect(panel.get_by_role("tab", name="Action item")).to_have_attribute("aria-selected", "true")
    panel.get_by_label("What will be delivered").fill("Add a canary gate to checkout deploys")
    choose_person(panel.get_by_label("Owner"), "dana", "Dana Kim (@dana)")
    panel.get_by_label("Due").fill("2030-01-15")
    panel.get_by_label("Leverage").select_option("prevention")
    panel.get_by_role("button", name="Add action item").click()
    expect(panel.get_by_role("status")).to_contain_text("Add a canary gate to checkout deploys")
    expect(panel.get_by_label("What will be delivered")).to_have_value("")  # ready for the next

    row = follower.locator("#deck tr", has_text="Add a canary gate to checkout deploys")
    expect(row).to_be_visible(timeout=6000)  # the poll runs every 2 s
    expect(row).to_have_class(re.compile(r"\bfresh\b"))
    expect(row).to_contain_text("Dana Kim")
    expect(row).to_contain_text("2030-01-15")
    item = ActionItem.objects.get(title="Add a canary gate to checkout deploys")
    assert item.owner == owner and item.created_by == user

    # The facilitator moves on; the follower's screen follows.
    facilitator.locator("#stage").focus()
    facilitator.keyboard.press("Escape")
    facilitator.keyboard.press("ArrowRight")
    expect(facilitator.locator("h1")).to_contain_text("Close")
    expect(follower.locator("h1")).to_contain_text("Close", timeout=6000)
    expect(follower.locator("#deck")).to_contain_text("Add a canary gate to checkout deploys")


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_view_fits_the_screen_with_large_type(new_context, user, size):
    width, height = size
    meeting = ReviewMeetingFactory(facilitator=user, attendees=[user])
    for n in range(30):
        TimelineEventFactory(incident=meeting.postmortem.incident, text=f"Event {n} " * 6)
    ReviewMeeting.objects.filter(pk=meeting.pk).update(step=1)
    page = log_in(
        new_context(viewport={"width": width, "height": height}).new_page(), user.username
    )
    page.goto(present_url(meeting))
    sizes = page.evaluate(
        """() => ({
            scroll: document.documentElement.scrollHeight, inner: window.innerHeight,
            scrollW: document.documentElement.scrollWidth, innerW: window.innerWidth,
            body: parseFloat(getComputedStyle(document.querySelector('.stage td')).fontSize),
            h1: parseFloat(getComputedStyle(document.querySelector('h1')).fontSize),
            bar: document.getElementById('progress').getBoundingClientRect().bottom,
            foot: document.querySelector('.deck-foot').getBoundingClientRect().bottom,
        })"""
    )
    assert sizes["scroll"] <= sizes["inner"] and sizes["scrollW"] <= sizes["innerW"], sizes
    assert 28 <= sizes["body"] <= 32 and sizes["h1"] >= 48, sizes
    assert sizes["foot"] <= sizes["bar"] <= height, sizes  # controls and agenda bar on screen


def test_captured_items_do_not_animate_for_people_who_ask_for_less_motion(new_context, user):
    meeting = ReviewMeetingFactory(facilitator=user, attendees=[user])
    meeting.postmortem.incident.team.members.add(user)  # items are added by the team
    ReviewMeeting.objects.filter(pk=meeting.pk).update(step=3)
    page = log_in(new_context(reduced_motion="reduce").new_page(), user.username)
    page.goto(present_url(meeting))
    page.keyboard.press("c")
    panel = page.locator("#capture")
    panel.get_by_label("What will be delivered").fill("Page on config reload failures")
    choose_person(panel.get_by_label("Owner"), "alice", "Alice Ng (@alice)")
    panel.get_by_label("Due").fill("2030-02-01")
    panel.get_by_label("Leverage").select_option("detection")
    panel.get_by_role("button", name="Add action item").click()
    row = page.locator("#deck tr.fresh", has_text="Page on config reload failures")
    expect(row).to_be_visible()
    assert row.evaluate("r => getComputedStyle(r).animationName") == "none"
    expect(row.locator(".fresh-tag")).to_have_text("new")  # said in words, still


def test_quick_presses_each_move_a_step(page, user):
    meeting = ReviewMeetingFactory(facilitator=user, attendees=[user])
    log_in(page, user.username)
    page.goto(present_url(meeting))
    for _ in range(3):  # faster than the server answers
        page.keyboard.press("ArrowRight")
    expect(page.locator("h1")).to_contain_text("Action items")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("h1")).to_contain_text("Timeline walk-through")
    # No press is still on its way, and the screen shows the server's latest version.
    page.wait_for_function(
        """() => !document.querySelector("#controls.htmx-request")
                 && document.getElementById("deck").dataset.step === "2" """
    )
    shown = int(page.locator("#deck").get_attribute("data-version"))
    assert ReviewMeeting.objects.get(pk=meeting.pk).version == shown
    assert step_of(meeting) == 1


def test_scheduling_warns_as_the_facilitator_is_chosen_and_keeps_the_confirmation(page, user):
    commander = UserFactory(username="cmd", first_name="Casey", last_name="Moss")
    pm = PostmortemFactory(author=user, incident=IncidentFactory(commander=commander))
    log_in(page, user.username)
    page.goto(f"/postmortems/{pm.incident.number}/")
    page.get_by_role("link", name="Schedule review").click()
    confirm = page.get_by_label("Schedule it anyway")
    expect(confirm).to_be_hidden()  # nothing to confirm yet
    page.get_by_label("Facilitator").fill("cmd")
    page.get_by_label("Where").click()  # leaving the box refreshes the warnings
    warnings = page.locator("#schedule-warnings")
    expect(warnings).to_contain_text("was the incident commander")
    confirm.check()
    later = (pm.incident.resolved_at + timedelta(days=9)).strftime("%Y-%m-%dT10:00")
    page.get_by_label("When").fill(later)
    page.get_by_label("Where").click()
    expect(warnings).to_contain_text("within 5 days")
    expect(confirm).to_be_checked()  # a refresh of the warnings never unticks it
    page.get_by_role("button", name="Schedule and send invites").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review of")
    meeting = ReviewMeeting.objects.get()
    assert meeting.facilitator == commander
    assert set(meeting.invites.values_list("user__username", flat=True)) == {"alice", "cmd"}
    page.get_by_role("link", name="Present").click()
    expect(page.locator("h1")).to_contain_text("Ground rules")
