"""An incident's Activity page and the organisation-wide audit log: who may read them, what
they show, and that a page costs the same number of queries however many entries it lists."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions import webhooks
from audit.models import Entry
from incidents import permissions
from incidents import services as incidents
from incidents.models import Incident
from postmortems import services as postmortems
from tests.factories import IncidentFactory, PostmortemFactory, UserFactory


@pytest.fixture
def incident(user):
    incident = IncidentFactory(title="Checkout 503s")
    incident.team.members.add(user)
    return incident


def edit(incident, by, **fields):
    incident.refresh_from_db()
    return incidents.update_incident(incident=incident, by=by, version=incident.version, **fields)


def kind_value(response, label: str):
    choices = response.context["filters"].form.fields["kind"].choices
    return next(value for value, shown in choices if shown == label)


def activity_url(incident) -> str:
    return reverse("incidents:activity", args=[incident.number])


# --- The incident's Activity ------------------------------------------------------------------


def test_activity_shows_who_changed_what_before_and_after(client, incident, user):
    edit(incident, user, title="Checkout 503s in EU", severity=1)
    client.force_login(user)
    response = client.get(activity_url(incident))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alice Ng" in body
    assert "Checkout 503s</q>" in body and "Checkout 503s in EU</q>" in body
    assert "SEV1" in body  # a choice is shown by its label, not its stored value


def test_activity_lists_what_belongs_to_the_incident_and_nothing_else(client, incident, user):
    postmortem = PostmortemFactory(incident=incident, author=user)
    postmortems.save_section(
        postmortem=postmortem, section="impact", text="1,200 failed checkouts", base=0, by=user
    )
    elsewhere = IncidentFactory(title="Other outage")
    edit(elsewhere, UserFactory(is_superuser=True), title="Other outage, renamed")
    client.force_login(user)
    body = client.get(activity_url(incident)).content.decode()
    assert "1,200 failed checkouts" in body
    assert "Other outage" not in body


def test_the_incident_page_links_to_its_activity(client, incident, user):
    client.force_login(user)
    body = client.get(incident.get_absolute_url()).content.decode()
    assert f'href="{activity_url(incident)}"' in body


def test_times_are_shown_in_the_viewers_timezone(client, incident, user):
    user.profile.timezone = "Asia/Tokyo"
    user.profile.save()
    with time_machine.travel(datetime(2026, 3, 2, 14, 7, tzinfo=UTC), tick=False):
        edit(incident, user, title="Renamed")
    client.force_login(user)
    body = client.get(activity_url(incident)).content.decode()
    assert 'title="2026-03-02 14:07 UTC">2026-03-02 23:07</time>' in body


def test_a_changed_time_is_shown_in_the_viewers_timezone(client, user):
    incident = IncidentFactory(started_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    incident.team.members.add(user)
    user.profile.timezone = "America/New_York"
    user.profile.save()
    edit(incident, user, resolved_at=datetime(2026, 3, 2, 18, 0, tzinfo=UTC))
    client.force_login(user)
    body = client.get(activity_url(incident)).content.decode()
    assert 'title="2026-03-02 18:00 UTC">2026-03-02 13:00</time>' in body


def test_outsiders_get_404_on_a_private_incidents_activity(client, incident, user, other_user):
    Incident.objects.filter(pk=incident.pk).update(commander=user)  # who may make it private
    incident.refresh_from_db()
    edit(incident, user, private=True, members=[user])
    client.force_login(other_user)
    assert client.get(activity_url(incident)).status_code == 404
    client.force_login(user)
    assert client.get(activity_url(incident)).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, incident):
    response = client.get(activity_url(incident))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.get(reverse("audit-log")).status_code == 302


def test_activity_and_the_log_only_read(client, incident, user, admin_user):
    client.force_login(admin_user)
    assert client.post(activity_url(incident)).status_code == 405
    assert client.post(reverse("audit-log")).status_code == 405


def test_a_link_to_an_incident_the_viewer_cannot_see_is_not_named(
    client, incident, user, other_user
):
    Incident.objects.filter(pk=incident.pk).update(commander=user)  # an editor of this one
    incident.refresh_from_db()
    hidden = IncidentFactory(title="Payroll data exposure", commander=other_user)
    edit(hidden, other_user, private=True, members=[other_user])
    postmortems.link_related(incident=incident, other=IncidentFactory(title="Visible"), by=user)
    admin = UserFactory(is_superuser=True)
    postmortems.link_related(incident=incident, other=hidden, by=admin)
    client.force_login(user)
    body = client.get(activity_url(incident)).content.decode()
    assert "Payroll" not in body and hidden.reference not in body
    assert "an incident you cannot see" in body
    assert "Visible" in body
    client.force_login(admin)
    assert "Payroll data exposure" in client.get(activity_url(incident)).content.decode()


def test_activity_can_be_narrowed_to_one_kind_of_row(client, incident, user):
    incidents.add_timeline_event(
        incident=incident, by=user, occurred_at=incident.started_at, text="Alert fired"
    )
    edit(incident, user, title="Renamed incident")
    client.force_login(user)
    kind = kind_value(client.get(activity_url(incident)), "Timeline event")
    response = client.get(activity_url(incident), {"kind": kind}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Alert fired" in body and "Renamed incident" not in body
    assert "<html" not in body  # the results fragment only


# --- The organisation-wide log ---------------------------------------------------------------


def test_the_log_is_for_admins_only(client, user, admin_user):
    client.force_login(user)
    assert client.get(reverse("audit-log")).status_code == 403
    manager = UserFactory()
    IncidentFactory().team.managers.add(manager)
    client.force_login(manager)
    assert client.get(reverse("audit-log")).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse("audit-log")).status_code == 200


def test_only_admins_see_the_log_in_the_menu(client, user, admin_user):
    client.force_login(user)
    assert reverse("audit-log") not in client.get(reverse("incidents:list")).content.decode()
    client.force_login(admin_user)
    assert reverse("audit-log") in client.get(reverse("incidents:list")).content.decode()


def test_the_log_shows_private_incidents_and_webhooks_to_admins(client, admin_user, user):
    incident = IncidentFactory(title="Quiet incident")
    edit(incident, admin_user, private=True, members=[admin_user])
    webhooks.create_endpoint(by=admin_user, team=None, url="https://hooks.example/in")
    client.force_login(admin_user)
    body = client.get(reverse("audit-log")).content.decode()
    assert incident.reference in body and "https://hooks.example/in" in body
    assert "secret created (its value is never recorded)" in body


def test_the_log_filters_by_who_what_incident_and_dates(client, admin_user, user, other_user):
    first, second = IncidentFactory(title="First"), IncidentFactory(title="Second")
    first.team.members.add(user)
    second.team.members.add(other_user)
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC)):
        edit(first, user, title="First, by Alice")
    with time_machine.travel(datetime(2026, 3, 9, 12, 0, tzinfo=UTC)):
        edit(second, other_user, title="Second, by Bob")
        incidents.add_timeline_event(
            incident=second, by=other_user, occurred_at=second.started_at, text="Bob's event"
        )
    client.force_login(admin_user)

    def shown(**params) -> set[str]:
        page = client.get(reverse("audit-log"), params).context["page"]
        return {e.object_repr for e in page.object_list}

    assert shown(actor=user.pk) == {f"{first.reference} First, by Alice"}
    assert all("Bob" in repr_ or "Second" in repr_ for repr_ in shown(actor=other_user.pk))
    # the factory's creation (by nobody) and Alice's edit
    assert shown(incident=first.reference) == {
        f"{first.reference} First",
        f"{first.reference} First, by Alice",
    }
    assert shown(incident=str(second.number)) >= {f"{second.reference} Second, by Bob"}
    assert shown(incident="INC-999999") == set()
    assert shown(since="2026-03-05", until="2026-03-10") == shown(actor=other_user.pk)
    assert shown(until="2026-03-03") == {f"{first.reference} First, by Alice"}
    event_kind = kind_value(client.get(reverse("audit-log")), "Timeline event")
    assert {r.split(" ", 2)[-1] for r in shown(kind=event_kind)} == {"Bob's event"}


def test_the_log_is_paginated(client, admin_user, settings):
    settings.PAGE_SIZE = 5
    incident = IncidentFactory()
    for n in range(7):
        edit(incident, admin_user, title=f"Title {n}")
    client.force_login(admin_user)
    first = client.get(reverse("audit-log")).context["page"]
    assert len(first.object_list) == 5 and first.has_next()
    assert first.object_list[0].changes["title"][1] == "Title 6"  # newest first
    rest = client.get(reverse("audit-log"), {"page": 2}).context["page"].object_list
    assert len(rest) == 3  # two edits and the incident's creation


# --- Queries --------------------------------------------------------------------------------


def _entries_of_every_kind(incident, by, rounds: int) -> None:
    postmortem = PostmortemFactory(incident=incident, author=by)
    for n in range(rounds):
        edit(incident, by, title=f"Title {n}", private=n % 2 == 1, members=[by])
        event = incidents.add_timeline_event(
            incident=incident, by=by, occurred_at=incident.started_at, text=f"Event {n}"
        )
        incidents.update_timeline_event(event=event, by=by, version=None, text=f"Fixed {n}")
        postmortems.add_factor(
            postmortem=postmortem, by=by, category="process", description=f"F{n}", whys=[]
        )
        linked = IncidentFactory()
        postmortems.link_related(incident=incident, other=linked, by=by)


def _queries(client, url) -> int:
    client.get(url)  # warm the session and the content type cache
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_activity_costs_the_same_queries_for_few_or_many_entries(client, admin_user):
    small, large = IncidentFactory(), IncidentFactory()
    _entries_of_every_kind(small, admin_user, 1)
    _entries_of_every_kind(large, admin_user, 8)
    assert Entry.objects.filter(incident_pk=large.pk).count() > 40
    client.force_login(admin_user)
    few, many = _queries(client, activity_url(small)), _queries(client, activity_url(large))
    assert few == many
    assert many <= 10


def test_the_log_costs_the_same_queries_for_few_or_many_entries(client, admin_user):
    _entries_of_every_kind(IncidentFactory(), admin_user, 1)
    client.force_login(admin_user)
    few = _queries(client, reverse("audit-log"))
    for incident in IncidentFactory.create_batch(4):
        _entries_of_every_kind(incident, admin_user, 3)
    assert _queries(client, reverse("audit-log")) == few
    assert few <= 10


def test_the_filters_use_indexes(db):
    names = {index.name for index in Entry._meta.indexes}
    assert {"audit_incident_time", "audit_actor_time", "audit_type_time"} <= names
    if connection.vendor == "sqlite":  # PostgreSQL may scan a table this small instead
        since = datetime.now(UTC) - timedelta(days=1)
        plan = Entry.objects.filter(incident_pk=1, timestamp__gte=since).explain()
        assert "audit_incident_time" in plan


def test_the_policy_answers_who_reads_the_log(user, admin_user):
    assert permissions.can(admin_user, "view_audit_log")
    assert not permissions.can(user, "view_audit_log")
    user.is_staff = True  # the Django admin's staff flag is not an organisation admin
    assert not permissions.can(user, "view_audit_log")


@pytest.mark.usefixtures("in_every_team")
def test_who_offers_the_people_who_changed_this_incident(client, incident, user, other_user):
    edit(incident, user, title="Renamed")
    edit(IncidentFactory(), other_user, title="Elsewhere")
    client.force_login(user)
    response = client.get(activity_url(incident))
    offered = {label for _, label in response.context["filters"].form.fields["actor"].choices}
    assert "alice" in offered and "bob" not in offered
    assert client.get(activity_url(incident), {"actor": user.pk}).context["page"].object_list
