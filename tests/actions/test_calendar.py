from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from actions import calendar
from actions.models import CalendarFeed

from ..factories import ActionItemFactory, IncidentFactory

pytestmark = pytest.mark.django_db


def _events(response):
    cal = Calendar.from_ical(response.content)
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}


def test_the_feed_lists_my_open_items_on_their_due_dates(client, user, other_user):
    due = timezone.localdate() + timedelta(days=5)
    mine = ActionItemFactory(owner=user, due_on=due, title="Add the canary gate")
    ActionItemFactory(owner=user, status="done", completed_at=timezone.now(), title="Finished")
    ActionItemFactory(owner=other_user, title="Not mine")
    feed = CalendarFeed.objects.create(user=user)
    response = client.get(feed.get_absolute_url())  # no login: calendar apps cannot log in
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = _events(response)
    [summary] = events
    assert summary == f"[P1] Add the canary gate ({mine.postmortem.incident.reference})"
    assert events[summary]["dtstart"].dt == due
    assert str(events[summary]["url"]).endswith(mine.get_absolute_url())


def test_the_feed_leaves_out_private_incidents_i_cannot_see(client, user):
    ActionItemFactory(owner=user, postmortem__incident=IncidentFactory(private=True))
    feed = CalendarFeed.objects.create(user=user)
    assert _events(client.get(feed.get_absolute_url())) == {}


def test_resetting_or_revoking_kills_the_old_address(client, user):
    client.force_login(user)
    client.post(reverse("actions:calendar"), {"action": "create"})
    old = CalendarFeed.objects.get(user=user).get_absolute_url()
    assert client.get(old).status_code == 200
    client.post(reverse("actions:calendar"), {"action": "reset"})
    assert client.get(old).status_code == 404
    new = CalendarFeed.objects.get(user=user).get_absolute_url()
    assert new != old and client.get(new).status_code == 200
    client.post(reverse("actions:calendar"), {"action": "revoke"})
    assert client.get(new).status_code == 404
    assert "No calendar feed yet" in client.get(reverse("actions:calendar")).content.decode()


def test_a_guessed_token_finds_nothing(client, db):
    assert client.get(reverse("actions:calendar-feed", args=["not-a-token"])).status_code == 404


def test_only_the_owner_opens_or_revokes_their_feed(user, other_user):
    feed = calendar.open_calendar_feed(user=user, by=user)
    with pytest.raises(PermissionDenied):
        calendar.open_calendar_feed(user=user, by=other_user)
    with pytest.raises(PermissionDenied):
        calendar.revoke_calendar_feed(user=user, by=other_user)
    assert CalendarFeed.objects.get(user=user).token == feed.token
    calendar.revoke_calendar_feed(user=user, by=user)
    assert not CalendarFeed.objects.filter(user=user).exists()
