from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from actions import services
from actions.models import ActionItem, ActionItemEvent

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_creating_an_item_records_who_created_it(user):
    postmortem = PostmortemFactory(author=user)
    item = services.create_action_item(
        postmortem=postmortem,
        by=user,
        title="Add a canary stage to the checkout deploy",
        owner=user,
        due_on=date(2026, 12, 1),
        leverage="prevention",
    )
    event = item.events.get()
    assert event.kind == "created" and event.by == user and event.to_due == date(2026, 12, 1)


def test_blocking_needs_a_reason_and_keeps_it_as_a_decision(user):
    item = ActionItemFactory(owner=user)
    with pytest.raises(ValidationError) as err:
        services.change_status(item=item, status="blocked", reason="  ", by=user)
    assert "Say why the item is blocked" in str(err.value)
    item.refresh_from_db()
    assert item.status == "open"
    services.change_status(item=item, status="blocked", reason="Waiting on vendor API", by=user)
    item.refresh_from_db()
    assert (item.status, item.reason) == ("blocked", "Waiting on vendor API")
    event = item.events.get(kind="status")
    assert (event.from_status, event.to_status, event.reason) == (
        "open",
        "blocked",
        "Waiting on vendor API",
    )


def test_done_records_who_and_when_and_reopening_is_recorded(user, other_user):
    item = ActionItemFactory(owner=user)
    item.postmortem.incident.team.members.add(other_user)
    services.change_status(item=item, status="done", by=user)
    item.refresh_from_db()
    assert item.completed_by == user and item.completed_at is not None
    services.change_status(item=item, status="open", reason="The fix was reverted", by=other_user)
    item.refresh_from_db()
    assert item.completed_at is None and item.completed_by is None
    reopening = item.events.filter(kind="status").last()
    assert reopening.is_reopening and reopening.by == other_user
    assert reopening.reason == "The fix was reverted"


def test_due_date_changes_keep_their_history_and_need_a_reason(user):
    item = ActionItemFactory(due_on=date(2026, 3, 1), owner=user)
    with pytest.raises(ValidationError):
        services.change_due_date(item=item, due_on=date(2026, 3, 10), reason="", by=user)
    services.change_due_date(item=item, due_on=date(2026, 3, 10), reason="Vendor late", by=user)
    services.change_due_date(item=item, due_on=date(2026, 3, 20), reason="Freeze", by=user)
    slips = [e.slip_days for e in item.events.filter(kind="due_date")]
    assert slips == [9, 10]
    assert item.events.filter(kind="due_date").first().from_due == date(2026, 3, 1)


def test_editing_records_the_fields_that_changed(user, other_user):
    item = ActionItemFactory(title="Old title", owner=user)
    services.update_action_item(
        item=item, by=user, title="New title", owner=other_user, reason="Alice is on leave"
    )
    kinds = list(item.events.values_list("kind", flat=True))
    assert kinds == ["owner", "edited"]
    assert item.events.get(kind="edited").fields == ["title"]
    assert item.events.get(kind="owner").reason == "Alice is on leave"


def test_bulk_changes_are_for_managers_of_the_items_teams(user, other_user):
    team = TeamFactory()
    team.managers.add(user)
    mine = ActionItemFactory.create_batch(2, postmortem__incident__team=team)
    foreign = ActionItemFactory()
    with pytest.raises(PermissionDenied):
        services.bulk_reassign(items=[*mine, foreign], owner=other_user, reason="Reorg", by=user)
    assert not ActionItemEvent.objects.filter(kind="owner").exists()
    with pytest.raises(ValidationError):
        services.bulk_reassign(items=mine, owner=other_user, reason="", by=user)
    assert services.bulk_reassign(items=mine, owner=other_user, reason="Reorg", by=user) == 2
    assert set(ActionItem.objects.filter(owner=other_user)) == set(mine)
    new_due = timezone.localdate() + timedelta(days=30)
    moved = services.bulk_change_due_date(items=mine, due_on=new_due, reason="Freeze", by=user)
    assert moved == 2
    assert ActionItemEvent.objects.filter(kind="due_date", reason="Freeze").count() == 2


def test_a_superuser_may_bulk_change_any_item(admin_user):
    item = ActionItemFactory()
    owner = UserFactory()
    assert services.bulk_reassign(items=[item], owner=owner, reason="x", by=admin_user) == 1


# --- Who may change what: asked by the services, whichever route calls them ----------------


def _new_item_fields(owner):
    return {
        "title": "Add a canary stage to the checkout deploy",
        "owner": owner,
        "due_on": date(2026, 12, 1),
        "leverage": "prevention",
    }


def test_only_the_team_the_author_and_admins_add_items(user, other_user, admin_user):
    postmortem = PostmortemFactory(author=user)
    with pytest.raises(PermissionDenied):
        services.create_action_item(postmortem=postmortem, by=other_user, **_new_item_fields(user))
    assert not ActionItem.objects.exists()
    member = UserFactory()
    postmortem.incident.team.members.add(member)
    for person in (user, member, admin_user):
        services.create_action_item(postmortem=postmortem, by=person, **_new_item_fields(user))
    assert ActionItem.objects.count() == 3


def test_items_of_a_private_incident_are_added_by_its_members_only(user):
    postmortem = PostmortemFactory(
        incident=IncidentFactory(private=True, members=[UserFactory()]), author=user
    )
    team_member = UserFactory()
    postmortem.incident.team.members.add(team_member)
    with pytest.raises(PermissionDenied):
        services.create_action_item(
            postmortem=postmortem, by=team_member, **_new_item_fields(team_member)
        )
    assert not ActionItem.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        lambda item, by: services.change_status(item=item, status="done", by=by),
        lambda item, by: services.change_due_date(
            item=item, due_on=item.due_on + timedelta(days=3), reason="Freeze", by=by
        ),
        lambda item, by: services.reassign(item=item, owner=by, reason="Mine now", by=by),
        lambda item, by: services.update_action_item(item=item, by=by, title="Renamed"),
    ],
    ids=["status", "due date", "reassign", "edit"],
)
def test_someone_outside_the_team_changes_nothing_whatever_the_service(change, other_user):
    item = ActionItemFactory()
    before = ActionItem.objects.values().get(pk=item.pk)
    with pytest.raises(PermissionDenied):
        change(item, other_user)
    assert ActionItem.objects.values().get(pk=item.pk) == before
    assert not item.events.exists()


@pytest.mark.parametrize("role", ["owner", "creator", "member", "manager", "admin"])
def test_the_owner_creator_team_and_admins_change_an_item(role, admin_user):
    person = admin_user if role == "admin" else UserFactory()
    item = ActionItemFactory(
        owner=person if role == "owner" else UserFactory(),
        created_by=person if role == "creator" else None,
    )
    team = item.postmortem.incident.team
    if role == "member":
        team.members.add(person)
    if role == "manager":
        team.managers.add(person)
    services.change_status(item=item, status="in_progress", by=person)
    item.refresh_from_db()
    assert item.status == "in_progress"


def test_a_team_member_of_a_private_incident_they_cannot_see_changes_nothing():
    item = ActionItemFactory(
        postmortem__incident=IncidentFactory(private=True, members=[UserFactory()])
    )
    member = UserFactory()
    item.postmortem.incident.team.members.add(member)
    with pytest.raises(PermissionDenied):
        services.change_status(item=item, status="done", by=member)
    item.refresh_from_db()
    assert item.status == "open"


def test_bulk_changes_are_refused_to_people_who_manage_no_team(user, other_user):
    item = ActionItemFactory()
    item.postmortem.incident.team.members.add(user)  # a member, not a manager
    for bulk in (
        lambda: services.bulk_reassign(items=[item], owner=other_user, reason="Reorg", by=user),
        lambda: services.bulk_change_due_date(
            items=[item], due_on=item.due_on + timedelta(days=3), reason="Freeze", by=user
        ),
    ):
        with pytest.raises(PermissionDenied):
            bulk()
    assert not ActionItemEvent.objects.exists()


def test_nobody_signed_in_changes_anything():
    item = ActionItemFactory()
    with pytest.raises(PermissionDenied):
        services.create_action_item(
            postmortem=item.postmortem, by=AnonymousUser(), **_new_item_fields(item.owner)
        )
    with pytest.raises(PermissionDenied):
        services.change_status(item=item, status="done", by=AnonymousUser())
    with pytest.raises(PermissionDenied):
        services.bulk_reassign(items=[item], owner=item.owner, reason="x", by=AnonymousUser())
    assert ActionItem.objects.count() == 1 and not ActionItemEvent.objects.exists()
