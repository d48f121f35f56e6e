import json
from datetime import UTC, date, datetime
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from actions.models import ActionItem
from incidents.models import Incident, TimelineEvent
from postmortems.models import ContributingFactor, Postmortem
from tests.factories import IncidentFactory, PostmortemFactory, TeamFactory, UserFactory

SAMPLES = Path(__file__).parent / "samples"
CHECKBOX = str(SAMPLES / "checkbox_actions.md")
PAGERDUTY = str(SAMPLES / "pagerduty_style.md")


@pytest.fixture
def people(db):
    names = [
        ("alice", "Alice", "Ng"),
        ("bob", "Bob", "Reyes"),
        ("carol", "Carol", "Diaz"),
        ("dana", "Dana", "Okafor"),
        ("lwong", "Lee", "Wong"),
    ]
    return {
        name: UserFactory(username=name, first_name=first, last_name=last)
        for name, first, last in names
    }


def run(*args) -> str:
    out = StringIO()
    call_command("import_postmortem", *args, stdout=out)
    return out.getvalue()


def run_json(*args) -> dict:
    return json.loads(run(*args, "--json"))


def nothing_written():
    return not (
        Incident.objects.exists()
        or Postmortem.objects.exists()
        or TimelineEvent.objects.exists()
        or ContributingFactor.objects.exists()
        or ActionItem.objects.exists()
    )


def test_a_dry_run_prints_the_summary_as_json_and_writes_nothing(people):
    summary = run_json(CHECKBOX, "--dry-run")
    assert {
        "title",
        "severity",
        "sections",
        "timeline_events",
        "contributing_factors",
        "action_items",
        "unmapped",
        "warnings",
        "problems",
    } <= set(summary)
    assert summary["title"] == "Internal DNS returned empty answers for service names"
    assert summary["severity"] == 3
    assert summary["sections"] == ["summary", "impact"]
    assert summary["timeline_events"]["count"] == 4
    assert summary["timeline_events"]["events"][1] == {
        "occurred_at": "2026-03-18T10:07:00+00:00",
        "text": "Alert fired: elevated NXDOMAIN rate on internal zones",
        "source": "alert",
        "source_detail": "",
        "phase": "detection",
        "line": 21,
    }
    assert summary["contributing_factors"][2] == {
        "category": "testing",
        "description": "the resolver smoke test only queries public names",
        "whys": [],
    }
    first = summary["action_items"][0]
    assert (first["owner"], first["due"], first["ticket_key"], first["status"]) == (
        "alice",
        "2026-04-10",
        "NET-311",
        "open",
    )
    assert nothing_written()


def test_a_dry_run_lists_action_items_that_cannot_be_saved(people):
    summary = run_json(CHECKBOX, "--dry-run")
    assert summary["problems"] == [
        "line 45 'Review TTLs on internal zones (platform team)': no owner; no due date",
        "Give --incident INC-… to fill an existing incident, or --team SLUG.",
    ]


def test_without_dry_run_problems_refuse_the_import_and_nothing_is_written(people):
    team = TeamFactory(slug="platform")
    with pytest.raises(CommandError) as raised:
        run(CHECKBOX, "--team", "platform")
    message = str(raised.value)
    assert "Nothing was imported" in message
    assert "Review TTLs on internal zones (platform team)" in message
    assert "--owner-fallback" in message
    assert not Incident.objects.filter(team=team).exists()
    assert nothing_written()


def test_fallbacks_let_the_import_create_a_new_incident(people):
    TeamFactory(slug="platform")
    with time_machine.travel(datetime(2026, 3, 20, 9, 0, tzinfo=UTC), tick=False):
        summary = run_json(
            CHECKBOX,
            "--team",
            "platform",
            "--user",
            "bob",
            "--owner-fallback",
            "carol",
            "--default-due",
            "+14",
        )
    incident = Incident.objects.get()
    assert summary["imported"]["incident"] == incident.reference
    assert summary["imported"]["created_incident"] is True
    assert (summary["imported"]["timeline_events"], summary["imported"]["action_items"]) == (4, 5)
    assert incident.title == "Internal DNS returned empty answers for service names"
    assert incident.started_at == datetime(2026, 3, 18, 10, 3, tzinfo=UTC)
    assert incident.resolved_at == datetime(2026, 3, 18, 10, 28, tzinfo=UTC)
    assert incident.created_by == people["bob"]
    item = incident.postmortem.action_items.get(title__startswith="Review TTLs")
    assert (item.owner, item.due_on) == (people["carol"], date(2026, 4, 3))
    assert item.created_by == people["bob"]


def test_an_import_fills_the_postmortem_of_an_existing_incident(people):
    incident = IncidentFactory(number=1042)
    summary = run_json(
        PAGERDUTY,
        "--incident",
        "INC-1042",
        "--owner-fallback",
        "lwong",
        "--default-due",
        "2026-02-28",
    )
    assert summary["imported"]["created_incident"] is False
    postmortem = Postmortem.objects.get(incident=incident)
    assert postmortem.status == "in_review"
    assert postmortem.summary.startswith("Webhook deliveries from our payment provider")
    assert incident.timeline.count() == 6
    assert postmortem.factors.count() == 3
    assert sorted(postmortem.action_items.values_list("due_on", flat=True)) == [
        date(2026, 1, 16),
        date(2026, 1, 28),
        date(2026, 2, 28),
    ]
    assert Incident.objects.count() == 1


def test_the_incident_can_be_named_by_number_alone(people):
    IncidentFactory(number=1042)
    summary = run_json(PAGERDUTY, "--dry-run", "--incident", "1042")
    assert "Give --incident" not in " ".join(summary["problems"])


def test_an_incident_whose_postmortem_has_content_is_refused_unless_forced(people):
    postmortem = PostmortemFactory(
        summary="Written by hand.", incident=IncidentFactory(number=1042)
    )
    args = [PAGERDUTY, "--incident", "INC-1042", "--owner-fallback", "lwong", "--default-due", "+7"]

    dry = run_json(*args, "--dry-run")
    assert "INC-1042 already has summary; use --force." in dry["problems"]
    with pytest.raises(CommandError, match="INC-1042 already has summary; use --force."):
        run(*args)
    postmortem.refresh_from_db()
    assert postmortem.summary == "Written by hand."

    run(*args, "--force")
    postmortem.refresh_from_db()
    assert postmortem.summary.startswith("Webhook deliveries")


def test_an_empty_existing_postmortem_is_filled_without_force(people):
    PostmortemFactory(summary="", incident=IncidentFactory(number=1042))
    run(PAGERDUTY, "--incident", "INC-1042", "--owner-fallback", "lwong", "--default-due", "+7")
    assert Postmortem.objects.get().summary.startswith("Webhook deliveries")


def test_a_new_incident_from_a_document_without_severity_needs_one(people):
    TeamFactory(slug="search")
    google = str(SAMPLES / "google_sre_style.md")
    fallbacks = ["--owner-fallback", "bob", "--default-due", "priority"]
    with pytest.raises(CommandError, match="no severity"):
        run(google, "--team", "search", *fallbacks)
    assert not Incident.objects.exists()
    run(google, "--team", "search", "--severity", "2", *fallbacks)
    assert Incident.objects.get().severity == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.md", "--dry-run"], "Cannot read missing.md"),
        ([CHECKBOX, "--incident", "INC-9999"], "--incident: no incident 'INC-9999'."),
        ([CHECKBOX, "--team", "nope"], "--team: no team with slug 'nope'."),
        ([CHECKBOX, "--owner-fallback", "ghost"], "--owner-fallback: no active user 'ghost'."),
        ([CHECKBOX, "--dry-run", "--user", "ghost"], "--user: no active user 'ghost'."),
        ([CHECKBOX, "--default-due", "soon"], "--default-due: 'soon' is not a due date rule"),
        ([CHECKBOX, "--tz", "Mars/Olympus"], "Unknown time zone 'Mars/Olympus'."),
    ],
)
def test_bad_arguments_are_clear_errors(people, args, message):
    with pytest.raises(CommandError) as raised:
        run(*args)
    assert message in str(raised.value)
    assert nothing_written()


def test_the_readable_report_shows_what_was_and_was_not_understood(people):
    out = run(str(SAMPLES / "atlassian_style.md"), "--dry-run")
    assert "Title: SSO logins failing for enterprise customers" in out
    assert "Severity: SEV1" in out
    assert "Sections: summary, impact, root_cause, detection, lessons" in out
    assert "Timeline events: 6" in out
    assert "Not understood:\n  line 11: | Affected service | identity |" in out
    assert "owner Marta Silva (unmatched)" in out  # no user of that name here
    assert "Problems:" in out


def test_the_time_zone_option_places_unmarked_times(people, tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# T\n\nSeverity: SEV3\nDate: 2026-07-01\n\n## Timeline\n\n- 14:02 started\n")
    summary = run_json(str(doc), "--dry-run", "--tz", "Europe/London")
    assert summary["timeline_events"]["events"][0]["occurred_at"] == "2026-07-01T13:02:00+00:00"
    assert summary["started_at"] == "2026-07-01T13:02:00+00:00"


UNDATED = "# Crash loop\n\n**Severity:** SEV2\n\n## Timeline\n\n- 16:05 Consumer restarts\n"


def test_an_undated_document_needs_date_before_it_is_imported(db, tmp_path):
    path = tmp_path / "undated.md"
    path.write_text(UNDATED)
    team = TeamFactory()
    with pytest.raises(CommandError, match="--date"):
        run(str(path), "--team", team.slug)
    assert not Incident.objects.exists()
    run(str(path), "--team", team.slug, "--date", "2026-03-02")
    event = TimelineEvent.objects.get()
    assert event.occurred_at == datetime(2026, 3, 2, 16, 5, tzinfo=UTC)


def test_a_file_over_the_size_limit_is_refused(db, tmp_path):
    from postmortems.forms import MAX_IMPORT_CHARS

    path = tmp_path / "huge.md"
    path.write_text("# T\n\n" + "x" * MAX_IMPORT_CHARS)
    with pytest.raises(CommandError, match="longer than"):
        run(str(path), "--dry-run")


def test_the_report_says_which_lines_were_template_guidance(db, tmp_path):
    path = tmp_path / "guided.md"
    path.write_text(
        "# T\n\n**Date:** 2026-03-02\n\n## Summary\n\n_Describe what happened._\n\nIt broke.\n"
    )
    out = run(str(path), "--dry-run")
    assert "line 7 (template guidance): _Describe what happened._" in out
