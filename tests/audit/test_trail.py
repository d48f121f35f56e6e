"""Every kind of change leaves an entry: who, when, the incident, the values before and after."""

import contextvars
import json
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from actions import calendar, webhooks
from actions import services as items
from actions.models import CalendarFeed, WebhookEndpoint
from audit import trail
from audit.models import Entry
from incidents import services as incidents
from incidents.models import Incident, TimelineEvent
from incidents.timeline_paste import ParsedEvent
from postmortems import meetings
from postmortems import services as postmortems
from postmortems.models import Approval, ContributingFactor, Postmortem, ReviewMeeting
from tests.factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    ReviewMeetingFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
)

SAMPLES = Path(__file__).parent.parent / "actions" / "samples"

CREATE, UPDATE, DELETE = Entry.Action.CREATE, Entry.Action.UPDATE, Entry.Action.DELETE


def entries_for(obj, action=None):
    found = Entry.objects.get_for_object(obj).order_by("pk")
    return list(found if action is None else found.filter(action=action))


def last_entry(obj, action=None) -> Entry:
    found = entries_for(obj, action)
    assert found, f"no audit entry for {obj!r}"
    return found[-1]


def everything_logged() -> str:
    return json.dumps(list(Entry.objects.values()), default=str)


@pytest.fixture
def incident(user):
    incident = IncidentFactory(title="Checkout 503s")
    incident.team.members.add(user)
    return incident


# --- Incidents, privacy and membership --------------------------------------------------------


def test_editing_an_incident_records_each_field_before_and_after_and_who(incident, user):
    incidents.update_incident(
        incident=incident, by=user, version=incident.version, title="Checkout 503s in EU"
    )
    entry = last_entry(incident, UPDATE)
    assert entry.actor == user
    assert entry.incident_pk == incident.pk
    assert entry.changes["title"] == ["Checkout 503s", "Checkout 503s in EU"]
    assert "version" not in entry.changes and "updated_at" not in entry.changes


def test_opening_an_incident_records_its_creation(user):
    team = TeamFactory()
    incident = incidents.create_incident(
        by=user, team=team, title="Queue backlog", severity=2, started_at=datetime.now(UTC)
    )
    entry = last_entry(incident, CREATE)
    assert (entry.actor, entry.incident_pk) == (user, incident.pk)
    assert entry.changes["title"][1] == "Queue backlog"


@pytest.mark.usefixtures("in_every_team")
def test_privacy_and_members_are_recorded(incident, user, other_user):
    incidents.update_incident(
        incident=incident,
        by=user,
        version=incident.version,
        private=True,
        members=[user, other_user],
    )
    changes = [e.changes for e in entries_for(incident, UPDATE)]
    assert {"private": ["False", "True"]} in changes
    added = [c["members"] for c in changes if "members" in c]
    assert sorted(added[0]["objects"]) == ["alice", "bob"]
    assert all(e.actor == user for e in entries_for(incident, UPDATE))

    incident.refresh_from_db()
    incidents.update_incident(incident=incident, by=user, version=incident.version, members=[user])
    removed = last_entry(incident, UPDATE).changes["members"]
    assert removed == {"type": "m2m", "operation": "delete", "objects": ["bob"]}


def test_an_edit_refused_as_a_conflict_records_nothing(incident, user):
    stale = incident.version
    incidents.update_incident(incident=incident, by=user, version=stale, title="First")
    before = Entry.objects.count()
    with pytest.raises(incidents.EditConflict):
        incidents.update_incident(incident=incident, by=user, version=stale, title="Second")
    assert Entry.objects.count() == before


# --- Timeline -----------------------------------------------------------------------------------


def test_timeline_events_added_corrected_and_deleted_are_recorded(incident, user):
    at = incident.started_at + timedelta(minutes=3)
    event = incidents.add_timeline_event(incident=incident, by=user, occurred_at=at, text="Alert")
    assert last_entry(event, CREATE).changes["text"] == ["None", "Alert"]

    incidents.update_timeline_event(
        event=event, by=user, version=event.version, text="Alert fired", phase="detection"
    )
    update = last_entry(event, UPDATE)
    assert update.changes["text"] == ["Alert", "Alert fired"]
    assert update.changes["phase"] == ["other", "detection"]

    pk = event.pk
    incidents.delete_timeline_event(event=event, by=user)
    deleted = Entry.objects.get(action=DELETE, object_id=pk, content_type__model="timelineevent")
    assert (deleted.actor, deleted.incident_pk) == (user, incident.pk)
    assert deleted.changes["text"][0] == "Alert fired"


def test_a_pasted_timeline_is_recorded_line_by_line_in_one_entry(incident, user):
    start = incident.started_at
    events = [
        ParsedEvent(occurred_at=start + timedelta(minutes=i), text=f"Line {i}") for i in range(500)
    ]
    incidents.insert_timeline_events(incident=incident, events=events, by=user)
    assert TimelineEvent.objects.filter(incident=incident).count() == 500
    entry = last_entry(incident, UPDATE)
    assert entry.actor == user
    added = entry.changes["timeline"]
    assert added["operation"] == "add"
    assert len(added["objects"]) == 500
    assert added["objects"][7].endswith("· Other · Line 7")
    assert f"{start.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in added["objects"][0]


def test_a_paste_of_only_known_lines_records_nothing(incident, user):
    event = TimelineEventFactory(incident=incident)
    before = Entry.objects.count()
    again = ParsedEvent(occurred_at=event.occurred_at, text=event.text)
    incidents.insert_timeline_events(incident=incident, events=[again], by=user)
    assert Entry.objects.count() == before


# --- Postmortem status, sections, factors, reviews --------------------------------------------


def test_a_section_edit_records_the_text_before_and_after(incident, user):
    postmortem = postmortems.start_postmortem(incident=incident, by=user)
    assert last_entry(postmortem, CREATE).actor == user
    postmortems.save_section(
        postmortem=postmortem, section="impact", text="1,200 failed checkouts", base=0, by=user
    )
    postmortems.save_section(
        postmortem=postmortem, section="impact", text="1,250 failed checkouts", base=1, by=user
    )
    entry = last_entry(postmortem, UPDATE)
    assert entry.changes == {"impact": ["1,200 failed checkouts", "1,250 failed checkouts"]}
    assert (entry.actor, entry.incident_pk) == (user, incident.pk)


def test_review_status_reviewers_approval_and_publishing_are_recorded(
    incident, user, other_user, admin_user
):
    Incident.objects.filter(pk=incident.pk).update(severity=3)  # one approval publishes a SEV3
    incident.refresh_from_db()
    postmortem = PostmortemFactory(incident=incident, author=user, impact="Numbers.")
    TimelineEventFactory(incident=incident)
    ContributingFactorFactory(postmortem=postmortem)
    postmortems.request_review(postmortem=postmortem, reviewers=[other_user], by=user)
    changes = [e.changes for e in entries_for(postmortem, UPDATE)]
    assert {"status": ["draft", "in_review"]} in [
        {k: v for k, v in c.items() if k == "status"} for c in changes
    ]
    assert {"type": "m2m", "operation": "add", "objects": ["bob"]} in [
        c["reviewers"] for c in changes if "reviewers" in c
    ]

    approval = postmortems.approve_postmortem(postmortem=postmortem, by=other_user, note="Good")
    entry = last_entry(approval, CREATE)
    assert (entry.actor, entry.incident_pk) == (other_user, incident.pk)
    assert entry.changes["note"] == ["None", "Good"]

    postmortems.publish_postmortem(postmortem=postmortem, by=user)
    published = last_entry(postmortem, UPDATE)
    assert published.changes["status"] == ["in_review", "published"]
    assert published.actor == user


def test_factors_added_edited_and_removed_are_recorded(incident, user):
    postmortem = PostmortemFactory(incident=incident)
    factor = postmortems.add_factor(
        postmortem=postmortem, by=user, category="process", description="No canary", whys=[]
    )
    postmortems.update_factor(
        factor=factor, by=user, category="testing", description="No canary stage", whys=[]
    )
    update = last_entry(factor, UPDATE)
    assert update.changes["category"] == ["process", "testing"]
    assert update.changes["description"] == ["No canary", "No canary stage"]
    pk = factor.pk
    postmortems.delete_factor(factor=factor, by=user)
    deleted = Entry.objects.get(
        action=DELETE, object_id=pk, content_type__model="contributingfactor"
    )
    assert (deleted.actor, deleted.incident_pk) == (user, incident.pk)


def test_a_review_meetings_decisions_are_recorded_not_its_timer(incident, user):
    meeting = ReviewMeetingFactory(
        postmortem=PostmortemFactory(incident=incident, author=user), facilitator=user
    )
    meetings.drive_meeting(meeting=meeting, action="start", by=user)
    started = last_entry(meeting, UPDATE)
    assert list(started.changes) == ["started_at"]
    assert (started.actor, started.incident_pk) == (user, incident.pk)
    before = Entry.objects.count()
    meetings.drive_meeting(meeting=ReviewMeeting.objects.get(), action="next", by=user)
    assert Entry.objects.count() == before  # the step and timer are not decisions
    meetings.agree_publish_date(
        meeting=ReviewMeeting.objects.get(), by=user, publish_by=date(2026, 3, 6)
    )
    assert last_entry(meeting, UPDATE).changes == {"publish_by": ["None", "2026-03-06"]}


# --- Action items, single and bulk ----------------------------------------------------------


def test_action_item_changes_are_recorded_with_owner_names(incident, user, other_user):
    postmortem = PostmortemFactory(incident=incident, author=user)
    item = items.create_action_item(
        postmortem=postmortem,
        by=user,
        title="Add a canary",
        owner=user,
        due_on=date(2026, 5, 1),
        leverage="prevention",
    )
    assert last_entry(item, CREATE).incident_pk == incident.pk
    items.reassign(item=item, owner=other_user, reason="Bob owns deploys", by=user)
    assert last_entry(item, UPDATE).changes == {"owner": ["alice", "bob"]}
    items.change_status(item=item, status="blocked", reason="Waiting on infra", by=user)
    status = last_entry(item, UPDATE).changes
    assert status["status"] == ["open", "blocked"]
    assert status["reason"] == ["", "Waiting on infra"]


def test_a_bulk_item_change_records_every_item_with_the_manager(user, other_user):
    manager = UserFactory(username="mgr")
    incident = IncidentFactory()
    incident.team.managers.add(manager)
    chosen = ActionItemFactory.create_batch(
        3, postmortem=PostmortemFactory(incident=incident), due_on=date(2026, 5, 1)
    )
    items.bulk_change_due_date(
        items=chosen, due_on=date(2026, 6, 1), reason="Quarter replanned", by=manager
    )
    for item in chosen:
        entry = last_entry(item, UPDATE)
        assert entry.changes == {"due_on": ["2026-05-01", "2026-06-01"]}
        assert (entry.actor, entry.incident_pk) == (manager, incident.pk)


# --- Webhooks and calendar tokens: recorded as changed, never by value -------------------------


def test_webhook_changes_are_recorded_without_the_signing_secret(admin_user):
    endpoint = webhooks.create_endpoint(by=admin_user, team=None, url="https://hooks.example/x")
    created = last_entry(endpoint, CREATE)
    assert created.actor == admin_user and created.incident_pk is None
    assert created.changes["secret"] == ["", trail.SECRET]
    webhooks.set_endpoint_paused(endpoint=endpoint, paused=True, by=admin_user)
    assert last_entry(endpoint, UPDATE).changes == {"active": ["True", "False"]}
    endpoint.secret = "rotated-secret-value"
    with trail.acting(admin_user):
        endpoint.save()
    assert last_entry(endpoint, UPDATE).changes == {"secret": [trail.SECRET, trail.SECRET]}
    webhooks.delete_endpoint(endpoint=WebhookEndpoint.objects.get(), by=admin_user)
    assert Entry.objects.filter(action=DELETE, object_id=endpoint.pk).exists()
    logged = everything_logged()
    assert endpoint.secret not in logged and "rotated" not in logged


def test_calendar_tokens_are_recorded_as_opened_and_revoked_never_by_value(user):
    first = calendar.open_calendar_feed(user=user, by=user)
    second = calendar.open_calendar_feed(user=user, by=user)  # a reset: old address dies
    calendar.revoke_calendar_feed(user=user, by=user)
    kinds = Entry.objects.filter(content_type__model="calendarfeed", actor=user)
    assert sorted(kinds.values_list("action", flat=True)) == [CREATE, CREATE, DELETE, DELETE]
    assert kinds.filter(action=CREATE).first().changes["token"] == ["", trail.SECRET]
    logged = everything_logged()
    assert first.token not in logged and second.token not in logged
    assert not CalendarFeed.objects.exists()


# --- Who acts, wherever the service runs ---------------------------------------------------


def test_a_command_records_the_person_it_runs_as(db):
    bob = UserFactory(username="bob")
    UserFactory(username="carol")
    TeamFactory(slug="platform")
    call_command(
        "import_postmortem",
        str(SAMPLES / "checkbox_actions.md"),
        "--team",
        "platform",
        "--user",
        "bob",
        "--owner-fallback",
        "carol",
        "--default-due",
        "+14",
        stdout=StringIO(),
    )
    incident = Incident.objects.get()
    logged = Entry.objects.filter(incident_pk=incident.pk)
    assert logged.count() >= 5
    assert set(logged.values_list("actor", flat=True)) == {bob.pk}
    for e in logged:
        print(e.content_type.model, e.action, e.changes)
    pasted = logged.get(content_type__model="incident", changes__has_key="timeline")
    assert len(pasted.changes["timeline"]["objects"]) == 4
    assert logged.filter(content_type__model="postmortem", changes__has_key="factors").exists()
    assert logged.filter(content_type__model="actionitem", action=CREATE).count() == 5


@pytest.mark.usefixtures("in_every_team")
def test_a_worker_thread_records_the_by_user_not_a_previous_requester(
    client, incident, user, other_user
):
    # A web request by alice first: auditlog's middleware must not leave her as the actor.
    client.force_login(user)
    client.post(
        reverse("incidents:timeline-add", args=[incident.number]),
        {"occurred_at": "2026-03-02T10:00", "text": "Web", "phase": "other", "source": "manual"},
    )
    assert last_entry(TimelineEvent.objects.get(text="Web"), CREATE).actor == user
    done = []

    def job():  # what a Celery task does: load rows by id, call the service with `by`
        incidents.update_incident(
            incident=Incident.objects.get(pk=incident.pk),
            by=other_user,
            version=Incident.objects.get(pk=incident.pk).version,
            summary="From a worker",
        )
        done.append(True)

    contextvars.Context().run(job)  # a worker starts with an empty context
    assert done
    assert last_entry(incident, UPDATE).actor == other_user
    # And in the thread that served alice, a change outside any service names nobody.
    unattributed = TimelineEventFactory(incident=incident)
    assert last_entry(unattributed, CREATE).actor is None


def test_a_nested_service_keeps_the_outer_person(incident, user, other_user):
    with trail.acting(other_user):
        incidents.add_timeline_event(
            incident=incident, by=user, occurred_at=incident.started_at, text="Inner"
        )
        event = TimelineEventFactory(incident=incident)
    assert last_entry(event, CREATE).actor == other_user
    inner = TimelineEvent.objects.get(text="Inner")
    assert last_entry(inner, CREATE).actor == user


# --- Never edited ---------------------------------------------------------------------------


def test_the_admin_shows_entries_but_offers_no_add_change_or_delete(client, admin_user, incident):
    incidents.update_incident(incident=incident, by=admin_user, version=1, title="Renamed")
    entry = last_entry(incident, UPDATE)
    client.force_login(admin_user)
    assert client.get(reverse("admin:audit_entry_changelist")).status_code == 200
    page = client.get(reverse("admin:audit_entry_change", args=[entry.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.get(reverse("admin:audit_entry_add")).status_code == 403
    assert client.post(reverse("admin:audit_entry_delete", args=[entry.pk])).status_code == 403
    posted = client.post(reverse("admin:audit_entry_change", args=[entry.pk]), {"object_repr": "x"})
    assert posted.status_code == 403
    entry.refresh_from_db()
    assert entry.object_repr != "x"
    bulk = client.post(
        reverse("admin:audit_entry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302) and Entry.objects.filter(pk=entry.pk).exists()


def test_deleting_an_incident_keeps_its_trail(incident, user):
    incidents.update_incident(incident=incident, by=user, version=1, title="Renamed")
    pk = incident.pk
    Incident.objects.filter(pk=pk).delete()
    assert Entry.objects.filter(incident_pk=pk, action=UPDATE).exists()
    assert Postmortem.objects.count() == ContributingFactor.objects.count() == 0
    assert Approval.objects.count() == 0
