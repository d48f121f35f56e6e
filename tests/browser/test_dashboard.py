"""The dashboard in Chromium: its charts draw with data, the later figures arrive by themselves,
the scope changes in place, and a number leads to the list of exactly those items."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    UserFactory,
)


def _organisation(manager):
    today = timezone.localdate()
    now = timezone.now()
    payments = TeamFactory(name="Payments", slug="payments")
    payments.managers.add(manager)
    search = TeamFactory(name="Search", slug="search")
    dana = UserFactory(username="dana", first_name="Dana", last_name="Ito")
    late = []
    for n, team in enumerate([payments, payments, search]):
        incident = IncidentFactory(
            team=team, pattern="cert-expiry", started_at=now - timedelta(days=20 + 30 * n)
        )
        pm = PostmortemFactory(
            incident=incident,
            status="published",
            published_at=incident.resolved_at + timedelta(days=3),
        )
        ActionItemFactory(
            postmortem=pm,
            title=f"Alert on certificate expiry {n}",
            due_on=today - timedelta(days=25 + n),
            status="done",
            completed_at=now - timedelta(days=27 + n),
        )
        item = ActionItemFactory(
            postmortem=pm,
            owner=dana,
            title=f"Automate certificate renewal {n}",
            due_on=today - timedelta(days=2 + n),
        )
        if team == payments:
            late.append(item)
    return payments, late


def test_charts_render_and_a_number_leads_to_exactly_its_items(logged_in_page, user):
    payments, late = _organisation(user)
    page = logged_in_page
    page.goto("/actions/dashboard/")

    # A manager lands on the first team they manage.
    expect(page.locator(".dash-scope")).to_contain_text("Payments")
    # Charts are drawn server-side as SVG, with bars that carry their values.
    completion = page.locator("#fig-completion-month svg.chart")
    expect(completion).to_be_visible()
    assert completion.locator("rect").count() >= 1
    titles = completion.locator("rect > title").all_text_contents()
    assert any(re.search(r"Done on time: \d+%", t) for t in titles), titles
    # The slowest figure arrives after the page, through htmx, as a chart of its own.
    recurrence = page.locator("#fig-recurrence-month")
    expect(recurrence.locator("h3")).to_contain_text("repeated an earlier one")
    expect(recurrence.locator("svg.chart rect").first).to_be_visible()
    # So do the figures the page asks for once it is shown: every placeholder is replaced.
    expect(page.locator("#fig-severity-month svg.chart rect").first).to_be_visible()
    expect(page.locator("#fig-slippage-team h3")).not_to_contain_text("Working this figure out")
    expect(page.locator('.dash-figure[aria-busy="true"]')).to_have_count(0)
    assert page.locator("svg.chart rect").count() >= 8
    # Each chart has its table one click away, and its definition.
    figure = page.locator("#fig-overdue-team")
    figure.locator("summary", has_text="Table").click()
    expect(figure.locator("table")).to_be_visible()
    figure.get_by_text("How is this computed?").click()
    expect(figure.locator(".definition p")).to_contain_text("due before today")

    # The overdue count of the team leads to the action item list filtered to exactly it.
    with page.expect_navigation():
        # The row's first number is its overdue count.
        figure.locator("table tbody tr").first.locator("td").first.get_by_role("link").click()
    assert "/actions/?" in page.url and "team=payments" in page.url and "overdue=on" in page.url
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(len(late))
    for item in late:
        expect(page.locator(f"#item-{item.pk}")).to_contain_text(item.title)
    expect(page.get_by_text("Automate certificate renewal 2")).to_have_count(0)  # Search's


def test_changing_the_scope_redraws_the_figures_in_place(logged_in_page, user):
    _organisation(user)
    page = logged_in_page
    page.goto("/actions/dashboard/")
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#headline-overdue .headline-value")).to_contain_text("2")
    page.get_by_label("Scope", exact=True).select_option("org")
    expect(page.locator(".dash-scope")).to_contain_text("All teams")
    expect(page.locator("#headline-overdue .headline-value")).to_contain_text("3")
    assert "scope=org" in page.url
    assert page.evaluate("window.__sameDocument") is True
    # The swapped-in board asks for its later figures again, for the new scope.
    expect(page.locator("#fig-severity-month svg.chart rect").first).to_be_visible()
    expect(page.locator('.dash-figure[aria-busy="true"]')).to_have_count(0)
    # The period changes the same way.
    page.get_by_label("Period", exact=True).select_option("30")
    expect(page.locator(".dash-scope")).to_contain_text("30 UTC days")
