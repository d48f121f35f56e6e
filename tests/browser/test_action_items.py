"""Changing an item's status inline updates its row in place, without a page load."""

import re

from playwright.sync_api import expect

from actions.models import ActionItem

from ..factories import ActionItemFactory
from .conftest import htmx_idle


def test_changing_status_inline_updates_the_row_without_a_reload(logged_in_page, user):
    item = ActionItemFactory(owner=user, title="Add the canary gate to checkout deploys")
    page = logged_in_page
    page.goto("/actions/mine/")
    page.evaluate("window.__sameDocument = true")  # lost if the page reloads
    row = page.locator(f"#item-{item.pk}")
    status = row.get_by_label(f"Status of {item.title}")
    expect(status).to_have_value("open")

    status.select_option("blocked")  # needs a reason: the row asks for it
    reason = row.get_by_label("Reason")
    expect(reason).to_be_visible()
    expect(row.get_by_role("alert")).to_contain_text("Say why the item is blocked")
    reason.fill("Waiting for the vendor's API v3")
    row.get_by_role("button", name="Save").click()
    expect(row.get_by_text("Why: Waiting for the vendor's API v3")).to_be_visible()
    expect(row.get_by_label(f"Status of {item.title}")).to_have_value("blocked")
    htmx_idle(page)

    row.get_by_label(f"Status of {item.title}").select_option("done")
    expect(row.get_by_text("Why:")).to_have_count(0)
    expect(row.get_by_label(f"Status of {item.title}")).to_have_value("done")
    assert page.evaluate("window.__sameDocument") is True
    assert re.search(r"/actions/mine/$", page.url)
    item.refresh_from_db()
    assert item.status == ActionItem.Status.DONE and item.completed_by == user


def test_quality_hints_show_while_typing_before_saving(logged_in_page, user):
    page = logged_in_page
    item = ActionItemFactory(owner=user, title="Add a canary stage", ticket_key="SRE-1")
    page.goto(f"/actions/{item.pk}/edit/")
    hints = page.locator(".live-hints")
    page.get_by_label("What will be delivered").fill("Investigate the outage")
    expect(hints).to_contain_text("Say what will exist when this is done")
    page.get_by_label("What will be delivered").fill(
        "Add a canary stage that halts on 5xx above 2%"
    )
    expect(hints).not_to_contain_text("Say what will exist")
