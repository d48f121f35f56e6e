"""Form pages: every aria-describedby names an element that exists (so help text and errors
are announced), before and after a refused submission."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from ..factories import ActionItemFactory, IncidentFactory, PostmortemFactory, TeamFactory

pytestmark = pytest.mark.django_db


class References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.described = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if attrs.get("aria-describedby"):
            self.described.extend(
                (attrs.get("name") or attrs.get("id") or tag, ref)
                for ref in attrs["aria-describedby"].split()
            )


def dangling(html: str) -> list[tuple[str, str]]:
    parser = References()
    parser.feed(html)
    return [(name, ref) for name, ref in parser.described if ref not in parser.ids]


def test_help_text_and_errors_are_where_the_controls_point(client, user):
    team = TeamFactory()
    team.members.add(user)
    incident = IncidentFactory(team=team, commander=user)
    item = ActionItemFactory(owner=user, postmortem=PostmortemFactory(incident=incident))
    client.force_login(user)
    pages = {
        "new incident": client.get(reverse("incidents:create")),
        "refused new incident": client.post(reverse("incidents:create"), {"title": ""}),
        "incident edit": client.get(reverse("incidents:edit", args=[incident.number])),
        "preferences": client.get(reverse("incidents:preferences")),
        "refused preferences": client.post(
            reverse("incidents:preferences"), {"timezone": "Mars/Olympus", "reminder_hour": 99}
        ),
        "item edit": client.get(reverse("actions:edit", args=[item.pk])),
        "editor": client.get(reverse("postmortems:edit", args=[incident.number])),
    }
    described = 0
    for name, response in pages.items():
        html = response.content.decode()
        assert dangling(html) == [], name
        described += html.count("aria-describedby")
    assert described > 5  # the check looked at real references, not empty pages
