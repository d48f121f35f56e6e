"""Who sees which rows on the action item lists, and what their counts say.

The lists read their rows through `visible_to` and count them through `listed_for` (a per-row
check against the private incidents the viewer may not read); the team list looks its rows
up by the teams' postmortems. These tests hold every list to the read rule written out by
hand, so a count or a page that lets a private incident's item through fails here.
"""

import pytest
from django.urls import reverse

from actions.models import ActionItem
from incidents import paging

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    """Two teams, each with a public and a private incident, two items on each incident (one
    overdue), and one person in each role toward team "ours"."""
    ours, theirs = TeamFactory(slug="ours"), TeamFactory(slug="theirs")
    people = {
        "manager": UserFactory(),
        "colleague": UserFactory(),
        "insider": UserFactory(),  # a member of our private incident only
        "outsider": UserFactory(),
        "admin": UserFactory(is_superuser=True),
    }
    ours.managers.add(people["manager"])
    ours.members.add(people["colleague"])
    incidents = {
        "ours public": IncidentFactory(team=ours),
        "ours private": IncidentFactory(team=ours, private=True, members=[people["insider"]]),
        "theirs public": IncidentFactory(team=theirs),
        "theirs private": IncidentFactory(team=theirs, private=True),
    }
    items = {}
    for name, incident in incidents.items():
        postmortem = PostmortemFactory(incident=incident)
        items[name] = [
            ActionItemFactory(postmortem=postmortem, title=f"{name} soon"),
            ActionItemFactory(postmortem=postmortem, title=f"{name} late", overdue=True),
        ]
    return people, items


# What each person may read (docs/permissions.md, organisation read mode).
READS = {
    "manager": {"ours public", "ours private", "theirs public"},
    "colleague": {"ours public", "theirs public"},
    "insider": {"ours public", "ours private", "theirs public"},
    "outsider": {"ours public", "theirs public"},
    "admin": {"ours public", "ours private", "theirs public", "theirs private"},
}

# (list, query, which incidents' items it shows to someone who reads them all, overdue only?)
LISTS = [
    ("actions:list", {}, None, False),
    ("actions:list", {"overdue": "on"}, None, True),
    ("actions:list", {"team": "ours"}, {"ours public", "ours private"}, False),
    ("actions:list", {"status": "open", "sort": "title"}, None, False),
    ("actions:mine", {}, None, False),
    ("actions:team", {}, {"ours public", "ours private"}, False),
    ("actions:team", {"overdue": "on"}, {"ours public", "ours private"}, True),
]


def _expected(items, readable, scope, overdue_only) -> set[int]:
    names = readable & scope if scope is not None else readable
    return {
        item.pk
        for name in names
        for item in items[name]
        if not overdue_only or item.title.endswith("late")
    }


@pytest.mark.parametrize("person", list(READS))
def test_every_list_shows_and_counts_exactly_what_the_viewer_may_read(client, org, person):
    people, items = org
    viewer = people[person]
    ActionItem.objects.update(owner=viewer)  # so "mine" holds every item too
    client.force_login(viewer)
    for name, query, scope, overdue_only in LISTS:
        if name == "actions:team" and person in ("insider", "outsider", "admin"):
            scope = set()  # not on the team: the team list is empty for them
        expected = _expected(items, READS[person], scope, overdue_only)
        response = client.get(reverse(name), query)
        page = response.context["page"]
        shown = {item.pk for item in page.object_list}
        assert shown == expected, (person, name, query)
        assert (page.count, page.more) == (len(expected), False), (person, name, query)
        html = response.content.decode()
        for hidden in {"ours private", "theirs private"} - READS[person]:
            assert hidden not in html, (person, name, query)


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("actions:list", {}),
        ("actions:list", {"overdue": "on"}),
        ("actions:mine", {}),
        ("actions:team", {}),
    ],
)
def test_a_capped_count_does_not_count_private_items_the_viewer_may_not_read(
    client, monkeypatch, name, query
):
    # Two readable items and a limit of two: had the hidden ones been counted, the list
    # would say "2+" and offer a page that does not exist.
    monkeypatch.setattr(paging, "COUNT_LIMIT", 2)
    team = TeamFactory()
    viewer = UserFactory()
    team.members.add(viewer)
    for _ in range(2):
        ActionItemFactory(postmortem__incident__team=team, owner=viewer, overdue=True)
    secret = PostmortemFactory(incident__team=team, incident__private=True)
    ActionItemFactory.create_batch(4, postmortem=secret, owner=viewer, overdue=True)
    client.force_login(viewer)
    page = client.get(reverse(name), query).context["page"]
    assert (page.count, page.more, page.total_text) == (2, False, "2")
    assert len(page.object_list) == 2 and not page.has_next()

    # One more readable item: now the list is longer than it counts.
    ActionItemFactory(postmortem__incident__team=team, owner=viewer, overdue=True)
    page = client.get(reverse(name), query).context["page"]
    assert (page.count, page.more, page.total_text) == (2, True, "2+")


@pytest.mark.parametrize("read_access", ["organisation", "team"])
def test_listed_for_matches_visible_to_under_the_lists_filters(org, settings, read_access):
    settings.DEBRIEF_READ_ACCESS = read_access
    people, items = org
    ours = items["ours public"][0].postmortem.incident.team_id
    for viewer in people.values():
        for narrow in (
            lambda qs: qs,
            lambda qs: qs.overdue(),
            lambda qs: qs.of_teams([ours]),
            lambda qs: qs.open().of_teams([ours]).order_by(),
        ):
            visible = set(narrow(ActionItem.objects.visible_to(viewer)).values_list("pk"))
            listed = set(narrow(ActionItem.objects.listed_for(viewer)).values_list("pk"))
            assert listed == visible, (viewer, read_access)


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("actions:list", {}),
        ("actions:list", {"overdue": "on"}),
        ("actions:mine", {}),
        ("actions:team", {}),
    ],
)
def test_hidden_private_items_cost_no_queries(client, django_assert_max_num_queries, name, query):
    """The outsider's lists read as many queries whether 3 or 30 private items are hidden."""
    team = TeamFactory()
    viewer = UserFactory()
    team.members.add(viewer)
    ActionItemFactory.create_batch(3, postmortem__incident__team=team, owner=viewer, overdue=True)
    counts = []
    for hidden in (3, 30):
        secret = PostmortemFactory(incident__team=team, incident__private=True)
        ActionItemFactory.create_batch(
            hidden - 3 * len(counts), postmortem=secret, owner=viewer, overdue=True
        )
        client.force_login(viewer)
        client.get(reverse(name), query)
        with django_assert_max_num_queries(10) as captured:
            page = client.get(reverse(name), query).context["page"]
        assert page.count == 3
        counts.append(len(captured))
    assert counts[0] == counts[1]
