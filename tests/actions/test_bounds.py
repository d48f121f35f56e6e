"""Bounded input on the action item side: dashboard, calendar feed, import, items, webhooks."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from actions.models import ActionItem, CalendarFeed, WebhookEndpoint
from incidents import bounds
from incidents.models import Profile, TimelineEvent
from postmortems.models import Postmortem

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
)
from .test_markdown_views import DOC

pytestmark = pytest.mark.django_db


def _east(user):
    Profile.objects.update_or_create(user=user, defaults={"timezone": "Asia/Tokyo"})


@pytest.mark.parametrize(
    "start,end",
    [("9999-12-01", "9999-12-31"), ("2100-12-01", "2100-12-31"), ("0001-01-01", "0001-01-31")],
)
@pytest.mark.usefixtures("in_every_team")
def test_a_dashboard_custom_range_at_the_ends_of_the_calendar_answers(client, user, start, end):
    _east(user)
    client.force_login(user)
    params = {"range": "custom", "start": start, "end": end}
    response = client.get(reverse("actions:dashboard"), params)
    assert response.status_code == 200
    if start.startswith(("9999", "0001")):
        assert "between 1970-01-01 and 2100-12-31" in response.content.decode()
    for kind in ["items", "incidents"]:
        assert client.get(reverse("actions:dashboard-rows", args=[kind]), params).status_code in (
            200,
            404,
        )


def test_the_calendar_feed_answers_although_an_item_was_stored_due_9999_12_31(client, user):
    item = ActionItemFactory(owner=user, title="Far away")
    ActionItem.objects.filter(pk=item.pk).update(due_on=date(9999, 12, 31))
    feed = CalendarFeed.objects.create(user=user)
    assert client.get(feed.get_absolute_url()).status_code == 200
    # The migration brings the row into range; then it is in the feed again, on the last day.
    bounds.clamp_stored(ActionItem, ["due_on", "completed_at"])
    response = client.get(feed.get_absolute_url())
    assert response.status_code == 200
    assert b"Far away" in response.content and b"21001231" in response.content


def test_an_item_cannot_be_made_due_in_year_9999(client, user):
    item = ActionItemFactory(owner=user)
    client.force_login(user)
    response = client.post(
        reverse("actions:due", args=[item.pk]), {"due_on": "9999-12-31", "reason": "later"}
    )
    assert response.status_code == 422
    assert "between 1970-01-01 and 2100-12-31" in response.content.decode()
    assert ActionItem.objects.get(pk=item.pk).due_on == item.due_on


def test_a_postmortem_page_with_an_edge_timeline_event_answers_east_of_utc(client, user):
    pm = PostmortemFactory()
    event = TimelineEventFactory(incident=pm.incident)
    TimelineEvent.objects.filter(pk=event.pk).update(
        occurred_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    )
    bounds.clamp_stored(TimelineEvent, ["occurred_at"])
    _east(user)
    client.force_login(user)
    assert client.get(reverse("postmortems:detail", args=[pm.incident.number])).status_code == 200
    assert client.get(pm.incident.get_absolute_url()).status_code == 200


@pytest.fixture
def incident():
    start = datetime(2026, 3, 26, 13, 55, tzinfo=UTC)
    return IncidentFactory(started_at=start, resolved_at=start + timedelta(hours=1))


@pytest.mark.usefixtures("in_every_team")
def test_a_nul_byte_in_an_imported_markdown_file_is_refused_on_confirm(client, user, incident):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(user)
    upload = SimpleUploadedFile("pm.md", DOC.replace("4,100", "4,1\x0000").encode())
    response = client.post(
        reverse("actions:postmortem-import", args=[incident.number]),
        {"file": upload, "confirm": "1", "owner_fallback": user.username},
    )
    assert response.status_code == 422
    assert "control character (U+0000)" in response.content.decode()
    assert not Postmortem.objects.filter(incident=incident).exists()


@pytest.mark.usefixtures("in_every_team")
def test_a_nul_byte_in_pasted_markdown_is_refused_and_the_text_kept(client, user, incident):
    client.force_login(user)
    text = DOC.replace("4,100", "4,1\x0000")
    response = client.post(
        reverse("actions:postmortem-import", args=[incident.number]),
        {"text": text, "confirm": "1", "owner_fallback": user.username},
    )
    assert response.status_code == 422
    assert "Checkout returned 503s" in response.content.decode()
    assert not Postmortem.objects.filter(incident=incident).exists()


def test_an_import_with_a_year_one_date_is_refused_at_the_service():
    from django.core.exceptions import ValidationError

    from actions.markdown.parse import parse_postmortem_markdown
    from actions.markdown.save import check_bounds

    result = parse_postmortem_markdown(DOC, users=[], tz=UTC)
    result.started_at = datetime(1, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError):
        check_bounds(result)


def test_a_webhook_retry_of_a_garbled_delivery_answers_400_not_500(client):
    manager = UserFactory()
    team = TeamFactory()
    team.managers.add(manager)
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/x", team=team)
    client.force_login(manager)
    response = client.post(
        reverse("actions:webhook-change", args=[endpoint.pk]),
        {"action": "retry", "delivery": "abc"},
    )
    assert response.status_code == 400


def test_an_outsider_gets_404_for_an_import_whatever_the_input(client, incident):
    incident.private = True
    incident.save()
    client.force_login(UserFactory())
    response = client.post(
        reverse("actions:postmortem-import", args=[incident.number]), {"text": "\x00"}
    )
    assert response.status_code == 404
