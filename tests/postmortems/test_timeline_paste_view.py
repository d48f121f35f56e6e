from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from incidents.models import TimelineEvent

from ..factories import IncidentFactory, TimelineEventFactory, on_team

pytestmark = pytest.mark.django_db

PASTE = """14:02 — alert fired: checkout 5xx above 2%
14:05 - @alice acknowledged the page
this line has no time
| Time | Event | Source |
|---|---|---|
| 14:31 | errors back to normal | dashboard |
"""


@pytest.fixture
def incident(user):
    start = datetime(2026, 3, 26, 13, 55, tzinfo=UTC)
    return on_team(IncidentFactory(started_at=start, resolved_at=start + timedelta(hours=1)), user)


def _post(client, incident, text=PASTE, **extra):
    data = {"text": text, "day": "2026-03-26", "zone": "UTC", **extra}
    return client.post(reverse("postmortems:timeline-paste", args=[incident.number]), data)


def test_the_paste_page_defaults_to_the_incident_day(client, user, incident):
    client.force_login(user)
    body = client.get(reverse("postmortems:timeline-paste", args=[incident.number])).content
    assert b'value="2026-03-26"' in body


def test_a_preview_shows_what_would_be_added_and_what_was_unreadable(client, user, incident):
    client.force_login(user)
    response = _post(client, incident, preview="1")
    assert response.status_code == 200
    body = response.content.decode()
    assert "3 events will be added" in body
    assert "2026-03-26 14:02 UTC" in body and "errors back to normal" in body
    assert "line 3: this line has no time" in body
    assert not TimelineEvent.objects.exists()  # nothing saved before confirming


def test_confirming_adds_the_events_in_time_order(client, user, incident):
    client.force_login(user)
    response = _post(client, incident, confirm="1")
    assert response.status_code == 302
    events = list(incident.timeline.all())
    assert [e.occurred_at.strftime("%H:%M") for e in events] == ["14:02", "14:05", "14:31"]
    assert {e.origin for e in events} == {TimelineEvent.Origin.PASTE}
    assert events[0].author == user


def test_confirming_by_htmx_leaves_the_page_with_a_client_redirect(client, user, incident):
    client.force_login(user)
    response = client.post(
        reverse("postmortems:timeline-paste", args=[incident.number]),
        {"text": "14:40 resolved", "day": "2026-03-26", "zone": "UTC", "confirm": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].endswith("#timeline")


def test_lines_already_on_the_timeline_are_left_out(client, user, incident):
    TimelineEventFactory(
        incident=incident,
        occurred_at=datetime(2026, 3, 26, 14, 2, tzinfo=UTC),
        text="alert fired: checkout 5xx above 2%",
    )
    client.force_login(user)
    body = _post(client, incident, preview="1").content.decode()
    assert "2 events will be added" in body and "is already on the timeline" in body


def test_an_empty_paste_is_refused_with_a_message(client, user, incident):
    client.force_login(user)
    response = _post(client, incident, text="", preview="1")
    assert response.status_code == 422
    assert "Paste some timeline lines first." in response.content.decode()


def test_non_members_cannot_paste_into_a_private_incident(client, user, other_user):
    incident = IncidentFactory(private=True, members=[other_user])
    client.force_login(user)
    url = reverse("postmortems:timeline-paste", args=[incident.number])
    assert client.get(url).status_code == 404
    assert _post(client, incident, confirm="1").status_code == 404
    assert not TimelineEvent.objects.exists()


def test_pasting_the_same_lines_again_says_they_are_already_there(client, user, incident):
    client.force_login(user)
    _post(client, incident, confirm="1")
    body = _post(client, incident, preview="1").content.decode()
    assert "Nothing new to add" in body and "is already on the timeline" in body
    assert "No line had a time" not in body
