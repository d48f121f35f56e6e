"""Five people save the same row from the same loaded version: exactly one is told "saved",
the other four get the conflict answer (409) with their text kept and what changed.

On PostgreSQL the five saves really race (tests/races.py); on SQLite they take turns.
"""

from itertools import count

import pytest
from django.test import Client
from django.urls import reverse

from incidents.models import Incident, TimelineEvent

from ..factories import IncidentFactory, TimelineEventFactory, UserFactory
from ..races import REAL, race, report, run_together

PEOPLE = 5


def editors(team, count_=PEOPLE) -> list[Client]:
    """Signed-in browsers of members of the team, signed in before the race starts."""
    clients = []
    for _ in range(count_):
        person = UserFactory()
        team.members.add(person)
        client = Client()
        client.force_login(person)
        clients.append(client)
    return clients


def race_posts(clients, url: str, data_for, headers=None) -> list[int]:
    """Each client posts its own data to `url` at the same moment; their status codes."""
    turn = count()  # next() on it is atomic: each thread takes its own client

    def attempt():
        i = next(turn)
        return clients[i].post(url, data_for(i), headers=headers or {}).status_code

    return run_together(attempt, count=len(clients)).results


def _incident_data(incident, title: str) -> dict:
    return {
        "title": title,
        "severity": incident.severity,
        "status": incident.status,
        "team": incident.team_id,
        "started_at": incident.started_at.strftime("%Y-%m-%dT%H:%M"),
        "detected_at": "",
        "mitigated_at": "",
        "resolved_at": incident.resolved_at.strftime("%Y-%m-%dT%H:%M"),
        "loaded_version": incident.version,
    }


@race
@pytest.mark.django_db(transaction=True)
def test_five_people_saving_one_incident_from_one_version_give_one_winner(race_mode, capsys):
    incident = IncidentFactory(detected_at=None, mitigated_at=None)
    clients = editors(incident.team)
    url = reverse("incidents:edit", args=[incident.number])
    codes = race_posts(clients, url, lambda i: _incident_data(incident, f"Title {i}"))
    report(capsys, f"{PEOPLE} incident saves answered {sorted(codes)}")
    assert sorted(codes) == [302] + [409] * (PEOPLE - 1)
    incident.refresh_from_db()
    assert incident.version == 2
    assert incident.title.startswith("Title ")


@race
@pytest.mark.django_db(transaction=True)
def test_five_people_saving_one_timeline_event_give_one_winner(race_mode, capsys):
    event = TimelineEventFactory()
    clients = editors(event.incident.team)
    url = reverse("incidents:timeline-edit", args=[event.incident.number, event.pk])

    def data(i):
        return {
            "occurred_at": event.occurred_at.strftime("%Y-%m-%dT%H:%M"),
            "phase": "detection",
            "text": f"Alert fired ({i})",
            "source": "alert",
            "source_detail": "",
            "loaded_version": event.version,
        }

    codes = race_posts(clients, url, data, headers={"HX-Request": "true"})
    report(capsys, f"{PEOPLE} timeline event saves answered {sorted(codes)}")
    assert sorted(codes) == [200] + [409] * (PEOPLE - 1)
    event.refresh_from_db()
    assert event.version == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("in_every_team")
def test_a_refused_incident_save_keeps_the_typed_form_and_says_what_changed(client, user):
    incident = IncidentFactory(detected_at=None, mitigated_at=None, title="Original")
    loaded = _incident_data(incident, "My title")
    Incident.objects.filter(pk=incident.pk).update(title="Their title", version=2)
    client.force_login(user)
    response = client.post(reverse("incidents:edit", args=[incident.number]), loaded)
    body = response.content.decode()
    assert response.status_code == 409
    assert 'value="My title"' in body
    assert "Title: “Their title”" in body
    if not REAL:
        assert Incident.objects.get(pk=incident.pk).title == "Their title"


@pytest.mark.django_db
def test_a_timeline_event_deleted_meanwhile_answers_404_not_500(client, user):
    event = TimelineEventFactory()
    url = reverse("incidents:timeline-edit", args=[event.incident.number, event.pk])
    client.force_login(user)
    TimelineEvent.objects.filter(pk=event.pk).delete()
    response = client.post(url, {"text": "x", "occurred_at": "2026-03-02T10:00"})
    assert response.status_code == 404
