"""incidents.services: each write asks the policy, and crossed edits are decided by the database."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from incidents import services
from incidents.models import Incident, Profile, TimelineEvent
from incidents.services import EditConflict
from incidents.timeline_paste import ParsedEvent

from ..factories import IncidentFactory, TeamFactory, TimelineEventFactory, UserFactory, on_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret(user):
    """A private incident only Alice (and admins) may see."""
    return on_team(IncidentFactory(private=True, members=[user], title="Secret"), user)


def _fields(**overrides):
    start = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    return {
        "title": "Checkout 503s",
        "severity": 3,
        "team": TeamFactory(),
        "started_at": start,
        **overrides,
    }


# --- Opening an incident ------------------------------------------------------------------------


def test_opening_an_incident_records_who_opened_it(user):
    incident = services.create_incident(by=user, **_fields())
    assert incident.created_by == user and incident.number == 1001 and incident.version == 1


def test_an_inactive_or_anonymous_person_cannot_open_an_incident():
    for nobody in (UserFactory(is_active=False), AnonymousUser()):
        with pytest.raises(PermissionDenied):
            services.create_incident(by=nobody, **_fields())
    assert not Incident.objects.exists()


def test_an_operator_import_records_who_the_incident_is_opened_for(user):
    incident = services.create_incident(by=None, created_by=user, **_fields())
    assert incident.created_by == user


# --- Editing an incident ------------------------------------------------------------------------


def test_an_edit_bumps_the_version_and_reapplies_the_policy(user):
    incident = on_team(IncidentFactory(severity=3), user)
    assert incident.postmortem_requirement == "brief"
    services.update_incident(incident=incident, by=user, version=1, data_loss=True, title="New")
    incident.refresh_from_db()
    assert (incident.title, incident.version) == ("New", 2)
    assert incident.postmortem_requirement == "required"


def test_two_edits_from_the_same_version_the_second_is_a_conflict(user, other_user):
    incident = on_team(IncidentFactory(title="Original"), user, other_user)
    services.update_incident(
        incident=Incident.objects.get(pk=incident.pk), by=user, version=1, title="First"
    )
    with pytest.raises(EditConflict) as conflict:
        services.update_incident(
            incident=Incident.objects.get(pk=incident.pk), by=other_user, version=1, title="Second"
        )
    assert conflict.value.current.title == "First" and conflict.value.current.version == 2
    incident.refresh_from_db()
    assert (incident.title, incident.version) == ("First", 2)


def test_a_conflict_leaves_members_and_services_alone(user, other_user):
    incident = IncidentFactory(commander=user)  # the commander changes privacy
    services.update_incident(incident=incident, by=user, version=1, title="First")
    with pytest.raises(EditConflict):
        services.update_incident(
            incident=Incident.objects.get(pk=incident.pk),
            by=user,
            version=1,
            members=[other_user],
            private=True,
        )
    incident.refresh_from_db()
    assert not incident.private and not incident.members.exists()


def test_a_non_member_cannot_edit_a_private_incident(other_user, secret):
    with pytest.raises(PermissionDenied):
        services.update_incident(incident=secret, by=other_user, version=1, title="Mine")
    secret.refresh_from_db()
    assert (secret.title, secret.version) == ("Secret", 1)


def test_access_is_asked_of_the_incident_as_stored_not_as_typed(user, other_user):
    """Making a public incident private for others is allowed to its commander as it is now."""
    incident = IncidentFactory(commander=user)
    services.update_incident(
        incident=incident, by=user, version=1, private=True, members=[other_user]
    )
    incident.refresh_from_db()
    # The commander of a private incident is always kept as a member.
    assert incident.private and set(incident.members.all()) == {user, other_user}


# --- The timeline -------------------------------------------------------------------------------


def _event_fields(incident, text="Page acknowledged"):
    return {
        "occurred_at": incident.started_at + timedelta(minutes=4),
        "phase": "detection",
        "text": text,
        "source": "alert",
        "source_detail": "",
    }


def test_adding_an_event_records_its_author(user, secret):
    event = services.add_timeline_event(incident=secret, by=user, **_event_fields(secret))
    assert event.author == user and event.origin == "manual"


def test_a_non_member_cannot_add_change_or_delete_events_of_a_private_incident(other_user, secret):
    event = TimelineEventFactory(incident=secret, text="Original")
    with pytest.raises(PermissionDenied):
        services.add_timeline_event(incident=secret, by=other_user, **_event_fields(secret))
    with pytest.raises(PermissionDenied):
        services.update_timeline_event(event=event, by=other_user, version=1, text="Changed")
    with pytest.raises(PermissionDenied):
        services.delete_timeline_event(event=event, by=other_user)
    with pytest.raises(PermissionDenied):
        services.insert_timeline_events(
            incident=secret, by=other_user, events=[ParsedEvent(secret.started_at, "x")]
        )
    assert list(TimelineEvent.objects.values_list("text", "version")) == [("Original", 1)]


def test_two_event_edits_from_the_same_version_the_second_is_a_conflict(user, other_user):
    event = TimelineEventFactory(
        text="Original", incident=on_team(IncidentFactory(), user, other_user)
    )
    services.update_timeline_event(
        event=TimelineEvent.objects.get(pk=event.pk), by=user, version=1, text="First"
    )
    with pytest.raises(EditConflict) as conflict:
        services.update_timeline_event(
            event=TimelineEvent.objects.get(pk=event.pk), by=other_user, version=1, text="Second"
        )
    assert conflict.value.current.text == "First"
    event.refresh_from_db()
    assert (event.text, event.version) == ("First", 2)


def test_an_event_edit_without_a_version_replaces_whatever_is_there(user):
    event = TimelineEventFactory(text="Original", incident=on_team(IncidentFactory(), user))
    services.update_timeline_event(event=event, by=user, version=1, text="First")
    services.update_timeline_event(
        event=TimelineEvent.objects.get(pk=event.pk), by=user, version=None, text="Second"
    )
    event.refresh_from_db()
    assert (event.text, event.version) == ("Second", 3)


def test_editing_a_deleted_event_says_it_is_gone(user):
    event = TimelineEventFactory(incident=on_team(IncidentFactory(), user))
    TimelineEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(TimelineEvent.DoesNotExist):
        services.update_timeline_event(event=event, by=user, version=1, text="Late")


def test_only_timeline_fields_are_edited_through_the_timeline(user):
    event = TimelineEventFactory(incident=on_team(IncidentFactory(), user))
    with pytest.raises(ValueError):
        services.update_timeline_event(event=event, by=user, version=1, incident_id=1)


def test_a_pasted_timeline_is_inserted_once_with_its_author_and_origin(user):
    incident = on_team(IncidentFactory(), user)
    start = incident.started_at
    parsed = [
        ParsedEvent(start + timedelta(minutes=2), "alert fired", source="alert"),
        ParsedEvent(start + timedelta(minutes=5), "page acknowledged", phase="detection"),
    ]
    added = services.insert_timeline_events(incident=incident, events=parsed, by=user)
    assert [e.text for e in added] == ["alert fired", "page acknowledged"]
    assert {(e.author_id, e.origin) for e in incident.timeline.all()} == {(user.pk, "paste")}
    assert incident.timeline.get(text="alert fired").source == "alert"
    # Confirming the same paste again adds nothing.
    assert services.insert_timeline_events(incident=incident, events=parsed, by=user) == []
    assert incident.timeline.count() == 2


# --- Preferences --------------------------------------------------------------------------------


def test_people_save_their_own_preferences_only(user, other_user):
    services.save_preferences(user=user, by=user, timezone="Europe/Berlin", reminder_hour=8)
    assert Profile.objects.get(user=user).timezone == "Europe/Berlin"
    with pytest.raises(PermissionDenied):
        services.save_preferences(user=user, by=other_user, timezone="Asia/Tokyo")
    assert Profile.objects.get(user=user).timezone == "Europe/Berlin"


def test_preferences_are_checked_before_saving(user):
    with pytest.raises(ValidationError):
        services.save_preferences(user=user, by=user, reminder_hour=30)
    assert Profile.objects.get(user=user).reminder_hour == 9
