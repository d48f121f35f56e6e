"""Every route that changes a postmortem answers outsiders the same way, whichever URL they use.

A person outside a private incident gets 404 on every route and changes nothing. A person who
can see an incident but is outside its team is refused (403) every action item change, whether
it comes through /actions/, the postmortem editor, a review meeting or a Markdown import; and
only reviewers approve or request changes, only authors, the commander, the
team's managers or admins publish and reopen, only drivers drive a meeting. A new route that
is missing from the table below fails `test_the_table_covers_every_postmortem_route`.
"""

from datetime import timedelta

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from actions.models import ActionItem
from postmortems import services
from postmortems.models import MeetingCapture, Postmortem

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    ReviewMeetingFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ITEM = {
    "title": "Add a config validation check to the deploy pipeline",
    "due_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
    "priority": 1,
    "leverage": "prevention",
    "ticket_key": "OPS-142",
}
DOC = "# Checkout outage\n\n## Summary\nAn outsider's text.\n\n## Action items\n- Add a check\n"


def _world(*, private: bool):
    """An incident of the checkout team with a full postmortem; `insider` is on the team."""
    insider = UserFactory()
    team = TeamFactory()
    team.members.add(insider)
    incident = IncidentFactory(team=team, private=private, members=[insider] if private else [])
    postmortem = PostmortemFactory(incident=incident, author=insider)
    services.save_section(postmortem=postmortem, section="summary", text="v1", base=0, by=insider)
    event = TimelineEventFactory(incident=incident)
    factor = ContributingFactorFactory(postmortem=postmortem)
    item = ActionItemFactory(postmortem=postmortem, owner=insider, created_by=insider)
    meeting = ReviewMeetingFactory(postmortem=postmortem, facilitator=insider, attendees=[insider])
    other = IncidentFactory(team=team)
    incident.related.add(other)
    return {
        "insider": insider,
        "incident": incident,
        "postmortem": postmortem,
        "event": event,
        "factor": factor,
        "item": item,
        "meeting": meeting,
        "other": other,
        "revision": postmortem.revisions.get(number=1),
    }


def _routes(w) -> dict[str, tuple[str, dict]]:
    """Every postmortem write route: name → (url, data a member could post)."""
    n = w["incident"].number
    m = w["meeting"].pk
    owner = w["insider"].pk
    return {
        "postmortems:start": (reverse("postmortems:start", args=[n]), {}),
        "postmortems:timeline-paste": (
            reverse("postmortems:timeline-paste", args=[n]),
            {"text": "14:02 deploy started", "day": "2026-03-01", "zone": "UTC", "confirm": "1"},
        ),
        "postmortems:section": (
            reverse("postmortems:section", args=[n, "summary"]),
            {"text": "An outsider's text.", "base": 1},
        ),
        "postmortems:restore": (reverse("postmortems:restore", args=[n, w["revision"].pk]), {}),
        "postmortems:presence": (
            reverse("postmortems:presence", args=[n]),
            {"section": "summary"},
        ),
        "postmortems:factor-add": (
            reverse("postmortems:factor-add", args=[n]),
            {"category": "technical", "description": "An outsider's factor."},
        ),
        "postmortems:factor-edit": (
            reverse("postmortems:factor-edit", args=[n, w["factor"].pk]),
            {"category": "process", "description": "Changed by an outsider."},
        ),
        "postmortems:factor-delete": (
            reverse("postmortems:factor-delete", args=[n, w["factor"].pk]),
            {},
        ),
        "postmortems:authors": (reverse("postmortems:authors", args=[n]), {"author": owner}),
        "postmortems:review": (reverse("postmortems:review", args=[n]), {"reviewers": owner}),
        "postmortems:approve": (reverse("postmortems:approve", args=[n]), {}),
        "postmortems:request-changes": (
            reverse("postmortems:request-changes", args=[n]),
            {"text": "An outsider's request."},
        ),
        "postmortems:reopen": (
            reverse("postmortems:reopen", args=[n]),
            {"reason": "An outsider's reason.", "to_status": "in_review"},
        ),
        "postmortems:publish": (
            reverse("postmortems:publish", args=[n]),
            {"override_reason": "outsider"},
        ),
        "postmortems:comment": (
            reverse("postmortems:comment", args=[n]),
            {"section": "summary", "text": "An outsider's comment."},
        ),
        "postmortems:related-add": (
            reverse("postmortems:related-add", args=[n]),
            {"reference": f"INC-{w['other'].number}"},
        ),
        "postmortems:related-remove": (
            reverse("postmortems:related-remove", args=[n, w["other"].number]),
            {},
        ),
        "postmortems:meeting-schedule": (
            reverse("postmortems:meeting-schedule", args=[n]),
            {"scheduled_at": "2030-01-01T10:00", "facilitator": owner, "attendees": owner},
        ),
        "postmortems:meeting-control": (
            reverse("postmortems:meeting-control", args=[n, m]),
            {"action": "next"},
        ),
        "postmortems:meeting-event": (
            reverse("postmortems:meeting-event", args=[n, m]),
            {
                "occurred_at": "2026-03-01T14:00",
                "text": "x",
                "source": "chat",
                "phase": "detection",
            },
        ),
        "postmortems:meeting-correct-event": (
            reverse("postmortems:meeting-correct-event", args=[n, m, w["event"].pk]),
            {
                "occurred_at": "2026-03-01T14:00",
                "text": "x",
                "source": "chat",
                "phase": "detection",
            },
        ),
        "postmortems:meeting-factor": (
            reverse("postmortems:meeting-factor", args=[n, m]),
            {"category": "technical", "description": "An outsider's factor."},
        ),
        "postmortems:meeting-note": (
            reverse("postmortems:meeting-note", args=[n, m]),
            {"kind": "note", "text": "An outsider's note.", "section": "summary"},
        ),
        "postmortems:meeting-publish-date": (
            reverse("postmortems:meeting-publish-date", args=[n, m]),
            {"publish_by": "2030-01-01"},
        ),
        "postmortems:meeting-summary": (reverse("postmortems:meeting-summary", args=[n, m]), {}),
        "actions:postmortem-item-add": (
            reverse("actions:postmortem-item-add", args=[n]),
            {**ITEM, "owner": owner},
        ),
        "actions:postmortem-item-edit": (
            reverse("actions:postmortem-item-edit", args=[n, w["item"].pk]),
            {**ITEM, "owner": owner, "title": "Renamed by an outsider"},
        ),
        "actions:meeting-item": (
            reverse("actions:meeting-item", args=[n, m]),
            {**ITEM, "owner": owner},
        ),
        "actions:postmortem-import": (
            reverse("actions:postmortem-import", args=[n]),
            {
                "text": DOC,
                "confirm": "1",
                "force": "on",
                "owner_fallback": w["insider"].username,
                "default_due": "+14",
            },
        ),
    }


# Routes that only read: GET pages, feeds and the old addresses that redirect.
READ_ONLY = {
    "postmortems:list",
    "postmortems:detail",
    "postmortems:edit",
    "postmortems:related-suggestions",
    "postmortems:history",
    "postmortems:section-fresh",
    "postmortems:meeting",
    "postmortems:meeting-invite",
    "postmortems:meeting-present",
    "postmortems:meeting-state",
    "postmortems:meeting-warnings",
    "actions:postmortem-export",
}


def _fingerprint(w) -> tuple:
    postmortem = Postmortem.objects.get(pk=w["postmortem"].pk)
    item = ActionItem.objects.get(pk=w["item"].pk)
    return (
        postmortem.version,
        postmortem.status,
        postmortem.author_id,
        list(postmortem.co_authors.values_list("pk", flat=True)),
        postmortem.reopenings.count(),
        postmortem.revisions.count(),
        list(postmortem.factors.values_list("pk", "category", "description")),
        list(postmortem.action_items.values_list("pk", "title")),
        postmortem.comments.count(),
        postmortem.approvals.count(),
        postmortem.reviewers.count(),
        postmortem.meetings.count(),
        MeetingCapture.objects.filter(meeting=w["meeting"]).count(),
        list(w["incident"].timeline.values_list("pk", "text")),
        list(w["incident"].related.values_list("pk", flat=True)),
        (item.title, item.owner_id, item.due_on),
    )


def test_the_table_covers_every_postmortem_route():
    w = _world(private=False)
    resolver = get_resolver()
    names = set()
    for namespace in ("postmortems", "actions"):
        _, sub = resolver.namespace_dict[namespace]
        for name in sub.reverse_dict:
            if isinstance(name, str) and (
                namespace == "postmortems"
                or name.startswith("postmortem-")
                or name == "meeting-item"
            ):
                names.add(f"{namespace}:{name}")
    assert names == set(_routes(w)) | READ_ONLY


def test_a_non_member_of_a_private_incident_gets_404_on_every_route_and_changes_nothing(client):
    w = _world(private=True)
    outsider = UserFactory()
    client.force_login(outsider)
    before = _fingerprint(w)
    for name, (url, data) in _routes(w).items():
        assert client.post(url, data).status_code == 404, name
        assert client.post(url, data, headers={"HX-Request": "true"}).status_code == 404, name
    n, m = w["incident"].number, w["meeting"].pk
    for url in [
        reverse("postmortems:detail", args=[n]),
        reverse("postmortems:edit", args=[n]),
        reverse("postmortems:related-suggestions", args=[n]),
        reverse("postmortems:history", args=[n]),
        reverse("postmortems:section-fresh", args=[n, "summary"]) + "?since=0",
        reverse("postmortems:meeting", args=[n, m]),
        reverse("postmortems:meeting-present", args=[n, m]),
        reverse("actions:postmortem-export", args=[n]),
        reverse("actions:postmortem-import", args=[n]),
    ]:
        assert client.get(url).status_code == 404, url
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 404, url
    assert _fingerprint(w) == before


REFUSED_TO_OUTSIDERS = [
    "actions:postmortem-item-add",
    "actions:postmortem-item-edit",
    "actions:meeting-item",
    "actions:postmortem-import",
    "postmortems:approve",
    "postmortems:request-changes",
    "postmortems:publish",
    "postmortems:reopen",
    "postmortems:meeting-control",
    "postmortems:meeting-publish-date",
    "postmortems:meeting-summary",
]


@pytest.mark.parametrize("name", REFUSED_TO_OUTSIDERS)
@pytest.mark.parametrize("htmx", [False, True])
def test_an_outsider_who_can_see_the_incident_is_refused_and_changes_nothing(client, name, htmx):
    w = _world(private=False)
    w["postmortem"].status = Postmortem.Status.IN_REVIEW
    w["postmortem"].save(update_fields=["status"])
    w["meeting"].ended_at = timezone.now()
    w["meeting"].save(update_fields=["ended_at"])
    if name in {"actions:meeting-item", "postmortems:meeting-control"}:
        w["meeting"].ended_at = None
        w["meeting"].save(update_fields=["ended_at"])
    client.force_login(UserFactory())
    before = _fingerprint(w)
    url, data = _routes(w)[name]
    headers = {"HX-Request": "true"} if htmx else {}
    assert client.post(url, data, headers=headers).status_code == 403
    assert _fingerprint(w) == before


def test_an_outsider_is_not_offered_the_item_edit_form(client):
    w = _world(private=False)
    client.force_login(UserFactory())
    url = reverse("actions:postmortem-item-edit", args=[w["incident"].number, w["item"].pk])
    assert client.get(url).status_code == 403
    client.force_login(w["insider"])
    page = client.get(url)  # without JavaScript: the whole editor, this item's form open
    assert page.status_code == 200
    assert 'action="/actions/postmortems/' in page.content.decode()
    assert f'value="{w["item"].title}"' in page.content.decode()


def test_without_javascript_the_factor_edit_link_opens_the_form_in_the_editor(client):
    w = _world(private=False)
    client.force_login(w["insider"])
    url = reverse("postmortems:factor-edit", args=[w["incident"].number, w["factor"].pk])
    page = client.get(url)
    assert page.status_code == 200
    assert f'action="{url}"' in page.content.decode()


@pytest.mark.parametrize(
    "name", ["actions:postmortem-item-add", "actions:meeting-item", "actions:postmortem-import"]
)
def test_the_team_adds_items_through_the_editor_the_meeting_and_an_import(client, name):
    w = _world(private=False)
    client.force_login(w["insider"])
    url, data = _routes(w)[name]
    before = w["postmortem"].action_items.count()
    response = client.post(url, data)
    assert response.status_code == 302  # back to the editor or the meeting, with a message
    assert w["postmortem"].action_items.count() == before + 1
