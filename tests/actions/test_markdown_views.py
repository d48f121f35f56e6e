from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from postmortems.models import Postmortem

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    TimelineEventFactory,
    UserFactory,
    on_team,
)

pytestmark = pytest.mark.django_db

DOC = """# Checkout outage

**Severity:** SEV2
**Date:** 2026-03-26
**Author:** @alice

## Summary
Checkout returned 503s for 42 minutes after a config push.

## Impact
4,100 failed checkouts.

## Timeline
| Time (UTC) | Event | Source |
|---|---|---|
| 14:02 | Alert fired: checkout 5xx above 2% | alert |
| 14:40 | Rolled back config 4411 | deploy |

## Contributing factors
- Technical: the config loader accepted an empty upstream list.

## Action items
| Action | Owner | Due | Priority | Ticket |
|---|---|---|---|---|
| Reject empty upstream lists in the config loader | @alice | 2026-04-30 | P1 | OPS-7 |
| Add an alert on empty upstream pools | @nobody-here | 2026-04-30 | P2 | OPS-8 |

## Something else entirely
A line nobody maps.
"""


@pytest.fixture
def incident(user):
    start = datetime(2026, 3, 26, 13, 55, tzinfo=UTC)
    return on_team(IncidentFactory(started_at=start, resolved_at=start + timedelta(hours=1)), user)


def test_exporting_downloads_a_markdown_file(client, user):
    pm = PostmortemFactory(summary="Checkout failed for 42 minutes.")
    TimelineEventFactory(incident=pm.incident, text="Alert fired")
    ContributingFactorFactory(postmortem=pm)
    ActionItemFactory(postmortem=pm, title="Reject empty upstream lists")
    client.force_login(user)
    response = client.get(reverse("actions:postmortem-export", args=[pm.incident.number]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith('.md"')
    body = response.content.decode()
    assert pm.incident.title in body and "Reject empty upstream lists" in body


def test_an_import_preview_shows_what_was_mapped_and_what_was_not(client, user, incident):
    client.force_login(user)
    response = client.post(
        reverse("actions:postmortem-import", args=[incident.number]), {"text": DOC, "preview": "1"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Checkout outage" in body and "SEV2" in body
    assert "Rolled back config 4411" in body
    assert "the config loader accepted an empty upstream list" in body  # factors, by line
    assert "matches no user" in body  # @nobody-here
    assert "A line nobody maps." in body or "Something else entirely" in body
    assert not Postmortem.objects.filter(incident=incident).exists()


def test_importing_with_a_fallback_owner_fills_the_postmortem(client, user, incident):
    fallback = UserFactory(username="lead")
    client.force_login(user)
    response = client.post(
        reverse("actions:postmortem-import", args=[incident.number]),
        {"text": DOC, "confirm": "1", "owner_fallback": fallback.pk},
    )
    assert response.status_code == 302
    pm = Postmortem.objects.get(incident=incident)
    assert pm.summary.startswith("Checkout returned 503s")
    assert incident.timeline.count() == 2
    assert pm.factors.count() == 1
    owners = dict(pm.action_items.values_list("ticket_key", "owner__username"))
    assert owners == {"OPS-7": "alice", "OPS-8": "lead"}


def test_an_import_that_cannot_place_an_owner_is_refused_with_reasons(client, user, incident):
    client.force_login(user)
    response = client.post(
        reverse("actions:postmortem-import", args=[incident.number]), {"text": DOC, "confirm": "1"}
    )
    assert response.status_code == 422
    assert "owner and a due date" in response.content.decode()
    assert not Postmortem.objects.filter(incident=incident).exists()
    assert incident.timeline.count() == 0


def test_an_empty_import_is_refused_with_a_message(client, user, incident):
    client.force_login(user)
    response = client.post(
        reverse("actions:postmortem-import", args=[incident.number]), {"text": " "}
    )
    assert response.status_code == 422
    assert "Paste a Markdown postmortem or choose a file." in response.content.decode()


def test_export_then_import_gives_back_the_same_sections(client, user):
    source = PostmortemFactory(summary="Summary **text**.", impact="4,100 failed requests")
    TimelineEventFactory(incident=source.incident, text="Alert fired")
    client.force_login(user)
    exported = client.get(reverse("actions:postmortem-export", args=[source.incident.number]))
    target = on_team(IncidentFactory(started_at=source.incident.started_at), user)
    client.post(
        reverse("actions:postmortem-import", args=[target.number]),
        {"text": exported.content.decode(), "confirm": "1"},
    )
    pm = Postmortem.objects.get(incident=target)
    assert (pm.summary, pm.impact) == (source.summary, source.impact)
    assert list(target.timeline.values_list("text", flat=True)) == ["Alert fired"]


def test_non_members_cannot_export_or_import_a_private_postmortem(client, user, other_user):
    pm = PostmortemFactory(incident=IncidentFactory(private=True, members=[other_user]))
    client.force_login(user)
    number = pm.incident.number
    assert client.get(reverse("actions:postmortem-export", args=[number])).status_code == 404
    importing = reverse("actions:postmortem-import", args=[number])
    assert client.get(importing).status_code == 404
    assert client.post(importing, {"text": DOC, "confirm": "1"}).status_code == 404


UNDATED = """# Queue consumer crash loop

**Severity:** SEV2

## Timeline
- 16:05 Producer emits null currencies
- 16:12 Consumer lag alert pages on-call

## Action items

_Each action item should have one owner and a due date._

| Action | Owner | Due |
|---|---|---|
| Add dead letter handling | @platform-team | 2026-04-30 |
"""


def test_a_preview_of_an_undated_document_asks_for_the_date(client, user, incident):
    client.force_login(user)
    response = client.post(
        reverse("actions:postmortem-import", args=[incident.number]),
        {"text": UNDATED, "preview": "1"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="needs-date"' in body and 'name="incident_date"' in body
    assert "Time (day not given)" in body and "16:05" in body
    # Guidance is listed with what it is, and a team owner gets the editor's hint.
    assert "(template guidance)" in body and "Each action item should have one owner" in body
    assert "a team owning it means nobody does" in body


def test_an_undated_document_is_refused_until_the_date_is_given(client, user, incident):
    client.force_login(user)
    url = reverse("actions:postmortem-import", args=[incident.number])
    fallback = UserFactory(username="lead")
    refused = client.post(url, {"text": UNDATED, "confirm": "1", "owner_fallback": fallback.pk})
    assert refused.status_code == 422
    assert "gives no date" in refused.content.decode()
    assert incident.timeline.count() == 0
    response = client.post(
        url,
        {
            "text": UNDATED,
            "confirm": "1",
            "owner_fallback": fallback.pk,
            "incident_date": "2026-03-26",
        },
    )
    assert response.status_code == 302
    assert [e.occurred_at for e in incident.timeline.all()] == [
        datetime(2026, 3, 26, 16, 5, tzinfo=UTC),
        datetime(2026, 3, 26, 16, 12, tzinfo=UTC),
    ]


def test_a_document_over_the_size_limit_is_refused_and_the_text_kept(client, user, incident):
    from postmortems.forms import MAX_IMPORT_CHARS

    client.force_login(user)
    text = "# T\n\n" + "x" * MAX_IMPORT_CHARS
    response = client.post(
        reverse("actions:postmortem-import", args=[incident.number]), {"text": text, "preview": "1"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "longer than 100,000 characters" in body and "xxxxxxxxxx" in body
