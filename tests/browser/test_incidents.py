from datetime import timedelta

import pytest
from playwright.sync_api import expect

from incidents.models import TimelineEvent

from ..factories import IncidentFactory, TeamFactory, on_team
from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_logging_in_lands_on_my_action_items(page, user):
    log_in(page, "alice")
    expect(page.get_by_role("heading", name="My action items")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Incidents")


def test_wrong_password_says_so(page, user):
    log_in_page = page.goto("/login/")
    assert log_in_page.status == 200
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")


def test_filtering_incidents_updates_results_and_url_without_reload(logged_in_page):
    page = logged_in_page
    payments = TeamFactory(name="Payments", slug="payments")
    IncidentFactory(title="Card auth timeouts", severity=1, team=payments)
    IncidentFactory(title="Search index lag", severity=3)
    page.goto("/incidents/")
    expect(page.locator("#results")).to_contain_text("Search index lag")
    page.evaluate("window.__sameDocument = true")  # survives only if nothing reloads
    page.get_by_label("SEV1").check()
    expect(page.locator("#results")).not_to_contain_text("Search index lag")
    expect(page.locator("#results")).to_contain_text("Card auth timeouts")
    assert "severity=1" in page.url
    assert page.evaluate("window.__sameDocument") is True
    # The URL is shareable: opening it fresh shows the same filtered list.
    page.goto(page.url)
    expect(page.locator("#results")).not_to_contain_text("Search index lag")
    expect(page.get_by_label("SEV1")).to_be_checked()


def test_adding_a_timeline_event_without_a_page_reload(logged_in_page, user):
    page = logged_in_page
    incident = on_team(IncidentFactory(title="Checkout 503s"), user)
    page.goto(incident.get_absolute_url())
    page.evaluate("window.__sameDocument = true")
    form = page.locator("#event-add")
    when = (incident.started_at + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M")
    form.get_by_label("Time").fill(when)
    form.get_by_label("Phase").select_option("detection")
    form.get_by_role("combobox", name="Source", exact=True).select_option("alert")
    form.get_by_label("What happened").fill("@alice acknowledged the page")
    form.get_by_role("button", name="Add event").click()
    expect(page.locator("#timeline table")).to_contain_text("@alice acknowledged the page")
    assert page.evaluate("window.__sameDocument") is True
    event = TimelineEvent.objects.get()
    assert event.incident == incident and event.phase == "detection"
    # A second, invalid submission keeps the typed text and shows the error in place.
    form = page.locator("#event-add")
    form.get_by_label("Time").fill("2099-01-01T10:00")
    form.get_by_label("What happened").fill("Text that must survive")
    form.get_by_role("button", name="Add event").click()
    expect(page.locator("#event-add")).to_contain_text("cannot be in the future")
    expect(page.locator("#event-add").get_by_label("What happened")).to_have_value(
        "Text that must survive"
    )
    assert TimelineEvent.objects.count() == 1


def test_back_after_filtering_shows_the_whole_page_not_the_fragment(logged_in_page):
    """The list and its htmx fragment share a URL; Back must bring the styled page back."""
    page = logged_in_page
    payments = TeamFactory(name="Payments", slug="payments")
    card = IncidentFactory(title="Card auth timeouts", severity=1, team=payments)
    IncidentFactory(title="Search index lag", severity=3)
    page.goto("/incidents/")
    page.get_by_label("SEV1").check()
    expect(page.locator("#results")).not_to_contain_text("Search index lag")
    filtered = page.url
    page.get_by_role("link", name="Card auth timeouts").click()
    page.wait_for_url(f"**{card.get_absolute_url()}")
    page.go_back()
    page.wait_for_url(filtered)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator("#incident-filters")).to_be_visible()
    expect(page.locator("#results")).to_contain_text("Card auth timeouts")
    expect(page.locator("#results")).not_to_contain_text("Search index lag")
    # Reloading the pushed URL is the same whole page.
    page.reload()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_a_refused_form_puts_focus_on_what_to_fix(logged_in_page):
    page = logged_in_page
    page.goto("/incidents/new/")
    page.get_by_role("button", name="Open incident").click()
    summary = page.locator(".form-errors")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
