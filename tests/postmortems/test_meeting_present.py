"""The presentation view: steps, the countdown, who drives, and the followers' poll."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions import meeting_items
from postmortems import meetings
from postmortems.models import ReviewMeeting

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    ReviewMeetingFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
    on_team,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}


def url(name: str, meeting: ReviewMeeting, *extra) -> str:
    return reverse(
        f"postmortems:{name}", args=[meeting.postmortem.incident.number, meeting.pk, *extra]
    )


def drive(client, meeting, action, **data):
    return client.post(url("meeting-control", meeting), {"action": action, **data}, headers=HTMX)


def fresh(meeting) -> ReviewMeeting:
    return ReviewMeeting.objects.get(pk=meeting.pk)


@pytest.fixture
def meeting(user):
    """Alice facilitates the review of a postmortem Bob's team wrote."""
    return ReviewMeetingFactory(facilitator=user, attendees=[user])


def test_the_presentation_view_is_full_window_and_sends_csrf_with_htmx(client, user, meeting):
    client.force_login(user)
    response = client.get(url("meeting-present", meeting))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="topbar"' not in page and 'aria-label="Main"' not in page  # no navigation
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    assert "css/meeting.css" in page and "js/meeting.js" in page
    assert "1/5</span> Ground rules" in page
    assert "5:00" in page and "Not started" in page
    assert page.count('class="seg ') == 5
    assert 'hx-trigger="every 2s"' in page and f"?v={meeting.version}" in page
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (0, ["Systems, not people.", "Every view is valid.", "The goal is learning."]),
        (1, ["2/5</span> Timeline walk-through", "Deploy 4411 rolled out", ">Correct<"]),
        (2, ["3/5</span> Contributing factors", "The config loader accepted", "careful person"]),
        (3, ["4/5</span> Action items", "Add a canary gate", "Dana Kim", "P1"]),
        (4, ["5/5</span> Close", "What changed in this meeting", "Publish by"]),
    ],
)
def test_each_agenda_step_shows_its_own_content(client, user, meeting, step, expected):
    pm = meeting.postmortem
    TimelineEventFactory(incident=pm.incident, text="Deploy 4411 rolled out")
    ContributingFactorFactory(postmortem=pm)
    owner = UserFactory(username="dana", first_name="Dana", last_name="Kim")
    ActionItemFactory(postmortem=pm, title="Add a canary gate", owner=owner)
    ReviewMeeting.objects.filter(pk=meeting.pk).update(step=step)
    client.force_login(user)
    page = client.get(url("meeting-present", meeting)).content.decode()
    for text in expected:
        assert text in page, text
    others = {1: "Deploy 4411 rolled out", 3: "Add a canary gate"}
    for other_step, text in others.items():
        if other_step != step:
            assert text not in page  # one step at a time


def test_followers_see_the_facilitators_step_without_controls(client, other_user, meeting):
    ReviewMeeting.objects.filter(pk=meeting.pk).update(step=2)
    client.force_login(other_user)
    page = client.get(url("meeting-present", meeting)).content.decode()
    assert "3/5</span> Contributing factors" in page
    assert "Following Alice Ng" in page
    assert 'id="controls"' not in page and 'data-driver="0"' in page


def test_a_follower_cannot_drive_the_steps(client, other_user, meeting):
    client.force_login(other_user)
    response = drive(client, meeting, "next")
    assert response.status_code == 403
    assert fresh(meeting).step == 0 and fresh(meeting).started_at is None
    response = client.post(url("meeting-publish-date", meeting), {"publish_by": "2030-01-01"})
    assert response.status_code == 403
    assert client.post(url("meeting-summary", meeting)).status_code == 403


@pytest.mark.parametrize("who", ["facilitator", "author", "admin"])
def test_the_facilitator_the_author_and_admins_can_drive(client, meeting, admin_user, who):
    person = {
        "facilitator": meeting.facilitator,
        "author": meeting.postmortem.author,
        "admin": admin_user,
    }[who]
    client.force_login(person)
    response = drive(client, meeting, "next")
    assert response.status_code == 200
    assert fresh(meeting).step == 1
    assert "2/5</span> Timeline walk-through" in response.content.decode()


def test_a_private_incidents_meeting_is_404_for_non_members(client, user, other_user):
    pm = PostmortemFactory(incident=IncidentFactory(private=True, members=[user]))
    meeting = ReviewMeetingFactory(postmortem=pm, facilitator=other_user)
    client.force_login(other_user)  # even as its facilitator, once no longer a member
    assert drive(client, meeting, "next").status_code == 404
    assert client.get(url("meeting-present", meeting)).status_code == 404
    assert client.get(url("meeting-state", meeting), {"v": 1}).status_code == 404
    item = {"title": "x", "owner": user.pk, "due_on": "2030-01-01", "priority": 1}
    assert (
        client.post(
            reverse("actions:meeting-item", args=[meeting.postmortem.incident.number, meeting.pk]),
            item,
        ).status_code
        == 404
    )
    assert (
        client.post(url("meeting-note", meeting), {"kind": "decision", "text": "x"}).status_code
        == 404
    )
    assert fresh(meeting).version == meeting.version
    client.force_login(user)
    assert client.get(url("meeting-present", meeting)).status_code == 200


def test_the_countdown_runs_pauses_extends_and_steps(client, user, meeting):
    client.force_login(user)
    with time_machine.travel(T0, tick=False) as clock:
        drive(client, meeting, "start")
        m = fresh(meeting)
        assert m.started_at == T0 and m.running_since == T0
        clock.shift(timedelta(seconds=90))
        assert fresh(meeting).remaining_seconds(T0 + timedelta(seconds=90)) == 210
        drive(client, meeting, "toggle")  # t: pause
        clock.shift(timedelta(minutes=10))  # paused time does not count
        m = fresh(meeting)
        assert m.running_since is None and m.times(0) == (90, 0)
        page = client.get(url("meeting-present", meeting)).content.decode()
        assert "3:30" in page and "Paused · left" in page
        drive(client, meeting, "toggle")  # t: resume
        drive(client, meeting, "extend")
        assert fresh(meeting).remaining_seconds(T0 + timedelta(minutes=11, seconds=30)) == 510
        clock.shift(timedelta(seconds=30))
        drive(client, meeting, "next")  # → or space
        m = fresh(meeting)
        assert m.step == 1 and m.times(0) == (120, 300) and m.running_since is not None
        clock.shift(timedelta(seconds=15))
        drive(client, meeting, "prev")  # ←: ground rules keeps its own time
        m = fresh(meeting)
        assert m.step == 0 and m.times(1) == (15, 0)
        drive(client, meeting, "goto", step="5")
        assert fresh(meeting).step == 4
        clock.shift(timedelta(minutes=3))
        drive(client, meeting, "end")
        m = fresh(meeting)
        assert m.ended_at is not None and m.running_since is None
        assert m.actual_duration == timedelta(minutes=15, seconds=15)  # wall time, pause included
        response = drive(client, meeting, "next")
        assert "The meeting has ended" in response.content.decode()
        assert fresh(meeting).step == 4


def test_an_overrun_is_said_in_words_not_only_colour(client, user, meeting):
    client.force_login(user)
    with time_machine.travel(T0, tick=False) as clock:
        drive(client, meeting, "start")
        clock.shift(timedelta(minutes=6, seconds=5))
        page = client.get(url("meeting-present", meeting)).content.decode()
    assert "timer is-over" in page
    assert "+1:05" in page and "Over time" in page


def test_the_state_endpoint_answers_204_while_nothing_changed(client, other_user, meeting):
    client.force_login(other_user)
    client.get(url("meeting-present", meeting))  # warm the session, as a follower's page would
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("meeting-state", meeting), {"v": meeting.version}, headers=HTMX)
    assert response.status_code == 204 and response.content == b""
    assert response["ETag"] == f'"meeting-{meeting.pk}-v{meeting.version}"'
    meeting_queries = [q for q in queries if "postmortems_reviewmeeting" in q["sql"]]
    # One small query for the meeting's version; the rest is the session and the user.
    assert len(meeting_queries) == 1
    sql = meeting_queries[0]["sql"]
    assert sql.startswith('SELECT "postmortems_reviewmeeting"."version"') and "ORDER BY" not in sql
    assert len(queries) <= 4
    etag = response["ETag"]
    response = client.get(url("meeting-state", meeting), headers={"If-None-Match": etag})
    assert response.status_code == 304


def test_the_state_endpoint_sends_the_new_step_and_highlights_what_was_captured(
    client, user, other_user, meeting
):
    ReviewMeeting.objects.filter(pk=meeting.pk).update(step=3)
    meeting.postmortem.incident.team.members.add(user)  # items are added by the team
    seen = fresh(meeting).version
    item = meeting_items.capture_item(
        meeting=fresh(meeting),
        by=user,
        title="Add a canary gate to checkout deploys",
        owner=other_user,
        due_on=datetime(2030, 1, 15).date(),
        priority=1,
        leverage="prevention",
    ).item
    client.force_login(other_user)
    response = client.get(url("meeting-state", meeting), {"v": seen}, headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'?v={seen + 1}"' in page  # the poller now asks from the new version
    assert 'id="deck"' in page and 'hx-swap-oob="true"' in page
    assert f'<tr id="item-{item.pk}" class="fresh">' in page
    assert "Add a canary gate to checkout deploys" in page and ">new<" in page
    # A follower who had already seen it gets no highlight.
    response = client.get(url("meeting-state", meeting), {"v": seen + 1}, headers=HTMX)
    assert response.status_code == 204


def _size(pm, n: int, owner):
    for i in range(n):
        TimelineEventFactory(incident=pm.incident, text=f"event {i}")
        ContributingFactorFactory(postmortem=pm, description=f"factor {i}")
        ActionItemFactory(postmortem=pm, owner=owner)


def _poll_queries(client, meeting, since) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("meeting-state", meeting), {"v": since}, headers=HTMX)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("step", [0, 1, 2, 3, 4])
def test_a_followers_poll_costs_the_same_with_5_or_50_rows(client, user, other_user, step):
    counts = []
    team = TeamFactory()
    team.members.add(user)  # the facilitator's team captures the decisions
    for n in (5, 50):
        meeting = ReviewMeetingFactory(
            facilitator=user, attendees=[user, other_user], postmortem__incident__team=team
        )
        _size(meeting.postmortem, n, owner=other_user)
        for i in range(n):  # as many captures as rows: the close step lists them all
            meetings.capture_decision(meeting=fresh(meeting), by=user, text=f"decision {i}")
        ReviewMeeting.objects.filter(pk=meeting.pk).update(step=step)
        client.force_login(other_user)
        client.get(url("meeting-present", meeting))
        counts.append(_poll_queries(client, meeting, since=1))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 10, counts


def test_the_presentation_page_costs_the_same_with_5_or_50_rows(client, user, other_user):
    counts = []
    for n in (5, 50):
        meeting = ReviewMeetingFactory(facilitator=user, attendees=[user])
        _size(meeting.postmortem, n, owner=other_user)
        ReviewMeeting.objects.filter(pk=meeting.pk).update(step=1)
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("meeting-present", meeting)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_every_post_needs_the_csrf_token(user, meeting):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    page = strict.get(url("meeting-present", meeting))
    assert strict.post(url("meeting-control", meeting), {"action": "next"}).status_code == 403
    assert fresh(meeting).step == 0
    token = page.context["csrf_token"]
    response = strict.post(
        url("meeting-control", meeting),
        {"action": "next"},
        headers={"X-CSRFToken": str(token), **HTMX},
    )
    assert response.status_code == 200 and fresh(meeting).step == 1


def test_a_deleted_facilitator_or_capture_author_leaves_the_views_working(client, user):
    gone = UserFactory(username="gone")
    meeting = ReviewMeetingFactory(facilitator=gone, attendees=[user])
    on_team(meeting.postmortem.incident, gone)
    meetings.capture_decision(meeting=fresh(meeting), by=gone, text="Keep the canary gate")
    gone.delete()  # facilitator and capture author are set to NULL, as the models say
    client.force_login(user)
    for step in range(5):
        ReviewMeeting.objects.filter(pk=meeting.pk).update(step=step)
        page = client.get(url("meeting-present", meeting)).content.decode()
        assert "Following the facilitator" in page and "Keep the canary gate" in page
    assert client.get(url("meeting-state", meeting), {"v": 1}, headers=HTMX).status_code == 200
    assert client.get(url("meeting", meeting)).status_code == 200
    assert client.get(url("meeting-invite", meeting)).status_code == 200
