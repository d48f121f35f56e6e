from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import ActionItem

from ..factories import ActionItemFactory, IncidentFactory, PostmortemFactory, on_team

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _data(owner, **overrides):
    data = {
        "title": "Add a config validation check to the deploy pipeline",
        "owner": owner.pk,
        "due_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "priority": 1,
        "leverage": "prevention",
        "ticket_key": "OPS-142",
        "ticket_url": "",
        "description": "",
    }
    return {**data, **overrides}


def test_adding_an_action_item_inline(client, user):
    pm = PostmortemFactory()
    pm.incident.team.members.add(user)
    client.force_login(user)
    response = client.post(
        reverse("actions:postmortem-item-add", args=[pm.incident.number]), _data(user), headers=HTMX
    )
    assert response.status_code == 200
    item = pm.action_items.get()
    assert (item.owner, item.created_by, item.ticket_key) == (user, user, "OPS-142")
    assert "Add a config validation check" in response.content.decode()


def test_someone_outside_the_team_cannot_add_an_item_inline(client, user):
    """The editor refuses what /actions/new/ refuses: the same service asks the same rule."""
    pm = PostmortemFactory()
    client.force_login(user)
    for url in (
        reverse("actions:postmortem-item-add", args=[pm.incident.number]),
        reverse("actions:create", args=[pm.incident.number]),
    ):
        assert client.post(url, _data(user), headers=HTMX).status_code == 403, url
    assert not ActionItem.objects.exists()


def test_a_vague_item_without_ticket_gets_hints_beside_it(client, user):
    pm = PostmortemFactory(author=user)
    client.force_login(user)
    response = client.post(
        reverse("actions:postmortem-item-add", args=[pm.incident.number]),
        _data(user, title="Improve monitoring", ticket_key="", leverage="detection"),
        headers=HTMX,
    )
    body = response.content.decode()
    assert "cannot be finished" in body  # vague verb, no deliverable
    assert "Link a ticket" in body
    assert "No item prevents this class of incident" in body


def test_more_than_five_items_is_pointed_out(client, user):
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    ActionItemFactory.create_batch(6, postmortem=pm)
    client.force_login(user)
    body = client.get(reverse("postmortems:edit", args=[pm.incident.number])).content.decode()
    assert "6 action items: fewer is better" in body


def test_an_item_without_owner_is_refused_with_a_message(client, user):
    pm = PostmortemFactory(author=user)
    client.force_login(user)
    response = client.post(
        reverse("actions:postmortem-item-add", args=[pm.incident.number]),
        {**_data(user), "owner": "", "due_on": ""},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "This field is required" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_editing_an_item_inline_and_moving_its_date_needs_a_reason(client, user):
    item = ActionItemFactory(title="Old title")
    item.postmortem.incident.team.members.add(user)
    number = item.postmortem.incident.number
    url = reverse("actions:postmortem-item-edit", args=[number, item.pk])
    client.force_login(user)
    assert "Save item" in client.get(url, headers=HTMX).content.decode()
    later = (item.due_on + timedelta(days=7)).isoformat()
    response = client.post(
        url, _data(item.owner, title="New title", due_on=later, reason=""), headers=HTMX
    )
    assert response.status_code == 422
    item.refresh_from_db()
    assert item.title == "Old title"
    response = client.post(
        url,
        _data(item.owner, title="New title", due_on=later, reason="Waiting on vendor"),
        headers=HTMX,
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.title == "New title" and item.due_on.isoformat() == later


def test_non_members_cannot_add_or_edit_items_of_a_private_postmortem(client, user, other_user):
    pm = PostmortemFactory(incident=IncidentFactory(private=True, members=[other_user]))
    item = ActionItemFactory(postmortem=pm, title="secret item")
    client.force_login(user)
    add = reverse("actions:postmortem-item-add", args=[pm.incident.number])
    assert client.post(add, _data(user)).status_code == 404
    edit = reverse("actions:postmortem-item-edit", args=[pm.incident.number, item.pk])
    assert client.get(edit).status_code == 404
    assert client.post(edit, _data(user, title="changed")).status_code == 404
    item.refresh_from_db()
    assert item.title == "secret item" and pm.action_items.count() == 1


def test_someone_outside_the_team_cannot_edit_an_item_inline(client, user):
    """The editor refuses what /actions/<pk>/edit/ refuses, and nothing changes."""
    item = ActionItemFactory(title="Old title")
    later = (item.due_on + timedelta(days=7)).isoformat()
    data = _data(item.owner, title="New title", due_on=later, reason="Waiting on vendor")
    client.force_login(user)
    for url in (
        reverse("actions:postmortem-item-edit", args=[item.postmortem.incident.number, item.pk]),
        reverse("actions:edit", args=[item.pk]),
    ):
        assert client.post(url, data, headers=HTMX).status_code == 403, url
    item.refresh_from_db()
    assert item.title == "Old title" and item.due_on.isoformat() != later
    assert not item.events.exists()
