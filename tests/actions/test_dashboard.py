"""The manager dashboard: who sees what, drill-down links, CSV, lists, query counts."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions import figure_rollups, metrics, rollups
from actions.dashboard.figures import Dashboard
from actions.dashboard.figures.shapes import TABLE_LIMIT
from actions.filters import ActionItemFilter
from actions.metrics import ORG, Period, Scope
from actions.models import ActionItem, ActionItemEvent
from actions.repeats import refresh_pending
from incidents.models import Profile

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)
from .dashboard_view import view

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
TODAY = NOW.date()
DASHBOARD = reverse("actions:dashboard")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _the_viewer_is_an_admin(request):
    """The figures are tried as an admin (every scope, counts per person); who may open
    which scope is tested on its own below and in tests/test_permission_matrix.py."""
    if "user" in request.fixturenames:
        user = request.getfixturevalue("user")
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])


def _item(*, due: date, done_at=None, status=None, created=None, **kwargs):
    status = status or ("done" if done_at else "open")
    if status in ("blocked", "wont_do"):
        kwargs.setdefault("reason", "A recorded decision")
    item = ActionItemFactory(due_on=due, status=status, completed_at=done_at, **kwargs)
    ActionItem.objects.filter(pk=item.pk).update(created_at=created or NOW - timedelta(days=20))
    return item


def _hrefs(response) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', response.content.decode())]


def _list_ids(client, href) -> list[int]:
    response = client.get(href)
    assert response.status_code == 200
    return sorted(item.pk for item in response.context["page"].object_list)


def _team_with_manager(name="Payments", slug="payments"):
    team = TeamFactory(name=name, slug=slug)
    manager = UserFactory(username=f"{slug}-lead")
    team.managers.add(manager)
    return team, manager


# Who sees what --------------------------------------------------------------------------


def test_the_dashboard_needs_a_login(client):
    for url in (
        DASHBOARD,
        reverse("actions:dashboard-csv", args=["owners"]),
        reverse("actions:dashboard-rows", args=["items-due"]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_manager_sees_the_first_team_they_manage_and_can_switch_to_the_organisation(client):
    _team_with_manager("Search", "search")
    payments, manager = _team_with_manager("Payments", "payments")
    TeamFactory(name="Billing", slug="billing").managers.add(manager)
    payments.managers.add(UserFactory())
    client.force_login(manager)
    response = client.get(DASHBOARD)
    selection = response.context["s"]
    assert selection.scope == Scope(team=TeamFactory(slug="billing"))  # first by name
    assert selection.defaulted_to_team and selection.period == Period.last(90, TODAY)
    assert "See the whole organisation" in response.content.decode()
    org = client.get(DASHBOARD, {"scope": "org", "range": "30"})
    assert org.context["s"].scope == ORG and org.context["s"].period.days == 30


def test_an_admin_who_manages_nothing_sees_the_organisation(client, user):
    team, _ = _team_with_manager()
    team.members.add(user)
    client.force_login(user)
    assert client.get(DASHBOARD).context["s"].scope == ORG
    # Admins may look at any team's or service's view.
    service = ServiceFactory(slug="checkout-api")
    response = client.get(DASHBOARD, {"scope": "service:checkout-api"})
    assert response.context["s"].scope == Scope(service=service)


def test_a_member_lands_on_their_team_and_is_refused_other_teams_and_the_organisation(client):
    team, _ = _team_with_manager()
    other, _ = _team_with_manager(name="Search", slug="search")
    member = UserFactory(username="member")
    team.members.add(member)
    client.force_login(member)
    page = client.get(DASHBOARD)
    assert page.context["s"].scope == Scope(team=team)
    assert "owners" not in {f.key for s in page.context["sections"] for f in s.figures}
    assert client.get(DASHBOARD, {"scope": "team:search"}).status_code == 403
    assert client.get(DASHBOARD, {"scope": "org"}).status_code == 403
    csv = reverse("actions:dashboard-csv", args=["owners"])
    assert client.get(csv, {"scope": "team:payments"}).status_code == 404
    rows = reverse("actions:dashboard-rows", args=["incidents"])
    assert client.get(rows, {"scope": "team:search"}).status_code == 403


def test_someone_in_no_team_gets_no_dashboard_and_a_viewer_gets_the_organisation(client):
    _team_with_manager()
    outsider = UserFactory(username="outsider")
    client.force_login(outsider)
    assert client.get(DASHBOARD).status_code == 403
    viewer = UserFactory(username="viewer")
    Profile.objects.update_or_create(user=viewer, defaults={"read_only": True})
    client.force_login(viewer)
    page = client.get(DASHBOARD)
    assert page.status_code == 200 and page.context["s"].scope == ORG
    assert client.get(DASHBOARD, {"scope": "team:payments"}).status_code == 403


def test_a_manager_sees_counts_per_owner_of_their_team_only(client):
    team, manager = _team_with_manager()
    client.force_login(manager)
    page = client.get(DASHBOARD, {"scope": "team:payments"})
    assert "owners" in {f.key for s in page.context["sections"] for f in s.figures}
    page = client.get(DASHBOARD, {"scope": "org"})
    assert "owners" not in {f.key for s in page.context["sections"] for f in s.figures}


def test_private_incidents_stay_out_of_figures_csv_and_lists_for_non_members(client):
    member, outsider = UserFactory(username="member"), UserFactory(username="outsider")
    elsewhere = TeamFactory(name="Elsewhere", slug="elsewhere")
    elsewhere.managers.add(member, outsider)  # managers open the organisation dashboard
    owner = UserFactory(username="sam", first_name="Sam", last_name="Secret")
    team = TeamFactory(name="Security", slug="security")
    secret = IncidentFactory(
        team=team,
        title="Credential leak in build logs",
        private=True,
        members=[member],
        severity=1,
        started_at=NOW - timedelta(days=10),
    )
    pm = PostmortemFactory(
        incident=secret, status="published", published_at=NOW - timedelta(days=2)
    )
    _item(
        postmortem=pm,
        owner=owner,
        leverage="detection",
        due=TODAY - timedelta(days=3),
        title="Rotate the leaked deploy key",
    )

    def csv_text(key):
        response = client.get(reverse("actions:dashboard-csv", args=[key]), {"scope": "org"})
        return response.content.decode()

    for viewer, visible in ((member, True), (outsider, False)):
        client.force_login(viewer)
        shown = view(client, {"scope": "org"})
        page = shown.page
        assert (secret.reference in shown.text) is visible
        headlines = {h.key: h.value for h in page.context["headlines"]}
        assert headlines["overdue"] == ("1" if visible else "0")
        assert ("Security" in csv_text("overdue-team")) is visible
        assert "Sam Secret" not in csv_text("owners")  # per person: admins only here
        assert (secret.reference in csv_text("no-prevention")) is visible
        assert ("2026-11,1,0,0,1" in csv_text("severity-month")) is visible
        listing = client.get(
            reverse("actions:dashboard-rows", args=["incidents"]), {"scope": "org"}
        )
        assert ("Credential leak" in listing.content.decode()) is visible
        items = client.get(
            reverse("actions:dashboard-rows", args=["items-created"]), {"scope": "org"}
        )
        assert ("Rotate the leaked deploy key" in items.content.decode()) is visible
        # The drill-down to the action item list applies the same rule.
        overdue_link = next(
            h for h in _hrefs(page) if h.startswith("/actions/?") and "overdue" in h
        )
        assert len(_list_ids(client, overdue_link)) == (1 if visible else 0)
        client.logout()


# Figures on the page --------------------------------------------------------------------


def test_headline_figures_are_the_shared_definitions(client, user):
    team, manager = _team_with_manager()
    pm = PostmortemFactory(
        incident__team=team, incident__severity=3, incident__started_at=NOW - timedelta(days=30)
    )
    _item(postmortem=pm, due=TODAY - timedelta(days=10), done_at=NOW - timedelta(days=11))
    _item(postmortem=pm, due=TODAY - timedelta(days=9), done_at=NOW - timedelta(days=2))  # late
    _item(postmortem=pm, due=TODAY - timedelta(days=8))  # missed, overdue now
    _item(postmortem=pm, due=TODAY)  # due today: not judged yet, not overdue
    _item(postmortem=pm, due=TODAY - timedelta(days=5), status="wont_do")
    owed = IncidentFactory(team=team, severity=1, started_at=NOW - timedelta(days=20))
    client.force_login(manager)
    response = client.get(DASHBOARD, {"range": "30"})
    headlines = {h.key: h for h in response.context["headlines"]}
    assert headlines["completion"].value == "33%" and headlines["completion"].band == "theatre"
    assert "1 of 3 items due" in headlines["completion"].detail
    judged = Period(TODAY - timedelta(days=29), TODAY - timedelta(days=1))
    expected = metrics.completion_by_due_date(judged, Scope(team=team), manager)
    assert (expected["due"], expected["on_time"]) == (3, 1)
    assert headlines["overdue"].value == "1"
    assert headlines["owed"].value == "1"
    assert owed.reference in client.get(headlines["owed"].href).content.decode()
    assert headlines["cycle"].value == "—"  # nothing published in the period


def test_a_page_with_no_data_says_what_belongs_in_each_figure(client, user):
    client.force_login(user)
    shown = view(client)
    text = shown.text
    assert "No action items came due in this period" in text
    assert "No postmortems owed." in text
    assert "No incidents started in this period." in text
    assert "<svg" not in text  # no empty charts drawn
    for figure in shown.figures.values():
        assert figure.rows == [] or figure.key in ("priority-leverage",), figure.key


def test_charts_are_svg_with_values_on_hover_and_a_table_and_definition_each(client, user):
    team, manager = _team_with_manager()
    for days in (40, 70):
        pm = PostmortemFactory(
            incident__team=team,
            incident__started_at=NOW - timedelta(days=days),
            status="published",
            published_at=NOW - timedelta(days=days - 3),
        )
        _item(
            postmortem=pm, due=TODAY - timedelta(days=days - 10), done_at=NOW - timedelta(days=days)
        )
    client.force_login(manager)
    shown = view(client)
    text = shown.text
    assert text.count('<svg class="chart') >= 5
    assert re.search(r"<rect [^>]+><title>[A-Z][a-z]+ \d{4} · Done on time: 100%</title>", text)
    figures = list(shown.figures.values())
    for figure in figures:
        assert figure.definition  # "How is this computed?" for every figure
        assert f'href="/actions/dashboard/{figure.key}.csv?' in text
    assert text.count("How is this computed?") == len(figures) + 4
    assert '<details class="table-toggle">' in text


def test_the_slowest_figure_arrives_after_the_page_and_has_a_page_of_its_own(client, user):
    IncidentFactory(pattern="dns", started_at=NOW - timedelta(days=200))
    IncidentFactory(pattern="dns", started_at=NOW - timedelta(days=20))
    refresh_pending()  # as the commit would
    client.force_login(user)
    page = client.get(DASHBOARD, {"scope": "org"}).content.decode()
    url = f"{reverse('actions:dashboard-figure', args=['recurrence-month'])}?range=90&scope=org"
    assert f'hx-get="{url.replace("&", "&amp;")}" hx-trigger="load"' in page
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<article class="dash-figure" id="fig-recurrence-month"')
    assert (
        "1 incident repeated an earlier one; 0 after a prevention item was marked done" in fragment
    )
    assert '<svg class="chart' in fragment and "How is this computed?" in fragment
    alone = client.get(url).content.decode()  # without JavaScript: a page of its own
    assert "<html" in alone and "1 incident repeated an earlier one" in alone
    assert client.get(reverse("actions:dashboard-figure", args=["nope"])).status_code == 404


def test_the_page_builds_what_its_headlines_read_and_asks_for_the_rest_with_its_sorts(client):
    admin = UserFactory(is_superuser=True)
    client.force_login(admin)
    params = {"scope": "org", "range": "365", "slippage-team_sort": "team"}
    page = client.get(DASHBOARD, params)
    figures = [f for s in page.context["sections"] for f in s.figures]
    later = [f for f in figures if f.later_url]
    assert {f.key for f in later} == set(Dashboard.LATER)  # owners too: an admin sees them
    assert {f.key for f in figures} - set(Dashboard.LATER) == {
        "completion-month",
        "completion-team",
        "overdue-team",
        "cycle-month",
        "owed-list",
    }
    text = page.content.decode()
    for figure in later:
        # A placeholder that says what is coming, fetched once the page is shown, with the
        # page's sorts so the fragment's own sort links keep them.
        query = parse_qs(urlsplit(figure.later_url).query)
        assert query == {"range": ["365"], "scope": ["org"], "slippage-team_sort": ["team"]}
        assert f'hx-get="{figure.later_url.replace("&", "&amp;")}" hx-trigger="load"' in text
        assert figure.heading in text
        fragment = client.get(figure.later_url, headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        assert fragment.context["f"].heading == figure.heading
    # Someone who may not see counts per person gets no placeholder for them.
    _, manager = _team_with_manager()  # a team's manager: no counts per person org-wide
    client.force_login(manager)
    page = client.get(DASHBOARD, {"scope": "org"})
    keys = {f.key for s in page.context["sections"] for f in s.figures if f.later_url}
    assert keys == set(Dashboard.LATER) - {"owners"}


def test_completion_by_team_links_the_overdue_items_of_the_team_whose_rate_fell(client, user):
    a, _ = _team_with_manager("Alpha", "alpha")
    b, _ = _team_with_manager("Beta", "beta")
    alpha = PostmortemFactory(incident__team=a)
    beta = PostmortemFactory(incident__team=b)
    # Previous 90 days: both on time. This period: Alpha misses, Beta keeps up.
    for pm in (alpha, beta):
        _item(postmortem=pm, due=TODAY - timedelta(days=120), done_at=NOW - timedelta(days=121))
    late = _item(postmortem=alpha, due=TODAY - timedelta(days=30))
    _item(postmortem=beta, due=TODAY - timedelta(days=30), done_at=NOW - timedelta(days=31))
    client.force_login(user)
    response = client.get(DASHBOARD, {"scope": "org"})
    figure = next(
        f for s in response.context["sections"] for f in s.figures if f.key == "completion-team"
    )
    assert figure.finding == "Alpha's completion fell the most: 100% → 0%"
    assert [row[0].value for row in figure.rows] == ["Alpha", "Beta"]  # biggest fall first
    overdue_cell = figure.rows[0][-1]
    assert overdue_cell.value == 1
    assert parse_qs(urlsplit(overdue_cell.href).query) == {"team": ["alpha"], "overdue": ["on"]}
    assert _list_ids(client, overdue_cell.href) == [late.pk]


def test_overdue_counts_by_team_and_owner_link_to_the_list_showing_exactly_those(client, user):
    team = TeamFactory(name="Checkout", slug="checkout")
    service = ServiceFactory(slug="checkout-api", team=team)
    dana, lee = UserFactory(username="dana"), UserFactory(username="lee")
    incident = IncidentFactory(team=team)
    incident.services.add(service)
    pm = PostmortemFactory(incident=incident)
    d1 = _item(postmortem=pm, owner=dana, due=TODAY - timedelta(days=3))
    d2 = _item(postmortem=pm, owner=dana, due=TODAY - timedelta(days=1), status="blocked")
    _item(postmortem=pm, owner=dana, due=TODAY + timedelta(days=3))
    l1 = _item(postmortem=pm, owner=lee, due=TODAY - timedelta(days=9), status="in_progress")
    _item(postmortem=PostmortemFactory(), owner=lee, due=TODAY - timedelta(days=2))  # other team
    client.force_login(user)
    for scope in ("team:checkout", "service:checkout-api"):
        figures = view(client, {"scope": scope}).figures
        (team_row,) = figures["overdue-team"].rows
        assert [c.value for c in team_row[:3]] == ["Checkout", 3, 4]
        assert _list_ids(client, team_row[1].href) == sorted([d1.pk, d2.pk, l1.pk])
        assert _list_ids(client, team_row[2].href) == sorted(
            ActionItem.objects.filter(postmortem=pm).open().values_list("pk", flat=True)
        )
        owners = {row[0].value: row for row in figures["owners"].rows}
        assert _list_ids(client, owners[dana.get_full_name()][1].href) == sorted([d1.pk, d2.pk])
        assert _list_ids(client, owners[lee.get_full_name()][1].href) == [l1.pk]
        assert _list_ids(client, owners[dana.get_full_name()][2].href) == sorted(
            ActionItem.objects.filter(postmortem=pm, owner=dana).values_list("pk", flat=True)
        )


def test_every_link_to_the_action_item_list_uses_only_filters_it_understands(client, user):
    team, _ = _team_with_manager()
    pm = PostmortemFactory(incident__team=team)
    _item(postmortem=pm, due=TODAY - timedelta(days=3))
    _item(postmortem=pm, due=TODAY - timedelta(days=40), done_at=NOW - timedelta(days=41))
    client.force_login(user)
    known = set(ActionItemFilter.base_filters) | {"page"}
    for scope in ("org", "team:payments"):
        links = [h for h in _hrefs(client.get(DASHBOARD, {"scope": scope})) if "/actions/?" in h]
        assert links
        for link in links:
            params = parse_qs(urlsplit(link).query)
            assert set(params) <= known, link
            filters = ActionItemFilter(client.get(link).wsgi_request.GET)
            assert filters.is_valid(), (link, filters.errors)


def test_an_inactive_owner_is_listed_without_a_link_the_list_could_not_honour(client, user):
    gone = UserFactory(username="gone", first_name="Ex", last_name="Colleague", is_active=False)
    _item(postmortem=PostmortemFactory(), owner=gone, due=TODAY - timedelta(days=2))
    client.force_login(user)
    response = client.get(reverse("actions:dashboard-csv", args=["owners"]), {"scope": "org"})
    assert "Ex Colleague (inactive),1,1," in response.content.decode()
    owners = view(client, {"scope": "org"}).figures["owners"]
    assert [c.href for c in owners.rows[0][1:3]] == ["", ""]


def test_owner_and_team_tables_sort_by_any_column(client, user):
    team = TeamFactory(name="Checkout")
    pm = PostmortemFactory(incident__team=team)
    for name, overdue, fine in (("zoe", 1, 4), ("adam", 2, 0), ("mia", 3, 1)):
        owner = UserFactory(username=name, first_name=name.title(), last_name="")
        for _ in range(overdue):
            _item(postmortem=pm, owner=owner, due=TODAY - timedelta(days=4))
        for _ in range(fine):
            _item(postmortem=pm, owner=owner, due=TODAY + timedelta(days=4))
    client.force_login(user)

    def owners(**params):
        figure = view(client, {"scope": "org", **params}).figures["owners"]
        return figure, [row[0].value for row in figure.rows]

    figure, default = owners()
    assert default == ["Zoe", "Mia", "Adam"]  # most open first
    assert owners(owners_sort="owner")[1] == ["Adam", "Mia", "Zoe"]
    assert owners(owners_sort="-overdue")[1] == ["Mia", "Adam", "Zoe"]
    assert owners(owners_sort="nonsense")[1] == default
    head = next(h for h in owners(owners_sort="owner")[0].headers if h["label"] == "Owner")
    assert head["aria"] == "ascending" and "owners_sort=-owner" in head["href"]
    assert "scope=org" in head["href"] and head["href"].endswith("#fig-owners")


def test_the_owner_table_builds_only_the_rows_it_shows_in_the_order_asked(client, user):
    pm = PostmortemFactory()
    for n in range(TABLE_LIMIT + 5):  # owner n carries n + 1 open items, the first n overdue
        owner = UserFactory(username=f"o{n:02}", first_name=f"O{n:02}", last_name="")
        for i in range(n + 1):
            due = TODAY - timedelta(days=4) if i < n else TODAY + timedelta(days=4)
            _item(postmortem=pm, owner=owner, due=due)
    client.force_login(user)

    def owners(**params):
        shown = view(client, {"scope": "org", **params})
        return shown.figures["owners"], shown.text

    figure, page = owners()
    assert len(figure.rows) == TABLE_LIMIT and figure.total_rows == TABLE_LIMIT + 5
    last = TABLE_LIMIT + 4
    assert [r[0].value for r in figure.rows[:2]] == [f"O{last:02}", f"O{last - 1:02}"]  # most open
    assert f"Showing {TABLE_LIMIT} of {TABLE_LIMIT + 5}" in page
    figure, _ = owners(owners_sort="owner")  # A to Z: the first names, not the top ones
    assert [r[0].value for r in figure.rows] == [f"O{n:02}" for n in range(TABLE_LIMIT)]
    figure, _ = owners(owners_sort="overdue")  # fewest overdue first
    assert [r[1].value for r in figure.rows[:3]] == [0, 1, 2]
    csv = client.get(reverse("actions:dashboard-csv", args=["owners"]), {"scope": "org"})
    assert len(csv.content.decode().strip().splitlines()) == 1 + TABLE_LIMIT + 5


def test_the_period_form_rejects_impossible_ranges_and_falls_back(client, user):
    client.force_login(user)
    backwards = client.get(
        DASHBOARD, {"range": "custom", "start": "2026-10-10", "end": "2026-10-01"}
    )
    # Reversed dates are used the right way round, and the page says so.
    assert "so they were swapped: showing 1 Oct 2026 to 10 Oct 2026" in unescape(
        backwards.content.decode()
    )
    assert backwards.context["s"].period == Period(date(2026, 10, 1), date(2026, 10, 10))
    too_long = client.get(
        DASHBOARD, {"range": "custom", "start": "2020-01-01", "end": "2026-10-01"}
    )
    assert "at most three years" in too_long.content.decode()
    custom = client.get(
        DASHBOARD, {"range": "custom", "start": "2026-01-01", "end": "2026-03-31", "scope": "org"}
    )
    assert custom.context["s"].period == Period(date(2026, 1, 1), date(2026, 3, 31))
    assert (
        "range=custom&amp;start=2026-01-01&amp;end=2026-03-31&amp;scope=org"
        in custom.content.decode()
    )
    unknown = client.get(DASHBOARD, {"scope": "team:no-such-team"})
    assert unknown.context["s"].scope == ORG


def test_an_htmx_request_gets_only_the_figures(client, user):
    client.force_login(user)
    response = client.get(DASHBOARD, {"range": "30"}, headers={"HX-Request": "true"})
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="board"') and "<html" not in text


# CSV ------------------------------------------------------------------------------------


def test_each_figure_downloads_as_csv_with_its_columns_and_every_row(client, user):
    team = TeamFactory(name='=HYPERLINK("evil")', slug="evil")
    pm = PostmortemFactory(incident__team=team)
    for n in range(30):
        owner = UserFactory(username=f"owner{n:02d}")
        _item(postmortem=pm, owner=owner, due=TODAY - timedelta(days=1))
    client.force_login(user)
    response = client.get(reverse("actions:dashboard-csv", args=["owners"]), {"scope": "org"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="debrief-owners-org-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Owner", "Overdue", "Open", "Oldest overdue due date"]
    assert len(rows) == 31  # every owner, although the page shows 15
    team_csv = client.get(reverse("actions:dashboard-csv", args=["overdue-team"]), {"scope": "org"})
    first = list(csv.reader(io.StringIO(team_csv.content.decode())))[1]
    assert first[0] == '\'=HYPERLINK("evil")'  # not a formula in a spreadsheet
    assert client.get(reverse("actions:dashboard-csv", args=["nope"])).status_code == 404


def test_csv_values_are_raw_numbers_with_units_in_the_header(client, user):
    resolved = NOW - timedelta(days=20)
    incident = IncidentFactory(started_at=resolved - timedelta(hours=1), resolved_at=resolved)
    PostmortemFactory(
        incident=incident, status="published", published_at=resolved + timedelta(days=2)
    )
    client.force_login(user)
    response = client.get(reverse("actions:dashboard-csv", args=["cycle-month"]), {"range": "30"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "Month",
        "Published",
        "Median (hours)",
        "90th percentile (hours)",
        "Within 7 days (share 0-1)",
    ]
    assert rows[1:] == [["2026-10", "0", "", "", ""], ["2026-11", "1", "48.0", "48.0", "1.0"]]


# The lists behind the numbers -----------------------------------------------------------


def test_completion_numbers_drill_down_to_exactly_the_items_they_count(client, user):
    team, _ = _team_with_manager()
    pm = PostmortemFactory(incident__team=team)
    on_time = _item(
        postmortem=pm, due=date(2026, 10, 5), done_at=datetime(2026, 10, 5, 23, tzinfo=UTC)
    )
    late = _item(postmortem=pm, due=date(2026, 10, 6), done_at=datetime(2026, 10, 9, tzinfo=UTC))
    missed = _item(postmortem=pm, due=date(2026, 11, 2))
    _item(postmortem=pm, due=date(2026, 11, 3), status="wont_do")
    _item(postmortem=pm, due=TODAY)  # due today: not judged
    client.force_login(user)
    response = client.get(DASHBOARD, {"scope": "team:payments"})
    figure = next(
        f for s in response.context["sections"] for f in s.figures if f.key == "completion-month"
    )
    october = next(row for row in figure.rows if row[0].value == "2026-10")
    assert [october[1].value, october[2].value] == [2, 1]

    def ids(href):
        return sorted(i.pk for i in client.get(href).context["page"].object_list)

    assert ids(october[1].href) == sorted([on_time.pk, late.pk])
    assert ids(october[2].href) == [on_time.pk]
    url = reverse("actions:dashboard-rows", args=["items-due"])
    assert ids(f"{url}?scope=team:payments&result=not-done") == [missed.pk]
    assert ids(f"{url}?scope=team:payments&result=late") == [late.pk]
    assert ids(f"{url}?scope=org&team=payments") == sorted([on_time.pk, late.pk, missed.pk])
    assert client.get(f"{url}?month=1999-01").status_code == 404
    assert client.get(f"{url}?result=maybe").status_code == 404
    assert client.get(reverse("actions:dashboard-rows", args=["nope"])).status_code == 404


def test_each_list_behind_a_figure_opens_and_counts_what_the_figure_counts(client, user):
    service = ServiceFactory(slug="api")
    first = IncidentFactory(pattern="cert", started_at=NOW - timedelta(days=200), severity=1)
    fix = PostmortemFactory(incident=first)
    _item(
        postmortem=fix,
        due=TODAY - timedelta(days=150),
        leverage="prevention",
        done_at=NOW - timedelta(days=160),
    )
    again = IncidentFactory(pattern="cert", started_at=NOW - timedelta(days=20), severity=2)
    again.services.add(service)
    pm = PostmortemFactory(
        incident=again, status="published", published_at=again.resolved_at + timedelta(days=9)
    )
    ContributingFactorFactory(postmortem=pm)
    moved = _item(
        postmortem=pm,
        due=TODAY + timedelta(days=10),
        leverage="detection",
        created=NOW - timedelta(days=15),
    )
    ActionItemEvent.objects.create(
        item=moved,
        kind="due_date",
        at=NOW - timedelta(days=5),
        from_due=TODAY,
        to_due=TODAY + timedelta(days=10),
    )
    refresh_pending()
    client.force_login(user)
    expect = {
        "repeats": (again.reference, {"why": "after-fix"}),
        "incidents": (again.reference, {"severity": "2"}),
        "published": (again.reference, {}),
        "no-prevention": (again.reference, {}),
        "items-created": (moved.title, {"leverage": "detection", "status": "open"}),
        "items-moved": (moved.title, {}),
    }
    for kind, (text, params) in expect.items():
        response = client.get(
            reverse("actions:dashboard-rows", args=[kind]), {"scope": "org", **params}
        )
        assert response.status_code == 200, kind
        assert text in response.content.decode(), kind
        assert response.context["page"].paginator.count == 1, kind
    moved_page = client.get(
        reverse("actions:dashboard-rows", args=["items-moved"]), {"scope": "org"}
    )
    assert '<td class="num mono">10</td>' in moved_page.content.decode()  # days slipped
    empty = client.get(
        reverse("actions:dashboard-rows", args=["items-due"]), {"scope": "org", "result": "late"}
    )
    assert "Nothing here." in empty.content.decode()


# Query counts ---------------------------------------------------------------------------


def _organisation(size: int):
    """`size` incidents across teams, services and owners, with postmortems, factors, items in
    every state, due-date changes: everything a figure groups by grows with `size`, and even
    the smallest has rows in every figure (an empty figure skips its queries)."""
    teams = [TeamFactory() for _ in range(max(2, size // 5))]
    services = [ServiceFactory(team=t) for t in teams]
    for n in range(size):
        team = teams[n % len(teams)]
        incident = IncidentFactory(
            team=team,
            severity=1 + n % 2,
            customer_facing=True,
            started_at=NOW - timedelta(days=10 + (n * 7) % 80),
            pattern=f"p{n % 2}",
            private=n % 7 == 6,
        )
        incident.services.add(services[n % len(services)])
        published = n % 3 != 1  # every third one is still owed
        pm = PostmortemFactory(
            incident=incident,
            status="published" if published else "draft",
            published_at=incident.resolved_at + timedelta(days=n % 9) if published else None,
        )
        ContributingFactorFactory(postmortem=pm, category=["technical", "alerting"][n % 2])
        item = _item(
            postmortem=pm,
            owner=UserFactory(),
            due=TODAY - timedelta(days=(n * 3) % 30 - 2),
            leverage=ActionItem.Leverage.values[n % 3],
            priority=n % 4,
            done_at=NOW - timedelta(days=n % 30 + 1) if n % 3 == 0 else None,
        )
        ActionItemEvent.objects.create(
            item=item,
            kind="due_date",
            at=NOW - timedelta(days=n % 30),
            from_due=TODAY,
            to_due=TODAY,
        )
    refresh_pending()  # the repeat flags, as the commit would
    rollups.refresh_pending(whole_teams=True)  # the dashboard's counts (created_at back-dated)
    figure_rollups.refresh_pending()  # the incident and postmortem figures


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def test_query_counts_do_not_grow_with_the_data(client, user):
    client.force_login(user)
    targets = [
        (DASHBOARD, {"scope": "org"}),
        (DASHBOARD, {"range": "365"}),
        (reverse("actions:dashboard-csv", args=["owners"]), {"scope": "org"}),
        (reverse("actions:dashboard-csv", args=["owed-list"]), {"scope": "org"}),
        (reverse("actions:dashboard-rows", args=["repeats"]), {"scope": "org"}),
        (reverse("actions:dashboard-rows", args=["items-due"]), {"scope": "org"}),
        (reverse("actions:dashboard-figure", args=["recurrence-month"]), {"scope": "org"}),
    ]
    _organisation(5)
    # Every figure has rows already, so no query is skipped for being empty.
    figures = client.get(DASHBOARD, {"scope": "org"}).context["sections"]
    assert all(f.rows for s in figures for f in s.figures if not f.later_url)
    small = [_queries(client, url, params) for url, params in targets]
    _organisation(45)
    large = [_queries(client, url, params) for url, params in targets]
    assert large == small
    assert small[0] <= 35  # the whole dashboard
