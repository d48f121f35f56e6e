"""Layout checks on the main pages at the two common laptop sizes: no control or card spills
out of its container, no siblings overlap, no single-line control is stretched tall, and no
page is wider than the window (tests/browser/layout.py measures bounding boxes)."""

import pytest

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    TimelineEventFactory,
)
from .conftest import log_in
from .layout import SIZES, layout_problems

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(("width", "height"), SIZES, ids=lambda v: str(v))
def test_main_pages_keep_their_layout(new_context, user, width, height):
    team = TeamFactory(name="Checkout")
    team.members.add(user)
    incident = IncidentFactory(team=team, commander=user, title="Checkout 502s")
    TimelineEventFactory(incident=incident, text="Alert fired on 5xx rate")
    pm = PostmortemFactory(incident=incident, author=user)
    item = ActionItemFactory(postmortem=pm, owner=user, title="Add a canary step")
    number = incident.number
    page = new_context(viewport={"width": width, "height": height}).new_page()
    log_in(page, user.username)
    found = {}
    for url in (
        "/incidents/",
        "/incidents/new/",
        incident.get_absolute_url(),
        f"/incidents/{number}/edit/",
        "/incidents/preferences/",
        "/postmortems/",
        pm.get_absolute_url(),
        f"/postmortems/{number}/edit/",
        f"/postmortems/{number}/meetings/new/",
        "/actions/",
        "/actions/mine/",
        item.get_absolute_url(),
        "/actions/dashboard/",
        "/actions/digests/",
        "/actions/calendar/",
    ):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        problems = layout_problems(page)
        if problems:
            found[url] = problems
    assert not found, "\n".join(f"{url}: {'; '.join(p)}" for url, p in found.items())
