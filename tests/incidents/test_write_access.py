"""Every write route, in one table: who is refused, how, and that nothing changed.

Each row is one URL and method with data that would succeed. The same row is tried by
- an anonymous visitor: sent to the login page;
- a signed-in person outside the team (and not a member of the private incident): 404 where
  the thing is invisible to them (a private incident, another team's webhook), 403 where they
  see it but may not change it;
- an insider (member and manager of the team, member of the private incident): not refused,
  and the database did change, which proves the data was good enough to be refused for the
  right reason.

Today whoever sees an incident may edit it and its timeline (the permissions issue widens that
into roles), so incident and timeline rows use the private incident: the outsider cannot see it.
To cover a new route, add a row to ROUTES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import (
    ActionItem,
    ActionItemEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from incidents.models import Incident, Profile, TimelineEvent
from postmortems.models import MeetingCapture, Postmortem

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    ReviewMeetingFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

WATCHED = [
    Incident,
    TimelineEvent,
    Postmortem,
    ActionItem,
    ActionItemEvent,
    WebhookEndpoint,
    WebhookDelivery,
    MeetingCapture,
    Profile,
]


def snapshot() -> dict:
    """Every row of every model a write route may touch, to compare before and after."""
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in WATCHED}


@dataclass
class World:
    insider: object
    outsider: object
    public: Incident  # the outsider sees it but is not in its team
    secret: Incident  # private: the outsider does not see it
    items: dict = field(default_factory=dict)  # "public" / "secret" -> ActionItem
    events: dict = field(default_factory=dict)  # "public" / "secret" -> TimelineEvent
    endpoint: WebhookEndpoint | None = None
    failed: WebhookDelivery | None = None
    meeting: object = None


@pytest.fixture
def world(user, other_user) -> World:
    team = TeamFactory()
    team.members.add(user)
    team.managers.add(user)
    w = World(
        insider=user,
        outsider=other_user,
        public=IncidentFactory(team=team, title="Public incident"),
        secret=IncidentFactory(team=team, title="Secret incident", private=True, members=[user]),
    )
    for key, incident in (("public", w.public), ("secret", w.secret)):
        postmortem = PostmortemFactory(incident=incident, author=UserFactory())
        w.items[key] = ActionItemFactory(postmortem=postmortem, owner=UserFactory())
        w.events[key] = TimelineEventFactory(incident=incident, text=f"{key} fact")
    w.meeting = ReviewMeetingFactory(postmortem=w.public.postmortem, facilitator=user)
    w.endpoint = WebhookEndpoint.objects.create(team=team, url="https://hooks.example.com/a")
    w.failed = WebhookDelivery.objects.create(
        endpoint=w.endpoint, event="action_item.updated", payload={}, state="failed"
    )
    return w


def _incident_form(w: World) -> dict:
    return {
        "title": "Renamed",
        "summary": "",
        "severity": "2",
        "status": "resolved",
        "team": w.secret.team_id,
        "started_at": "2026-03-26T14:02",
        "resolved_at": "2026-03-26T16:16",
        "private": "on",
        "members": [w.insider.pk],
        "loaded_version": w.secret.version,
    }


def _event_form(w: World, **extra) -> dict:
    moment = timezone.localtime(w.secret.started_at + timedelta(minutes=9))
    return {
        "occurred_at": moment.strftime("%Y-%m-%dT%H:%M"),
        "phase": "mitigation",
        "text": "Rolled back the config push",
        "source": "chat",
        "source_detail": "",
        **extra,
    }


def _item_form(w: World, **extra) -> dict:
    return {
        "title": "Add a config validation check to the deploy pipeline",
        "owner": w.insider.pk,
        "due_on": (timezone.localdate() + timedelta(days=20)).isoformat(),
        "priority": "1",
        "leverage": "prevention",
        "ticket_key": "OPS-9",
        "ticket_url": "",
        "description": "",
        **extra,
    }


@dataclass(frozen=True)
class Route:
    name: str
    method: str  # "get" or "post"
    args: Callable[[World], list]
    outsider: int | None  # 404 invisible, 403 visible but not allowed, None: anyone signed in
    data: Callable[[World], dict] = lambda w: {}

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.name}"


def _item_edit_form(w: World) -> dict:
    item = w.items["public"]
    return _item_form(w, title="Changed", owner=item.owner_id, due_on=item.due_on.isoformat())


def _secret_event(w):
    return [w.secret.number, w.events["secret"].pk]


def _public_item(w):
    return [w.items["public"].pk]


def _paste(w):
    day = timezone.localtime(w.secret.started_at).date().isoformat()
    return {"text": "00:01 alert fired", "day": day, "zone": "UTC", "confirm": "1"}


def _new_incident(w: World) -> dict:
    form = _incident_form(w)
    del form["loaded_version"]
    return {**form, "title": "Brand new", "private": "", "members": []}


ROUTES = [
    # Anyone signed in opens an incident and keeps their own preferences.
    Route("incidents:create", "get", lambda w: [], None),
    Route("incidents:create", "post", lambda w: [], None, _new_incident),
    Route("incidents:preferences", "get", lambda w: [], None),
    Route(
        "incidents:preferences",
        "post",
        lambda w: [],
        None,
        lambda w: {"timezone": "Asia/Tokyo", "reminder_hour": "7"},
    ),
    # Incidents and their timeline (private: the outsider cannot see it).
    Route("incidents:edit", "get", lambda w: [w.secret.number], 404),
    Route("incidents:edit", "post", lambda w: [w.secret.number], 404, _incident_form),
    Route("incidents:timeline-add", "post", lambda w: [w.secret.number], 404, _event_form),
    Route("incidents:timeline-edit", "get", _secret_event, 404),
    Route(
        "incidents:timeline-edit",
        "post",
        _secret_event,
        404,
        lambda w: _event_form(w, loaded_version=w.events["secret"].version),
    ),
    Route("incidents:timeline-delete", "post", _secret_event, 404),
    Route("postmortems:timeline-paste", "get", lambda w: [w.secret.number], 404),
    Route("postmortems:timeline-paste", "post", lambda w: [w.secret.number], 404, _paste),
    # Action items of the public incident: seen by the outsider, not theirs to change.
    Route("actions:create", "get", lambda w: [w.public.number], 403),
    Route("actions:create", "post", lambda w: [w.public.number], 403, _item_form),
    Route("actions:edit", "get", _public_item, 403),
    Route("actions:edit", "post", _public_item, 403, _item_edit_form),
    Route("actions:status", "post", _public_item, 403, lambda w: {"status": "in_progress"}),
    Route(
        "actions:due",
        "post",
        _public_item,
        403,
        lambda w: {
            "due_on": (w.items["public"].due_on + timedelta(days=7)).isoformat(),
            "reason": "Freeze",
        },
    ),
    Route("actions:done", "get", _public_item, 403),
    Route("actions:done", "post", _public_item, 403),
    Route(
        "actions:bulk",
        "post",
        lambda w: [],
        403,
        lambda w: {
            "action": "reassign",
            "items": [w.items["public"].pk],
            "owner": w.insider.pk,
            "reason": "Reorg",
        },
    ),
    Route("actions:postmortem-item-add", "post", lambda w: [w.public.number], 403, _item_form),
    Route(
        "actions:postmortem-item-edit",
        "post",
        lambda w: [w.public.number, w.items["public"].pk],
        403,
        _item_edit_form,
    ),
    Route(
        "actions:meeting-item",
        "post",
        lambda w: [w.public.number, w.meeting.pk],
        403,
        _item_form,
    ),
    # Action items of the private incident: invisible to the outsider.
    Route("actions:edit", "get", lambda w: [w.items["secret"].pk], 404),
    Route(
        "actions:status",
        "post",
        lambda w: [w.items["secret"].pk],
        404,
        lambda w: {"status": "done"},
    ),
    Route("actions:postmortem-item-add", "post", lambda w: [w.secret.number], 404, _item_form),
    # Webhooks: set up by the team's managers; other teams' endpoints are invisible.
    Route("actions:webhooks", "get", lambda w: [], 403),
    Route(
        "actions:webhooks",
        "post",
        lambda w: [],
        403,
        lambda w: {"team": w.endpoint.team_id, "url": "https://hooks.example.com/b"},
    ),
    Route(
        "actions:webhook-change",
        "post",
        lambda w: [w.endpoint.pk],
        404,
        lambda w: {"action": "toggle"},
    ),
    Route(
        "actions:webhook-change",
        "post",
        lambda w: [w.endpoint.pk],
        404,
        lambda w: {"action": "delete"},
    ),
    Route(
        "actions:webhook-change",
        "post",
        lambda w: [w.endpoint.pk],
        404,
        lambda w: {"action": "retry", "delivery": w.failed.pk},
    ),
]


def _call(client, route: Route, w: World):
    url = reverse(route.name, args=route.args(w))
    if route.method == "get":
        return client.get(url)
    return client.post(url, route.data(w))


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r}-{i}" for i, r in enumerate(ROUTES)])
def test_an_anonymous_visitor_is_sent_to_log_in_and_nothing_changes(client, world, route):
    before = snapshot()
    response = _call(client, route, world)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert snapshot() == before


GUARDED = [r for r in ROUTES if r.outsider is not None]


@pytest.mark.parametrize("route", GUARDED, ids=[f"{r}-{i}" for i, r in enumerate(GUARDED)])
def test_someone_outside_the_team_is_refused_and_nothing_changes(client, world, route):
    client.force_login(world.outsider)
    before = snapshot()
    assert _call(client, route, world).status_code == route.outsider
    assert snapshot() == before


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r}-{i}" for i, r in enumerate(ROUTES)])
def test_the_team_may_use_every_route(client, world, route):
    client.force_login(world.insider)
    before = snapshot()
    response = _call(client, route, world)
    assert response.status_code in (200, 302), response.content.decode()[:2000]
    if route.method == "post":
        assert snapshot() != before  # the data was valid: the refusals above were permission
