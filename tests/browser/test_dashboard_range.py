"""Dashboard in Chromium: reversed custom dates are swapped in the form, and the page says so."""

import pytest
from playwright.sync_api import expect

from .conftest import htmx_idle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("in_every_team")
def test_reversed_custom_dates_are_swapped_visibly_without_a_reload(logged_in_page):
    page = logged_in_page
    page.goto("/actions/dashboard/?scope=org")
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Period", exact=True).select_option("custom")
    htmx_idle(page)
    page.get_by_label("From", exact=True).fill("2026-06-30")
    page.get_by_label("To (inclusive)", exact=True).fill("2026-06-01")
    page.get_by_role("button", name="Show").click()
    notice = page.locator("#dash-notice")
    expect(notice).to_contain_text("swapped: showing 1 Jun 2026 to 30 Jun 2026")
    expect(page.locator(".dash-scope")).to_contain_text("1 Jun 2026 – 30 Jun 2026")
    # The form shows the dates in use.
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-06-01")
    expect(page.get_by_label("To (inclusive)", exact=True)).to_have_value("2026-06-30")
    assert page.evaluate("window.__sameDocument") is True
    assert "start=2026-06-30" in page.url  # what was asked, shareable; it opens the same view
    page.goto(page.url)
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-06-01")
