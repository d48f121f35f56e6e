"""A private incident and everything under it is visible only to its members and admins."""

import pytest
from django.urls import reverse

from actions.models import ActionItem
from incidents.models import Incident, TimelineEvent
from postmortems.models import Postmortem

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    TimelineEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret(user):
    incident = IncidentFactory(
        title="Leaked credentials rotated", private=True, members=[user], commander=user
    )
    postmortem = PostmortemFactory(incident=incident)
    TimelineEventFactory(incident=incident)
    ContributingFactorFactory(postmortem=postmortem)
    item = ActionItemFactory(postmortem=postmortem, owner=user, title="Rotate the signing key")
    return incident, item


def _urls(incident, item):
    event = incident.timeline.get()
    return [
        incident.get_absolute_url(),
        reverse("incidents:edit", args=[incident.number]),
        reverse("incidents:timeline-edit", args=[incident.number, event.pk]),
        reverse("postmortems:detail", args=[incident.number]),
        item.get_absolute_url(),
    ]


def test_a_non_member_gets_404_on_every_url(client, other_user, secret):
    incident, item = secret
    client.force_login(other_user)
    for url in _urls(incident, item):
        assert client.get(url).status_code == 404, url
    event = incident.timeline.get()
    writes = [
        (reverse("incidents:edit", args=[incident.number]), {"title": "x"}),
        (reverse("incidents:timeline-add", args=[incident.number]), {"text": "x"}),
        (reverse("incidents:timeline-edit", args=[incident.number, event.pk]), {"text": "x"}),
        (reverse("incidents:timeline-delete", args=[incident.number, event.pk]), {}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 404, url
    assert TimelineEvent.objects.filter(pk=event.pk).exists()


def test_members_and_admins_can_open_every_url(client, user, admin_user, secret):
    incident, item = secret
    for viewer in (user, admin_user):
        client.force_login(viewer)
        for url in _urls(incident, item):
            assert client.get(url).status_code == 200, (viewer, url)


def test_a_non_member_never_sees_it_in_any_list_or_search(client, other_user, secret):
    incident, item = secret
    client.force_login(other_user)
    pages = [
        reverse("incidents:list"),
        reverse("incidents:list") + "?q=Leaked",
        reverse("incidents:list") + f"?q={incident.reference}",
        reverse("incidents:list") + "?postmortem=has",
        reverse("postmortems:list"),
        reverse("actions:list"),
        reverse("actions:list") + "?q=signing",
        reverse("actions:list") + f"?owner={item.owner.username}",
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert "Leaked credentials" not in body, url
        assert "Rotate the signing key" not in body, url


def test_visible_to_is_the_one_rule_for_every_model(user, other_user, admin_user, secret):
    incident, item = secret
    public = IncidentFactory()
    assert set(Incident.objects.visible_to(other_user)) == {public}
    assert set(Incident.objects.visible_to(user)) == {incident, public}
    assert set(Incident.objects.visible_to(admin_user)) == {incident, public}
    assert not TimelineEvent.objects.visible_to(other_user).filter(incident=incident).exists()
    assert not Postmortem.objects.visible_to(other_user).exists()
    assert not ActionItem.objects.visible_to(other_user).exists()
    assert ActionItem.objects.visible_to(user).get() == item


def test_the_nav_overdue_count_ignores_hidden_items(client, other_user):
    hidden = IncidentFactory(private=True, members=[UserFactory()])
    ActionItemFactory(postmortem=PostmortemFactory(incident=hidden), owner=other_user, overdue=True)
    ActionItemFactory(owner=other_user, overdue=True)
    client.force_login(other_user)
    response = client.get(reverse("actions:mine"))
    assert 'title="1 overdue"' in response.content.decode()
