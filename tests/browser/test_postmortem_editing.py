import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from outbox.tasks import send_email
from postmortems import services
from postmortems.models import Postmortem

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    TimelineEventFactory,
    on_team,
)
from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_typing_in_a_section_saves_it_and_it_is_there_after_reload(logged_in_page, user):
    page = logged_in_page
    pm = PostmortemFactory(summary="", incident=on_team(IncidentFactory(), user))
    page.goto(f"/postmortems/{pm.incident.number}/edit/")
    box = page.get_by_role("textbox", name="Summary", exact=True)
    box.fill("Checkout returned **503s** for 42 minutes.")
    # Autosave after the typing pause, no button pressed.
    expect(page.locator("#state-summary")).to_contain_text("Saved at", timeout=8000)
    expect(page.locator("#preview-summary strong")).to_have_text("503s")
    page.reload()
    expect(page.get_by_role("textbox", name="Summary", exact=True)).to_have_value(
        "Checkout returned **503s** for 42 minutes."
    )
    pm.refresh_from_db()
    assert pm.revisions.count() == 1


def test_ctrl_s_saves_at_once(logged_in_page, user):
    page = logged_in_page
    pm = PostmortemFactory(impact="", incident=on_team(IncidentFactory(), user))
    page.goto(f"/postmortems/{pm.incident.number}/edit/")
    box = page.get_by_role("textbox", name="Impact", exact=True)
    box.click()
    box.press_sequentially("4,100 failed checkouts", delay=5)
    box.press("Control+s")
    expect(page.locator("#state-impact")).to_contain_text("Saved at")
    pm.refresh_from_db()
    assert pm.impact == "4,100 failed checkouts"


def test_text_survives_a_dropped_connection_and_saves_on_retry(logged_in_page, user):
    page = logged_in_page
    pm = PostmortemFactory(went_well="", incident=on_team(IncidentFactory(), user))
    page.goto(f"/postmortems/{pm.incident.number}/edit/")
    page.context.set_offline(True)
    box = page.get_by_role("textbox", name="What went well", exact=True)
    box.fill("Rollback took four minutes.")
    box.press("Control+s")
    expect(page.locator("#state-went_well")).to_contain_text("Not saved")
    expect(box).to_have_value("Rollback took four minutes.")
    page.context.set_offline(False)
    expect(page.locator("#state-went_well")).to_contain_text("Saved at", timeout=10000)
    pm.refresh_from_db()
    assert pm.went_well == "Rollback took four minutes."


def test_pasting_a_timeline_previews_then_adds(logged_in_page, user):
    page = logged_in_page
    start = datetime(2026, 3, 26, 13, 55, tzinfo=UTC)
    incident = IncidentFactory(started_at=start, resolved_at=start + timedelta(hours=1))
    on_team(incident, user)
    page.goto(incident.get_absolute_url())
    page.get_by_role("link", name="Paste a timeline from chat or notes").click()
    page.get_by_label("Paste the timeline").fill(
        "14:02 — alert fired: checkout 5xx above 2%\n"
        "14:05 - @alice acknowledged the page\n"
        "no time on this line\n"
    )
    page.get_by_label("Times are in").select_option("UTC")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#paste-preview")
    expect(preview).to_contain_text("2 events will be added")
    expect(preview).to_contain_text("line 3: no time on this line")
    assert not incident.timeline.exists()
    page.get_by_role("button", name="Add 2 events").click()
    expect(page.locator("#timeline table")).to_contain_text("@alice acknowledged the page")
    assert incident.timeline.count() == 2


def test_from_review_to_published(new_context, user, other_user, monkeypatch, mailoutbox):
    # No worker runs beside the live server: deliver the invitation email inline instead.
    monkeypatch.setattr(send_email, "delay", send_email)
    pm = PostmortemFactory(
        author=user,
        summary="Checkout failed for 42 minutes.",
        impact="4,100 failed checkouts",
        incident__severity=3,  # one approval publishes
    )
    TimelineEventFactory(incident=pm.incident)
    ContributingFactorFactory(postmortem=pm)
    ActionItemFactory(postmortem=pm, owner=other_user)
    alice = log_in(new_context().new_page(), user.username)
    alice.goto(f"/postmortems/{pm.incident.number}/edit/")
    alice.get_by_label("Reviewers").fill(other_user.username)
    alice.get_by_role("button", name="Send for review").click()
    expect(alice.locator(".messages")).to_contain_text("Sent for review")
    assert [m.to for m in mailoutbox] == [[other_user.email]]
    # Bob follows the link in his email: the read-only document, where he approves.
    link = re.search(r"https?://\S+#review", mailoutbox[0].body)[0]
    bob = log_in(new_context().new_page(), other_user.username)
    bob.goto(urlsplit(link).path + "#review")
    expect(bob.locator("#review")).to_contain_text("0 of 1 approval")
    bob.get_by_role("button", name="Approve", exact=True).click()
    expect(bob.locator("#review")).to_contain_text("Approved by Bob Reyes")
    expect(bob.locator("#review")).to_contain_text("1 of 1 approval")
    assert bob.url.endswith(f"/postmortems/{pm.incident.number}/#review")
    alice.reload()
    alice.get_by_role("button", name="Publish").click()
    expect(alice.locator(".doc-header")).to_contain_text("Published")
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.PUBLISHED


def test_publishing_with_missing_parts_needs_a_reason(logged_in_page, user, other_user):
    page = logged_in_page
    pm = PostmortemFactory(summary="", impact="")
    pm.incident.team.managers.add(user)  # overriding is for the team's managers and admins
    services.request_review(postmortem=pm, reviewers=[other_user], by=pm.author)
    page.goto(f"/postmortems/{pm.incident.number}/edit/")
    expect(page.locator(".problems")).to_contain_text("Write the summary.")
    expect(page.locator(".problems")).to_contain_text("0 of 2 approvals")
    page.get_by_label("Publish anyway because…").fill("Tracked in the security tracker.")
    page.get_by_role("button", name="Publish anyway").click()
    expect(page.locator(".notice.warn")).to_contain_text("Tracked in the security tracker.")


@pytest.mark.usefixtures("in_every_team")
def test_a_section_over_the_size_limit_says_so_keeps_the_text_and_saves_once_shorter(
    logged_in_page, settings
):
    settings.DEBRIEF_SECTION_MAX_BYTES = 200
    page = logged_in_page
    pm = PostmortemFactory(impact="")
    page.goto(f"/postmortems/{pm.incident.number}/edit/")
    box = page.get_by_role("textbox", name="Impact", exact=True)
    long_text = "Checkout failed for forty minutes. " * 10  # 350 bytes
    box.fill(long_text)
    expect(page.locator("#state-impact")).to_contain_text("a section holds at most", timeout=8000)
    expect(box).to_have_value(long_text)
    pm.refresh_from_db()
    assert pm.impact == "" and not pm.revisions.exists()
    box.fill("Checkout failed for forty minutes.")
    expect(page.locator("#state-impact")).to_contain_text("Saved at", timeout=8000)


def test_suggestions_arrive_after_the_editor_and_link_in_one_click(logged_in_page, user):
    pm = PostmortemFactory(incident=on_team(IncidentFactory(pattern="cert-expiry"), user))
    earlier = IncidentFactory(
        title="Mail relay certificate expired",
        pattern="cert-expiry",
        started_at=pm.incident.started_at - timedelta(days=30),
    )
    page = logged_in_page
    page.goto(f"/postmortems/{pm.incident.number}/edit/")
    suggestions = page.locator("#related-suggestions")
    expect(suggestions).to_contain_text("Might be related")
    expect(suggestions).to_contain_text("Mail relay certificate expired")
    suggestions.get_by_role("button", name="Link").click()
    linked = page.locator("#related li").filter(has=page.get_by_role("button", name="Unlink"))
    expect(linked).to_contain_text(earlier.reference)
    assert list(pm.incident.related.all()) == [earlier]
