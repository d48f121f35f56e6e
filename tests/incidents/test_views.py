import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Incident, TimelineEvent

from ..factories import (
    IncidentFactory,
    PostmortemFactory,
    ServiceFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
    on_team,
)

pytestmark = pytest.mark.django_db


def test_pages_need_login(client):
    incident = IncidentFactory()
    for url in [
        reverse("incidents:list"),
        reverse("incidents:create"),
        incident.get_absolute_url(),
        reverse("incidents:edit", args=[incident.number]),
        reverse("actions:mine"),
        reverse("actions:list"),
        reverse("postmortems:list"),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_login_page_logs_in(client, user):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert client.get(reverse("incidents:list")).status_code == 200


def test_incident_list_shows_incidents_newest_first(client, user):
    old = IncidentFactory(title="Old one", started_at=timezone.now() - timedelta(days=9))
    new = IncidentFactory(title="New one", started_at=timezone.now() - timedelta(days=1))
    client.force_login(user)
    body = client.get(reverse("incidents:list")).content.decode()
    assert body.index(new.reference) < body.index(old.reference)


def test_incident_list_filters_by_severity_team_and_text(client, user):
    team = TeamFactory(slug="payments", name="Payments")
    hit = IncidentFactory(title="Card auth timeouts", severity=1, team=team)
    IncidentFactory(title="Card auth timeouts", severity=3, team=team)
    IncidentFactory(title="Card auth timeouts", severity=1)
    IncidentFactory(title="Search slow", severity=1, team=team)
    client.force_login(user)
    response = client.get(
        reverse("incidents:list"), {"severity": "1", "team": "payments", "q": "card"}
    )
    assert [i.pk for i in response.context["page"].object_list] == [hit.pk]


def test_incident_list_finds_a_reference(client, user):
    hit = IncidentFactory()
    IncidentFactory()
    client.force_login(user)
    response = client.get(reverse("incidents:list"), {"q": hit.reference.lower()})
    assert [i.pk for i in response.context["page"].object_list] == [hit.pk]


def test_incident_list_filters_by_service_and_date_range(client, user):
    service = ServiceFactory(slug="checkout-api")
    hit = IncidentFactory(started_at=timezone.now() - timedelta(days=3))
    hit.services.add(service)
    too_old = IncidentFactory(started_at=timezone.now() - timedelta(days=40))
    too_old.services.add(service)
    IncidentFactory(started_at=timezone.now() - timedelta(days=3))
    client.force_login(user)
    since = (timezone.now() - timedelta(days=10)).date().isoformat()
    response = client.get(
        reverse("incidents:list"), {"service": "checkout-api", "started_after": since}
    )
    assert [i.pk for i in response.context["page"].object_list] == [hit.pk]


def test_postmortems_owed_filter(client, user):
    owed = IncidentFactory(severity=1)  # two hours long: required
    done = IncidentFactory(severity=1)
    PostmortemFactory(incident=done, status="published")
    IncidentFactory(severity=3)  # brief record only
    client.force_login(user)
    response = client.get(reverse("incidents:list"), {"postmortem": "owed"})
    assert [i.pk for i in response.context["page"].object_list] == [owed.pk]
    response = client.get(reverse("incidents:list"), {"postmortem": "has"})
    assert [i.pk for i in response.context["page"].object_list] == [done.pk]


def test_htmx_filter_request_returns_only_the_results(client, user):
    IncidentFactory(title="Checkout down")
    client.force_login(user)
    response = client.get(reverse("incidents:list"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert "Checkout down" in body
    assert "<html" not in body


def test_incident_list_paginates(client, user, settings):
    settings.PAGE_SIZE = 5
    IncidentFactory.create_batch(12)
    client.force_login(user)
    page = client.get(reverse("incidents:list"), {"page": 3}).context["page"]
    assert page.number == 3 and len(page.object_list) == 2
    # A page past the end gives the last page rather than an error.
    assert client.get(reverse("incidents:list"), {"page": 99}).context["page"].number == 3


def test_empty_incident_list_offers_the_next_step(client, user):
    client.force_login(user)
    body = client.get(reverse("incidents:list")).content.decode()
    assert "No incidents yet" in body
    assert reverse("incidents:create") in body


@pytest.mark.parametrize("rows", [5, 50])
def test_incident_list_query_count_does_not_grow(client, user, django_assert_max_num_queries, rows):
    for incident in IncidentFactory.create_batch(rows):
        PostmortemFactory(incident=incident)
    client.force_login(user)
    client.get(reverse("incidents:list"))  # warm the session
    with django_assert_max_num_queries(6) as captured:
        response = client.get(reverse("incidents:list"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(rows, 50)
    # Same number of queries whatever the row count.
    test_incident_list_query_count_does_not_grow.counts[rows] = len(captured)
    if len(test_incident_list_query_count_does_not_grow.counts) == 2:
        assert len(set(test_incident_list_query_count_does_not_grow.counts.values())) == 1


test_incident_list_query_count_does_not_grow.counts = {}


def _form_data(team, **overrides):
    data = {
        "title": "Checkout returned 503s",
        "summary": "Checkout failed for EU customers.",
        "severity": "1",
        "status": "resolved",
        "team": team.pk,
        "started_at": "2026-03-26T14:02",
        "detected_at": "2026-03-26T14:07",
        "mitigated_at": "2026-03-26T14:39",
        "resolved_at": "2026-03-26T16:16",
        "customer_facing": "on",
        "regions": "eu-west-1",
    }
    data.update(overrides)
    return data


def test_creating_an_incident_numbers_it_and_applies_the_policy(client, user):
    team = TeamFactory()
    client.force_login(user)
    response = client.post(reverse("incidents:create"), _form_data(team))
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == incident.get_absolute_url()
    assert incident.reference == "INC-1001"
    assert incident.created_by == user
    assert incident.postmortem_requirement == "required"
    assert "SEV1 lasting 134 min" in incident.postmortem_reason
    client.post(reverse("incidents:create"), _form_data(team, title="Second"))
    assert Incident.objects.get(title="Second").reference == "INC-1002"


def test_times_are_read_in_the_viewers_timezone_and_stored_in_utc(client, user):
    user.profile.timezone = "America/New_York"
    user.profile.save()
    team = TeamFactory()
    client.force_login(user)
    client.post(reverse("incidents:create"), _form_data(team))
    incident = Incident.objects.get()
    assert incident.started_at.isoformat() == "2026-03-26T18:02:00+00:00"
    body = client.get(incident.get_absolute_url()).content.decode()
    assert 'title="2026-03-26 18:02 UTC">2026-03-26 14:02</time>' in body


def test_invalid_incident_keeps_what_was_typed(client, user):
    team = TeamFactory()
    client.force_login(user)
    data = _form_data(team, detected_at="2026-03-26T13:00", title="Typed title kept")
    response = client.post(reverse("incidents:create"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Must not be before the time it was started." in body
    assert 'value="Typed title kept"' in body
    assert "Checkout failed for EU customers." in body
    assert not Incident.objects.exists()


def test_resolved_incident_needs_a_resolved_time(client, user):
    client.force_login(user)
    response = client.post(reverse("incidents:create"), _form_data(TeamFactory(), resolved_at=""))
    assert "needs the time it was resolved" in response.content.decode()


def test_editing_an_incident_saves_and_reapplies_policy(client, user):
    incident = on_team(IncidentFactory(severity=3), user)
    assert incident.postmortem_requirement == "brief"
    client.force_login(user)
    page = client.get(reverse("incidents:edit", args=[incident.number]))
    version = page.context["version"]
    data = _form_data(incident.team, title="Renamed", severity="3", data_loss="on")
    data["loaded_version"] = version
    response = client.post(reverse("incidents:edit", args=[incident.number]), data)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Renamed"
    assert incident.postmortem_requirement == "required"
    assert "data loss" in incident.postmortem_reason


def test_two_people_editing_an_incident_do_not_overwrite_each_other(client, user, other_user):
    incident = on_team(IncidentFactory(title="Original"), user, other_user)
    client.force_login(user)
    version = client.get(reverse("incidents:edit", args=[incident.number])).context["version"]
    # Someone else saves in between, from the same version.
    services.update_incident(
        incident=Incident.objects.get(pk=incident.pk),
        by=other_user,
        version=version,
        title="Their title",
    )
    data = _form_data(incident.team, title="My title", loaded_version=version)
    response = client.post(reverse("incidents:edit", args=[incident.number]), data)
    assert response.status_code == 409
    assert "Someone else saved this incident" in response.content.decode()
    assert "Their version differs in Title: “Their title”" in response.content.decode()
    assert 'value="My title"' in response.content.decode()
    incident.refresh_from_db()
    assert incident.title == "Their title"
    # The form keeps the version it was loaded at: saving again still refuses until reloaded.
    assert response.context["version"] == version
    response = client.post(reverse("incidents:edit", args=[incident.number]), data)
    assert "Someone else saved this incident" in response.content.decode()
    incident.refresh_from_db()
    assert incident.title == "Their title"


def test_adding_a_timeline_event_with_htmx_returns_the_timeline(client, user):
    incident = on_team(IncidentFactory(), user)
    TimelineEventFactory(
        incident=incident,
        text="Earlier event",
        occurred_at=incident.started_at + timedelta(minutes=30),
    )
    client.force_login(user)
    response = client.post(
        reverse("incidents:timeline-add", args=[incident.number]),
        {
            "occurred_at": "2026-01-01T00:00",
            "phase": "detection",
            "text": "Page acknowledged",
            "source": "alert",
            "source_detail": "PagerDuty",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="timeline"')
    event = TimelineEvent.objects.get(text="Page acknowledged")
    assert event.author == user and event.origin == "manual"


def test_timeline_is_always_in_time_order(client, user):
    incident = IncidentFactory()
    late = TimelineEventFactory(
        incident=incident, text="late", occurred_at=incident.started_at + timedelta(hours=1)
    )
    early = TimelineEventFactory(
        incident=incident, text="early", occurred_at=incident.started_at + timedelta(minutes=1)
    )
    client.force_login(user)
    response = client.get(incident.get_absolute_url())
    assert [e.pk for e in response.context["events"]] == [early.pk, late.pk]


def test_invalid_timeline_event_is_refused_with_422_and_keeps_text(client, user):
    incident = on_team(IncidentFactory(), user)
    client.force_login(user)
    response = client.post(
        reverse("incidents:timeline-add", args=[incident.number]),
        {"occurred_at": "", "phase": "detection", "text": "Keep me", "source": "alert"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "Keep me" in response.content.decode()
    assert not TimelineEvent.objects.exists()


def test_a_timeline_event_cannot_be_in_the_future(client, user):
    incident = on_team(IncidentFactory(), user)
    client.force_login(user)
    response = client.post(
        reverse("incidents:timeline-add", args=[incident.number]),
        {"occurred_at": "2099-01-01T00:00", "phase": "other", "text": "x", "source": "chat"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "cannot be in the future" in response.content.decode()


def _loaded_version(response) -> str:
    """The version the edit form was loaded at, as the browser sends it back."""
    return re.search(r'name="loaded_version" value="(\d+)"', response.content.decode())[1]


def test_editing_and_deleting_a_timeline_event(client, user):
    event = TimelineEventFactory(text="Before", incident=on_team(IncidentFactory(), user))
    incident = event.incident
    client.force_login(user)
    url = reverse("incidents:timeline-edit", args=[incident.number, event.pk])
    form = client.get(url, headers={"HX-Request": "true"})
    assert form.content.decode().lstrip().startswith(f'<tr id="event-{event.pk}"')
    data = {
        "occurred_at": "2026-03-26T14:10",
        "phase": "mitigation",
        "text": "After",
        "source": "chat",
        "source_detail": "",
        "loaded_version": _loaded_version(form),
    }
    response = client.post(url, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.text == "After" and event.phase == "mitigation"
    client.post(
        reverse("incidents:timeline-delete", args=[incident.number, event.pk]),
        headers={"HX-Request": "true"},
    )
    assert not TimelineEvent.objects.exists()


def test_crossed_timeline_edits_are_refused(client, user, other_user):
    event = TimelineEventFactory(
        text="Original", incident=on_team(IncidentFactory(), user, other_user)
    )
    client.force_login(user)
    url = reverse("incidents:timeline-edit", args=[event.incident.number, event.pk])
    version = client.get(url).context["version"]
    services.update_timeline_event(
        event=TimelineEvent.objects.get(pk=event.pk), by=other_user, version=version, text="Theirs"
    )
    data = {
        "occurred_at": "2026-03-26T14:10",
        "phase": "other",
        "text": "Mine",
        "source": "chat",
        "source_detail": "",
        "loaded_version": version,
    }
    response = client.post(url, data, headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "What happened: “Theirs”" in response.content.decode()
    assert response["HX-Retarget"] == f"#event-{event.pk}"
    assert "Mine" in response.content.decode()
    event.refresh_from_db()
    assert event.text == "Theirs"
    # The form now carries their version: saving again knowingly replaces their change.
    data["loaded_version"] = _loaded_version(response)
    response = client.post(url, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.text == "Mine"


def test_detail_query_count_does_not_grow_with_timeline(
    client, user, django_assert_max_num_queries
):
    counts = []
    for size in (5, 60):
        incident = IncidentFactory()
        TimelineEventFactory.create_batch(size, incident=incident, author=UserFactory())
        client.force_login(user)
        client.get(incident.get_absolute_url())
        with django_assert_max_num_queries(15) as captured:
            assert client.get(incident.get_absolute_url()).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_preferences_change_the_timezone(client, user):
    client.force_login(user)
    response = client.post(
        reverse("incidents:preferences"),
        {"timezone": "Europe/Berlin", "reminder_hour": "8", "notify_due_soon": "on"},
    )
    assert response.status_code == 302
    user.profile.refresh_from_db()
    assert user.profile.timezone == "Europe/Berlin"


def test_a_new_incident_has_no_preselected_severity_and_refuses_negative_counts(client, user):
    team = TeamFactory()
    client.force_login(user)
    form = client.get(reverse("incidents:create")).content.decode()
    select = form[
        form.index('name="severity"') : form.index("</select>", form.index('name="severity"'))
    ]
    assert re.search(r'<option value="" selected>Choose the severity', select)
    assert not re.search(r'value="1"[^>]*selected', select)

    response = client.post(reverse("incidents:create"), _form_data(team, severity=""))
    assert response.status_code == 200 and not Incident.objects.exists()
    response = client.post(
        reverse("incidents:create"),
        _form_data(team, requests_failed="-45000", users_affected="-3", revenue_estimate="-1"),
    )
    body = response.content.decode()
    assert body.count("Use a count of zero or more.") == 3
    assert "greater than or equal" not in body  # one clear message per field, not two
    assert 'value="-45000"' in body  # what was typed stays to be corrected
    assert not Incident.objects.exists()


@pytest.mark.usefixtures("in_every_team")
def test_the_next_event_starts_at_the_latest_time_not_back_at_the_start(client, user):
    incident = IncidentFactory(started_at=datetime(2026, 3, 26, 14, 0, tzinfo=UTC))
    client.force_login(user)
    add = reverse("incidents:timeline-add", args=[incident.number])
    page = client.get(incident.get_absolute_url()).content.decode()
    assert 'value="2026-03-26T14:00"' in page  # nothing yet: the incident's start
    response = client.post(
        add,
        {
            "occurred_at": "2026-03-26T14:37",
            "phase": "mitigation",
            "text": "Rolled back",
            "source": "deploy",
        },
        headers={"HX-Request": "true"},
    )
    assert 'name="occurred_at" value="2026-03-26T14:37"' in response.content.decode()
