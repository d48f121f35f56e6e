"""Lists in a real browser: clean URLs, column sorting and pagination without a reload."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ..factories import IncidentFactory
from .conftest import htmx_idle

pytestmark = pytest.mark.django_db(transaction=True)


def test_filtering_pushes_a_url_without_empty_parameters(logged_in_page):
    page = logged_in_page
    IncidentFactory(title="Card auth timeouts", severity=1)
    IncidentFactory(title="Search index lag", severity=3)
    page.goto("/incidents/")
    page.get_by_label("SEV1").check()
    expect(page.locator("#results")).not_to_contain_text("Search index lag")
    htmx_idle(page)
    assert page.url.endswith("/incidents/?severity=1")
    # The plain submit (Apply) sends no empty boxes either.
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert page.url.endswith("/incidents/?severity=1")
    expect(page.get_by_label("SEV1")).to_be_checked()


def test_sorting_by_a_column_header_keeps_filters_and_url(logged_in_page):
    page = logged_in_page
    now = timezone.now()
    IncidentFactory(title="Bravo outage", severity=2, started_at=now - timedelta(days=2))
    IncidentFactory(title="Alpha outage", severity=2, started_at=now - timedelta(days=1))
    IncidentFactory(title="Zulu outage", severity=3, started_at=now)
    page.goto("/incidents/?severity=2")
    page.evaluate("window.__sameDocument = true")
    rows = page.locator("#results tbody tr")
    expect(rows.first).to_contain_text("Alpha outage")
    title = page.get_by_role("link", name="Title")
    title.focus()
    page.keyboard.press("Enter")  # keyboard-usable
    header = page.locator("th", has=page.get_by_role("link", name="Title"))
    expect(header).to_have_attribute("aria-sort", "ascending")
    htmx_idle(page)
    assert page.url.endswith("/incidents/?severity=2&sort=title")
    expect(rows.first).to_contain_text("Alpha outage")
    # Focus stays on the header, so Enter again sorts the other way.
    page.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(rows.first).to_contain_text("Bravo outage")
    htmx_idle(page)
    assert page.url.endswith("sort=-title")
    # A filter change keeps the sort.
    page.get_by_label("SEV3").check()
    expect(rows.first).to_contain_text("Zulu outage")
    expect(header).to_have_attribute("aria-sort", "descending")
    htmx_idle(page)
    assert "sort=-title" in page.url and "severity=3" in page.url
    assert page.evaluate("window.__sameDocument") is True


def test_pagination_swaps_results_and_back_returns(logged_in_page, settings):
    settings.PAGE_SIZE = 2
    now = timezone.now()
    for n in range(5):
        IncidentFactory(title=f"Outage number {n}", started_at=now - timedelta(hours=n))
    page = logged_in_page
    page.goto("/incidents/")
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#results")).to_contain_text("Outage number 0")
    page.get_by_role("link", name="Next ›").click()
    expect(page.locator("#results")).to_contain_text("Outage number 2")
    expect(page.locator("#results")).not_to_contain_text("Outage number 0")
    htmx_idle(page)
    assert page.url.endswith("/incidents/?page=2")
    assert page.evaluate("window.__sameDocument") is True
    page.go_back()
    expect(page.locator("#results")).to_contain_text("Outage number 0")
    assert page.url.endswith("/incidents/")
    # Back shows the whole page, not a bare fragment.
    expect(page.get_by_role("heading", name="Incidents")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_pagination_links_work_without_javascript(new_context, user, settings):
    from .conftest import log_in

    settings.PAGE_SIZE = 2
    IncidentFactory.create_batch(3, severity=1)
    page = log_in(new_context(java_script_enabled=False).new_page(), user.username)
    page.goto("/incidents/?severity=1")
    page.get_by_role("link", name="Next ›").click()
    page.wait_for_url("**/incidents/?severity=1&page=2")
    expect(page.get_by_role("heading", name="Incidents")).to_be_visible()
