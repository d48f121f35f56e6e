"""Dashboard tables with a row per team: the page shows the first few in the table's sort and
says how many there are, the figure's own page and the CSV have every row, and the page's
queries do not grow with the teams."""

import csv
import io
from datetime import timedelta
from html import escape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from actions import figure_rollups, rollups
from actions.dashboard.figures.shapes import TABLE_LIMIT
from actions.models import ActionItemEvent

from ..factories import PostmortemFactory, TeamFactory, UserFactory
from .dashboard_view import view
from .test_dashboard import (  # noqa: F401 (fixtures)
    DASHBOARD,
    NOW,
    TODAY,
    _frozen,
    _item,
    _queries,
    _the_viewer_is_an_admin,
)

pytestmark = pytest.mark.django_db
TEAMS = TABLE_LIMIT + 5


def _teams(numbers, owner) -> None:
    """Team n carries n + 1 items, each overdue (so due in the judged period and not done on
    time) and each moved once by a day: its due, overdue and due-date change counts are all
    n + 1. Names are shuffled against n, so A to Z is another order than by count."""
    for n in numbers:
        name = f"T{(n * 7) % TEAMS:02}"
        team = TeamFactory(name=name, slug=name.lower())
        pm = PostmortemFactory(incident__team=team)
        for _ in range(n + 1):
            item = _item(postmortem=pm, owner=owner, due=TODAY - timedelta(days=4))
            ActionItemEvent.objects.create(
                item=item,
                kind="due_date",
                at=NOW - timedelta(days=1),
                from_due=TODAY - timedelta(days=5),
                to_due=TODAY - timedelta(days=4),
            )
    rollups.refresh_pending(whole_teams=True)
    figure_rollups.refresh_pending()  # the incident and postmortem figures, as at commit


@pytest.fixture
def teams(db):
    _teams(range(TEAMS), UserFactory(username="carrier"))


def _name(n: int) -> str:
    return f"T{(n * 7) % TEAMS:02}"


def _figure(response, key):
    if "sections" in response.context:
        return next(f for s in response.context["sections"] for f in s.figures if f.key == key)
    return response.context["f"]


def _shown(client, params: dict, key: str):
    """The figure as the dashboard shows it (fetched after the page where it is one of
    Dashboard.LATER), and the HTML it is in."""
    shown = view(client, params)
    return shown.figures[key], shown.text


# Each team table, and a sort by its count of n + 1 (biggest first).
TABLES = [
    ("completion-team", "-due"),
    ("overdue-team", "-overdue"),
    ("slippage-team", "-changes"),
]


@pytest.mark.usefixtures("teams")
@pytest.mark.parametrize(("key", "sort"), TABLES)
def test_a_team_table_shows_its_first_rows_says_how_many_and_links_to_every_row(
    client, user, key, sort
):
    client.force_login(user)
    figure, page = _shown(client, {"scope": "org", f"{key}_sort": sort}, key)
    # The biggest counts of all the teams, not of the first teams read.
    assert [row[0].value for row in figure.rows] == [_name(n) for n in range(TEAMS - 1, 4, -1)]
    assert [row[1].value for row in figure.rows] == list(range(TEAMS, 5, -1))
    assert len(figure.rows) == TABLE_LIMIT and figure.total_rows == TEAMS
    assert f"Showing {TABLE_LIMIT} of {TEAMS} teams." in page
    assert f'<a href="{escape(figure.all_url)}">See all {TEAMS}' in page
    assert page.count(f'href="{escape(figure.all_url)}"') == 2  # and beside the CSV link
    assert figure.more == (f"All {TEAMS} teams", figure.all_url)
    link = urlsplit(figure.all_url)
    assert link.path == reverse("actions:dashboard-figure", args=[key])
    assert parse_qs(link.query) == {"range": ["90"], "scope": ["org"], f"{key}_sort": [sort]}

    # The figure's own page has every row, in the same order, and no "Showing" note.
    alone = client.get(figure.all_url)
    assert "<html" in alone.content.decode()
    whole = _figure(alone, key)
    assert [row[0].value for row in whole.rows] == [_name(n) for n in range(TEAMS - 1, -1, -1)]
    assert whole.hidden_count == 0 and whole.all_url == "" and whole.table_open
    assert "Showing" not in alone.content.decode()
    assert all(_name(n) in alone.content.decode() for n in range(TEAMS))
    # Drawn into the dashboard (htmx), the figure is as short as on the dashboard.
    fragment = client.get(figure.all_url, headers={"HX-Request": "true"})
    assert len(_figure(fragment, key).rows) == TABLE_LIMIT

    # The CSV has every team.
    export = client.get(reverse("actions:dashboard-csv", args=[key]), {"scope": "org"})
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert sorted(r[0] for r in rows[1:]) == sorted(_name(n) for n in range(TEAMS))


@pytest.mark.usefixtures("teams")
def test_the_shown_rows_are_the_first_of_the_whole_table_in_its_sort(client, user):
    client.force_login(user)

    def shown(**params):
        response = client.get(DASHBOARD, {"scope": "org", **params})
        figure = _figure(response, "overdue-team")
        return figure, [row[0].value for row in figure.rows]

    figure, default = shown()  # most overdue first: the worst teams
    assert default == [_name(n) for n in range(TEAMS - 1, 4, -1)]
    assert figure.sort == "-overdue"
    head = next(h for h in figure.headers if h["label"] == "Overdue")
    assert head["aria"] == "descending" and "overdue-team_sort=overdue" in head["href"]
    # A to Z over every team: names of teams the default order leaves out come first.
    everyone = sorted(_name(n) for n in range(TEAMS))
    assert shown(**{"overdue-team_sort": "team"})[1] == everyone[:TABLE_LIMIT]
    assert everyone[0] not in default
    # Fewest first: the teams the default order leaves out.
    figure, names = shown(**{"overdue-team_sort": "overdue"})
    assert [row[1].value for row in figure.rows] == list(range(1, TABLE_LIMIT + 1))
    # An unknown column falls back to the table's own sort.
    assert shown(**{"overdue-team_sort": "nonsense"})[1] == default


def test_rows_without_a_value_sort_last_either_way(client, user):
    """Completion by team: a team with items due only in the previous period has no rate in
    this one; it is last whether the rate is sorted up or down."""
    owner = UserFactory()
    _teams(range(3), owner)
    before = TeamFactory(name="Before", slug="before")
    _item(
        postmortem=PostmortemFactory(incident__team=before),
        owner=owner,
        due=TODAY - timedelta(days=100),
        created=NOW - timedelta(days=120),
    )
    rollups.refresh_pending(whole_teams=True)
    figure_rollups.refresh_pending()  # the incident and postmortem figures, as at commit
    client.force_login(user)
    for sort in ("rate", "-rate"):
        response = client.get(DASHBOARD, {"scope": "org", "completion-team_sort": sort})
        names = [row[0].value for row in _figure(response, "completion-team").rows]
        assert len(names) == 4 and names[-1] == "Before", sort


def test_the_dashboard_queries_do_not_grow_with_the_teams(client, user):
    owner = UserFactory()
    client.force_login(user)
    figure = reverse("actions:dashboard-figure", args=["completion-team"])
    targets = [
        (DASHBOARD, {"scope": "org"}),
        (DASHBOARD, {"scope": "org", "overdue-team_sort": "team"}),
        (figure, {"scope": "org"}),
        (reverse("actions:dashboard-csv", args=["slippage-team"]), {"scope": "org"}),
    ]
    _teams(range(2), owner)
    few = [_queries(client, url, params) for url, params in targets]
    _teams(range(2, TEAMS), owner)
    response = client.get(DASHBOARD, {"scope": "org"})
    assert _figure(response, "overdue-team").total_rows == TEAMS  # more than it shows
    many = [_queries(client, url, params) for url, params in targets]
    assert many == few
