"""Long lists: a capped count ("of 1,000+") and keyset links past it, with the old page links
still working (incidents.paging.paginate_list)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import paging

from ..factories import ActionItemFactory, IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(settings, monkeypatch):
    settings.PAGE_SIZE = 2
    monkeypatch.setattr(paging, "COUNT_LIMIT", 4)


def _refs(response) -> list[str]:
    return [i.reference for i in response.context["page"].object_list]


def _next(response) -> str:
    return response.context["page"].next_url


def _walk(client, url, params=None) -> tuple[list[str], list[str]]:
    """Every row reached by following Next from the first page, and the links followed."""
    response = client.get(url, params or {})
    seen, links = _refs(response), []
    while _next(response):
        links.append(_next(response))
        response = client.get(url + _next(response))
        seen += _refs(response)
    return seen, links


def test_a_long_list_is_counted_only_up_to_the_limit(client, user, small_pages):
    IncidentFactory.create_batch(7)
    client.force_login(user)
    response = client.get(reverse("incidents:list"))
    page = response.context["page"]
    assert page.more and page.num_pages is None
    body = response.content.decode()
    assert "1–2 of 4+" in body
    assert "Page 1<" in body  # no "of N": the pages were not counted


def test_a_short_list_is_counted_exactly(client, user, small_pages):
    IncidentFactory.create_batch(3)
    client.force_login(user)
    body = client.get(reverse("incidents:list")).content.decode()
    assert "1–2 of 3" in body and "Page 1 of 2" in body


def test_next_links_visit_every_row_once_in_order_past_the_count(client, user, small_pages):
    now = timezone.now()
    made = [IncidentFactory(started_at=now - timedelta(hours=n)) for n in range(9)]
    client.force_login(user)
    seen, links = _walk(client, reverse("incidents:list"))
    assert seen == [i.reference for i in made]
    # Within the counted rows the links are page numbers; past them, cursors.
    assert links[0] == "?page=2"
    assert all(re.fullmatch(r"\?page=\d&after=[\w-]+", link) for link in links[1:]), links


def test_a_keyset_walk_keeps_the_sort_and_the_filters(client, user, small_pages):
    titles = [f"Outage {c}" for c in "ABCDEFGHIJ"]
    for title in reversed(titles):
        IncidentFactory(title=title, severity=2)
    IncidentFactory(title="Outage Z", severity=3)
    client.force_login(user)
    seen, links = _walk(client, reverse("incidents:list"), {"sort": "title", "severity": "2"})
    assert len(seen) == len(titles)
    assert all("severity=2" in link and "sort=title" in link for link in links)
    response = client.get(reverse("incidents:list") + links[-1])
    assert [i.title for i in response.context["page"].object_list] == titles[-2:]


def test_previous_from_a_keyset_page_shows_the_page_before(client, user, small_pages):
    now = timezone.now()
    made = [IncidentFactory(started_at=now - timedelta(hours=n)) for n in range(10)]
    client.force_login(user)
    _, links = _walk(client, reverse("incidents:list"))
    deepest = client.get(reverse("incidents:list") + links[-1])  # page 5: rows 8 and 9
    assert deepest.context["page"].number == 5
    back = deepest.context["page"].previous_url
    assert "before=" in back
    response = client.get(reverse("incidents:list") + back)
    assert _refs(response) == [i.reference for i in made[6:8]]
    assert response.context["page"].number == 4
    assert "after=" in _next(response)


def test_an_old_deep_page_link_still_works(client, user, small_pages):
    now = timezone.now()
    made = [IncidentFactory(started_at=now - timedelta(hours=n)) for n in range(9)]
    client.force_login(user)
    response = client.get(reverse("incidents:list"), {"page": 4})
    assert _refs(response) == [i.reference for i in made[6:8]]
    # Past the end of an uncounted list: counted once, and its last page shown.
    response = client.get(reverse("incidents:list"), {"page": 40})
    assert response.context["page"].number == 5
    assert _refs(response) == [made[8].reference]


def test_a_garbled_cursor_gives_a_page_not_an_error(client, user, small_pages):
    IncidentFactory.create_batch(7)
    client.force_login(user)
    for token in ["%%%", "bm90IGpzb24", "WyJ4Il0", "W251bGwsIG51bGxd"]:
        response = client.get(reverse("incidents:list"), {"page": 3, "after": token})
        assert response.status_code == 200, token
        assert len(response.context["page"].object_list) == 2


def test_private_incidents_stay_out_of_counts_and_cursor_pages(client, small_pages):
    outsider = UserFactory()
    member = UserFactory()
    now = timezone.now()
    for n in range(10):
        incident = IncidentFactory(started_at=now - timedelta(hours=n), private=n % 2 == 0)
        if incident.private:
            incident.members.add(member)
    client.force_login(outsider)
    seen, _ = _walk(client, reverse("incidents:list"))
    assert len(seen) == 5
    body = client.get(reverse("incidents:list")).content.decode()
    assert "1–2 of 4+" in body  # five public: still more than the limit
    client.force_login(member)
    assert len(_walk(client, reverse("incidents:list"))[0]) == 10


def test_action_item_lists_walk_past_the_count(client, user, small_pages):
    today = timezone.localdate()
    items = [ActionItemFactory(due_on=today + timedelta(days=n)) for n in range(9)]
    client.force_login(user)
    seen, links = [], []
    response = client.get(reverse("actions:list"))
    seen += [i.pk for i in response.context["page"].object_list]
    while _next(response):
        links.append(_next(response))
        response = client.get(reverse("actions:list") + _next(response))
        seen += [i.pk for i in response.context["page"].object_list]
    assert seen == [i.pk for i in items]
    assert "after=" in links[-1]


@pytest.mark.parametrize("read_access", ["organisation", "team"])
def test_listed_for_gives_exactly_the_rows_visible_to_gives(settings, read_access):
    from actions.models import ActionItem
    from postmortems.models import Postmortem

    from ..factories import PostmortemFactory, TeamFactory

    settings.DEBRIEF_READ_ACCESS = read_access
    team, other = TeamFactory(), TeamFactory()
    member, manager, outsider, colleague = UserFactory.create_batch(4)
    admin = UserFactory(is_superuser=True)
    team.managers.add(manager)
    team.members.add(colleague)
    secret = IncidentFactory(team=team, private=True)
    secret.members.add(member)
    IncidentFactory(team=other, private=True)
    IncidentFactory(team=other)
    IncidentFactory(team=team)
    for incident in [secret, *IncidentFactory._meta.model.objects.exclude(pk=secret.pk)]:
        ActionItemFactory(postmortem=PostmortemFactory(incident=incident))
    for viewer in [member, manager, outsider, colleague, admin]:
        for model in (ActionItem, Postmortem):
            visible = set(model.objects.visible_to(viewer).values_list("pk", flat=True))
            listed = set(model.objects.listed_for(viewer).values_list("pk", flat=True))
            assert listed == visible, (model.__name__, viewer, read_access)
    # The private incident's item is out of the outsider's count and in the member's.
    assert ActionItem.objects.listed_for(outsider).count() == (2 if read_access != "team" else 0)
    assert ActionItem.objects.listed_for(member).filter(postmortem__incident=secret).exists()


def test_hidden_incidents_are_the_private_ones_the_viewer_may_not_read(settings):
    from incidents.models import Incident, hidden_incidents

    from ..factories import TeamFactory

    settings.DEBRIEF_READ_ACCESS = "organisation"
    team, other = TeamFactory(), TeamFactory()
    member, manager, outsider, both = UserFactory.create_batch(4)
    team.managers.add(manager, both)
    mine = IncidentFactory(team=team, private=True)
    mine.members.add(member, both)
    theirs = IncidentFactory(team=other, private=True)
    theirs.members.add(both)  # a manager elsewhere, a member here
    unread = IncidentFactory(team=other, private=True)
    IncidentFactory(team=team)
    for viewer, hidden in [
        (member, {theirs, unread}),
        (manager, {theirs, unread}),
        (outsider, {mine, theirs, unread}),
        (both, {unread}),
    ]:
        got = set(hidden_incidents(viewer).values_list("pk", flat=True))
        assert got == {i.pk for i in hidden}, viewer
        readable = Incident.objects.visible_to(viewer).values_list("pk", flat=True)
        assert got == set(
            Incident.objects.filter(private=True)
            .exclude(pk__in=readable)
            .values_list("pk", flat=True)
        )
