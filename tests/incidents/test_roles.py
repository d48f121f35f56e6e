"""The findings of issue 9 about roles, privacy and item owners: each failed on the old policy
(whoever could see an incident could change it, its privacy and its members)."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from actions import services as item_services
from actions.models import ActionItem
from incidents import permissions
from incidents import services as incident_services
from incidents.models import Incident, Profile, TimelineEvent
from postmortems import services as pm_services
from postmortems.models import ContributingFactor

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    """A Checkout incident with its postmortem; people in each role."""
    people = {
        name: UserFactory(username=name)
        for name in ("member", "manager", "commander", "author", "outsider", "viewer")
    }
    team = TeamFactory(name="Checkout", slug="checkout")
    team.members.add(people["member"])
    team.managers.add(people["manager"])
    Profile.objects.update_or_create(user=people["viewer"], defaults={"read_only": True})
    team.members.add(people["viewer"])  # in the team, and still read-only
    incident = IncidentFactory(team=team, commander=people["commander"])
    pm = PostmortemFactory(incident=incident, author=people["author"])
    pm_services.save_section(
        postmortem=pm, section="summary", text="Ours", base=0, by=people["author"]
    )
    return {
        **people,
        "team": team,
        "incident": incident,
        "pm": pm,
        "factor": ContributingFactorFactory(postmortem=pm),
        "event": TimelineEventFactory(incident=incident),
        "item": ActionItemFactory(postmortem=pm, owner=people["member"]),
    }


def _fresh(user):
    return type(user).objects.get(pk=user.pk)  # a new request: no cached facts


# --- Outsiders (and read-only viewers) change nothing ------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "viewer"])
def test_an_outsider_or_viewer_cannot_overwrite_sections_or_restore_revisions(org, who):
    with pytest.raises(PermissionDenied):
        pm_services.save_section(
            postmortem=org["pm"], section="summary", text="Theirs", base=1, by=_fresh(org[who])
        )
    with pytest.raises(PermissionDenied):
        pm_services.restore_revision(
            revision=org["pm"].revisions.order_by("-number").first(), by=_fresh(org[who])
        )
    org["pm"].refresh_from_db()
    # Unchanged: still the author's text, and no revision beyond the one it made.
    assert org["pm"].summary == "Ours" and org["pm"].revisions.filter(number__gt=1).count() == 0


@pytest.mark.parametrize("who", ["outsider", "viewer"])
def test_an_outsider_or_viewer_cannot_delete_factors_or_timeline_events(org, who):
    with pytest.raises(PermissionDenied):
        pm_services.delete_factor(factor=org["factor"], by=_fresh(org[who]))
    with pytest.raises(PermissionDenied):
        incident_services.delete_timeline_event(event=org["event"], by=_fresh(org[who]))
    assert ContributingFactor.objects.filter(pk=org["factor"].pk).exists()
    assert TimelineEvent.objects.filter(pk=org["event"].pk).exists()


def test_an_outsider_cannot_reassign_an_item_to_themselves_through_the_editor(client, org):
    item, outsider = org["item"], org["outsider"]
    client.force_login(outsider)
    url = reverse("actions:postmortem-item-edit", args=[org["incident"].number, item.pk])
    data = {
        "title": item.title,
        "owner": outsider.pk,
        "due_on": item.due_on.isoformat(),
        "priority": item.priority,
        "leverage": item.leverage,
        "reason": "mine now",
    }
    assert client.post(url, data).status_code == 403
    item.refresh_from_db()
    assert item.owner == org["member"]


def test_each_editor_role_edits_and_the_others_read(org):
    pm = org["pm"]
    for name in ("member", "manager", "commander", "author"):
        assert permissions.can(_fresh(org[name]), "edit", pm), name
    for name in ("outsider", "viewer"):
        assert permissions.can(_fresh(org[name]), "view", pm), name
        assert not permissions.can(_fresh(org[name]), "edit", pm), name


def test_a_co_author_edits_too(org):
    outsider = org["outsider"]
    org["pm"].co_authors.add(outsider)
    assert permissions.can(_fresh(outsider), "edit", org["pm"])


def test_a_read_only_viewer_opens_nothing_and_keeps_their_preferences(org):
    viewer = _fresh(org["viewer"])
    assert not permissions.can(viewer, "open_incident")
    assert not permissions.can(viewer, "change_action_item", org["item"])
    incident_services.save_preferences(user=viewer, by=viewer, timezone="Europe/Paris")


# --- Privacy and members -------------------------------------------------------------------


def test_a_team_member_cannot_make_an_incident_private_to_themselves(org):
    incident, member = org["incident"], org["member"]
    with pytest.raises(PermissionDenied, match="change who may see"):
        incident_services.update_incident(
            incident=incident, by=member, version=1, private=True, members=[member]
        )
    incident.refresh_from_db()
    assert not incident.private


def test_a_member_of_a_private_incident_cannot_make_it_public(org):
    member = org["member"]
    secret = IncidentFactory(team=org["team"], private=True, members=[member, org["commander"]])
    with pytest.raises(PermissionDenied):
        incident_services.update_incident(incident=secret, by=member, version=1, private=False)
    with pytest.raises(PermissionDenied):
        incident_services.update_incident(
            incident=secret, by=member, version=1, members=[member, org["outsider"]]
        )
    secret.refresh_from_db()
    assert secret.private and set(secret.members.all()) == {member, org["commander"]}
    # Their other edits still go through.
    incident_services.update_incident(incident=secret, by=member, version=1, title="Renamed")


def test_the_commander_makes_it_private_and_the_team_managers_keep_seeing_it(org, client):
    incident, commander = org["incident"], org["commander"]
    incident_services.update_incident(
        incident=incident, by=commander, version=1, private=True, members=[commander]
    )
    manager = _fresh(org["manager"])
    assert Incident.objects.visible_to(manager).filter(pk=incident.pk).exists()
    assert incident.is_visible_to(manager)
    client.force_login(manager)
    assert client.get(incident.get_absolute_url()).status_code == 200
    # ...and may open it up again.
    incident_services.update_incident(incident=incident, by=manager, version=2, private=False)


def test_the_edit_form_shows_privacy_but_lets_only_who_may_change_it(client, org):
    url = reverse("incidents:edit", args=[org["incident"].number])
    client.force_login(org["member"])
    form = client.get(url).context["form"]
    assert form.fields["private"].disabled and form.fields["members"].disabled
    client.force_login(org["commander"])
    form = client.get(url).context["form"]
    assert not form.fields["private"].disabled


def test_pages_offer_only_what_the_person_may_do(client, org):
    edit = reverse("incidents:edit", args=[org["incident"].number])
    client.force_login(org["outsider"])
    assert edit not in client.get(org["incident"].get_absolute_url()).content.decode()
    client.force_login(org["member"])
    assert edit in client.get(org["incident"].get_absolute_url()).content.decode()


# --- Item owners see their items' incident ----------------------------------------------------


def _item_fields(owner):
    return {
        "title": "Alert on certificate age",
        "owner": owner,
        "due_on": timezone.localdate() + timedelta(days=14),
        "priority": 1,
        "leverage": "detection",
    }


def test_an_owner_who_cannot_see_a_private_incident_is_refused_with_a_clear_message(org):
    commander, outsider = org["commander"], org["outsider"]
    secret = IncidentFactory(
        team=org["team"], private=True, members=[commander], commander=commander
    )
    pm = PostmortemFactory(incident=secret, author=commander)
    with pytest.raises(ValidationError, match="cannot see INC-"):
        item_services.create_action_item(postmortem=pm, by=commander, **_item_fields(outsider))
    assert not ActionItem.objects.filter(postmortem=pm).exists()
    item = ActionItemFactory(postmortem=pm, owner=commander)
    with pytest.raises(ValidationError, match="cannot see"):
        item_services.reassign(item=item, owner=outsider, by=commander)


def test_ticking_add_as_member_adds_the_owner_when_the_editor_may(org):
    commander, outsider = org["commander"], org["outsider"]
    secret = IncidentFactory(
        team=org["team"], private=True, members=[commander], commander=commander
    )
    pm = PostmortemFactory(incident=secret, author=commander)
    item = item_services.create_action_item(
        postmortem=pm, by=commander, add_member=True, **_item_fields(outsider)
    )
    assert item.added_member and secret.members.filter(pk=outsider.pk).exists()
    assert ActionItem.objects.visible_to(_fresh(outsider)).filter(pk=item.pk).exists()


def test_an_editor_who_may_not_add_members_is_told_whom_to_ask(org):
    member, outsider = org["member"], org["outsider"]
    secret = IncidentFactory(team=org["team"], private=True, members=[member])
    pm = PostmortemFactory(incident=secret)
    with pytest.raises(ValidationError, match="ask the commander"):
        item_services.create_action_item(postmortem=pm, by=member, **_item_fields(outsider))
    with pytest.raises(PermissionDenied):
        item_services.create_action_item(
            postmortem=pm, by=member, add_member=True, **_item_fields(outsider)
        )
    assert not secret.members.filter(pk=outsider.pk).exists()


def test_the_data_migration_makes_blind_owners_members(org):
    secret = IncidentFactory(team=org["team"], private=True, members=[org["commander"]])
    blind = ActionItemFactory(postmortem=PostmortemFactory(incident=secret), owner=org["outsider"])
    seeing = ActionItemFactory(postmortem=org["pm"], owner=org["outsider"])  # public: fine
    migration = importlib.import_module("actions.migrations.0009_item_owners_see_their_incident")
    migration.add_owners_as_members(apps, None)
    assert set(secret.members.all()) == {org["commander"], org["outsider"]}
    assert not org["incident"].members.exists()
    assert blind.postmortem.incident.is_visible_to(_fresh(org["outsider"]))
    assert seeing.pk


# --- Team-only read access ---------------------------------------------------------------------


def test_team_read_access_shows_each_person_only_their_incidents(org, settings):
    settings.DEBRIEF_READ_ACCESS = "team"
    other = IncidentFactory(team=TeamFactory(slug="search"))
    reviewer = UserFactory(username="reviewer")
    org["pm"].reviewers.add(reviewer)
    expected = {
        "member": {org["incident"].pk},
        "manager": {org["incident"].pk},
        "commander": {org["incident"].pk},
        "author": {org["incident"].pk},
        "outsider": set(),
    }
    for name, wanted in expected.items():
        user = _fresh(org[name])
        listed = set(Incident.objects.visible_to(user).values_list("pk", flat=True))
        assert listed == wanted, name
        assert {i.pk for i in (org["incident"], other) if i.is_visible_to(user)} == wanted, name
    assert org["incident"].is_visible_to(_fresh(reviewer))
    assert Incident.objects.visible_to(_fresh(reviewer)).filter(pk=org["incident"].pk).exists()


def test_a_manager_who_owns_an_item_of_their_teams_private_incident_is_reminded(org):
    from actions.reminders import visible_to_each_owner

    secret = IncidentFactory(team=org["team"], private=True, members=[org["commander"]])
    item = ActionItemFactory(postmortem=PostmortemFactory(incident=secret), owner=org["manager"])
    assert visible_to_each_owner(ActionItem.objects.filter(pk=item.pk)).exists()
    ActionItem.objects.filter(pk=item.pk).update(owner=org["outsider"])
    assert not visible_to_each_owner(ActionItem.objects.filter(pk=item.pk)).exists()


def test_a_persons_teams_and_managed_teams_are_read_in_one_query(
    django_assert_num_queries,
):
    person = UserFactory()
    member_only, managed_only, both, other = TeamFactory.create_batch(4)
    member_only.members.add(person)
    managed_only.managers.add(person)
    both.members.add(person)
    both.managers.add(person)
    other.members.add(UserFactory())
    with django_assert_num_queries(1):
        teams = permissions.team_ids(person)
        managed = permissions.managed_team_ids(person)
    assert teams == {member_only.pk, managed_only.pk, both.pk}
    assert managed == {managed_only.pk, both.pk}
    assert permissions.team_ids(UserFactory()) == set()
