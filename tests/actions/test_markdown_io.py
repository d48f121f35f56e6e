from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from actions.markdown import (
    due_rule,
    export_filename,
    export_postmortem,
    import_as_new_incident,
    import_into_incident,
    parse_postmortem_markdown,
)
from actions.models import ActionItem, ActionItemEvent
from incidents.models import Incident, TimelineEvent
from postmortems.models import Postmortem
from tests.factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
)

SAMPLES = Path(__file__).parent / "samples"
START = datetime(2026, 3, 26, 14, 2, tzinfo=UTC)

PEOPLE = [
    {"username": name, "first_name": first, "last_name": last, "email": f"{name}@example.com"}
    for name, first, last in [
        ("priya", "Priya", "Raman"),
        ("tomasz", "Tomasz", "Nowak"),
        ("lwong", "Lee", "Wong"),
        ("dana", "Dana", "Okafor"),
        ("marta", "Marta", "Silva"),
        ("kenji", "Kenji", "Sato"),
        ("bob", "Bob", "Reyes"),
        ("alice", "Alice", "Ng"),
        ("nora", "Nora", "Lindqvist"),
        ("sam", "Sam", "Osei"),
        ("ines", "Ines", "Duarte"),
        ("carol", "Carol", "Diaz"),
    ]
]


def sample(name: str, **kwargs):
    return parse_postmortem_markdown((SAMPLES / f"{name}.md").read_text(), **kwargs)


def unmapped_texts(result) -> list[str]:
    return [entry.text for entry in result.unmapped]


def parse(text: str, **kwargs):
    return parse_postmortem_markdown(text, **kwargs)


# --- Export ----------------------------------------------------------------------------------


@pytest.fixture
def postmortem(db):
    incident = IncidentFactory(
        title="Checkout outage",
        severity=1,
        started_at=START,
        detected_at=START + timedelta(minutes=3),
        mitigated_at=START + timedelta(minutes=30),
        resolved_at=START + timedelta(hours=2, minutes=14),
    )
    author = UserFactory(username="alice", first_name="Alice", last_name="Ng")
    postmortem = PostmortemFactory(
        incident=incident,
        author=author,
        status="published",
        summary="Checkout returned 503s for 2 h 14 m after a config push.",
        impact="- 41,000 failed checkouts\n- EU and US regions",
        root_cause="The loader accepted an empty upstream list.\n\n```\n# not a heading\n```",
        detection="Our 5xx alert waits ten minutes.",
        went_well="Rollback took four minutes.",
        went_poorly="The canary was skipped.\n\n**Where we got lucky**\n\nLow traffic.",
        lessons="Config is code.",
    )
    postmortem.reviewers.set(
        [UserFactory(username="bob"), UserFactory(username="carol", first_name="Carol")]
    )
    return postmortem


def add_rows(postmortem):
    incident = postmortem.incident
    TimelineEventFactory(
        incident=incident,
        occurred_at=START,
        text="Deploy started for config cfg-8812",
        source="deploy",
        source_detail="argo #812",
        phase="trigger",
    )
    TimelineEventFactory(
        incident=incident,
        occurred_at=START + timedelta(minutes=3, seconds=20),
        text="Checkout 5xx alert fired | p99 > 2s",
        source="alert",
        source_detail="",
        phase="detection",
    )
    TimelineEventFactory(
        incident=incident,
        occurred_at=START + timedelta(minutes=30),
        text="Rolled back cfg-8812\nconfirmed by @alice",
        source="chat",
        source_detail="Slack #inc-checkout",
        phase="mitigation",
    )
    ContributingFactorFactory(
        postmortem=postmortem,
        category="process",
        description="Config pushes skip the canary stage.",
        position=2,
    )
    ContributingFactorFactory(
        postmortem=postmortem,
        category="technical",
        description="The loader accepted an empty upstream list.",
        whys=[
            {
                "text": "The schema has no minimum length.",
                "children": [{"text": "It was generated from an old example.", "children": []}],
            },
            {"text": "No test covers an empty list.", "children": []},
        ],
        position=1,
    )
    ActionItemFactory(
        postmortem=postmortem,
        title="Add a minimum length to the upstream schema",
        owner=UserFactory(username="bob"),
        due_on=date(2026, 4, 3),
        priority=0,
        leverage="prevention",
        ticket_key="PAY-88",
        ticket_url="https://jira.example.com/browse/PAY-88",
    )
    ActionItemFactory(
        postmortem=postmortem,
        title="Alert on an empty upstream list",
        owner=UserFactory(username="carol"),
        due_on=date(2026, 4, 30),
        priority=2,
        leverage="detection",
        status="blocked",
        reason="Waiting on the metrics | pipeline migration",
    )
    ActionItemFactory(
        postmortem=postmortem,
        title="Canary stage for config pushes",
        owner=UserFactory(username="alice"),
        due_on=date(2026, 4, 15),
        priority=1,
        status="done",
        completed_at=START + timedelta(days=5),
        ticket_key="PAY-90",
    )


def test_export_filename_is_the_date_and_the_title(postmortem):
    assert export_filename(postmortem) == "2026-03-26-checkout-outage.md"


def test_export_filename_does_not_cut_a_word_in_half(db):
    incident = IncidentFactory(title="Word " * 30, started_at=START)
    name = export_filename(PostmortemFactory(incident=incident))
    assert name.startswith("2026-03-26-word-word")
    assert name.endswith("-word.md")
    assert len(name) <= len("2026-03-26-") + 60 + len(".md")


def test_export_header_lines(postmortem):
    text = export_postmortem(postmortem, reader=None)
    reference = postmortem.incident.reference
    assert text.startswith("# Checkout outage\n\n")
    for line in [
        "**Severity:** SEV1",
        "**Date:** 2026-03-26",
        "**Duration:** 14:02–16:16 UTC (2 h 14 m)",
        "**Status:** Published",
        "**Author:** @alice",
        "**Reviewers:** @bob, @carol",
        f"**Incident:** {reference}",
    ]:
        assert f"\n{line}  \n" in text


def test_export_has_every_section_in_order_even_when_empty(db):
    text = export_postmortem(PostmortemFactory(summary=""), reader=None)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Summary",
        "## Impact",
        "## Timeline",
        "## Root cause",
        "## Contributing factors",
        "## Why we didn't catch it sooner",
        "## What went well",
        "## What went poorly",
        "## Lessons learned",
        "## Action items",
        "## Related incidents",
    ]


def test_export_tables_and_grouped_factors(postmortem):
    add_rows(postmortem)
    text = export_postmortem(postmortem, reader=None)
    assert "| Time (UTC) | Phase | Event | Source |" in text
    assert "| 14:02 | Trigger | Deploy started for config cfg-8812 | deploy: argo #812 |" in text
    assert "| 14:05:20 | Detection | Checkout 5xx alert fired \\| p99 > 2s | alert |" in text
    assert "| Rolled back cfg-8812<br>confirmed by @alice |" in text
    assert "| # | Action | Owner | Due | Priority | Status | Ticket |" in text
    assert (
        "| 1 | Add a minimum length to the upstream schema | @bob | 2026-04-03 | P0 | Open "
        "| [PAY-88](https://jira.example.com/browse/PAY-88) |"
    ) in text
    assert "| Blocked: Waiting on the metrics \\| pipeline migration |  |" in text
    factors = text.split("## Contributing factors\n\n")[1].split("\n\n## ")[0]
    assert factors == (
        "### Technical\n\n"
        "- The loader accepted an empty upstream list.\n"
        "  - The schema has no minimum length.\n"
        "    - It was generated from an old example.\n"
        "  - No test covers an empty list.\n\n"
        "### Process\n\n"
        "- Config pushes skip the canary stage."
    )


def test_export_durations():
    from actions.markdown.export import format_duration

    assert format_duration(START, START + timedelta(minutes=45)) == "14:02–14:47 UTC (45 m)"
    late = datetime(2026, 3, 26, 23, 50, tzinfo=UTC)
    assert format_duration(late, late + timedelta(minutes=80)) == (
        "2026-03-26 23:50–2026-03-27 01:10 UTC (1 h 20 m)"
    )
    assert format_duration(START, None) == "14:02 UTC – ongoing"


def test_export_timeline_rows_carry_dates_when_the_incident_crosses_midnight(db):
    late = datetime(2026, 3, 26, 23, 50, tzinfo=UTC)
    incident = IncidentFactory(started_at=late)
    TimelineEventFactory(incident=incident, occurred_at=late, text="Alert fired")
    TimelineEventFactory(incident=incident, occurred_at=late + timedelta(minutes=20), text="Paged")
    text = export_postmortem(PostmortemFactory(incident=incident), reader=None)
    assert "| 2026-03-26 23:50 | Detection | Alert fired |" in text
    assert "| 2026-03-27 00:10 | Detection | Paged |" in text


def test_export_leaves_out_related_incidents_the_reader_may_not_see(postmortem):
    incident = postmortem.incident
    public = IncidentFactory(title="Earlier checkout blip")
    private = IncidentFactory(title="Credential leak", private=True)
    incident.related.set([public, private])
    outsider, member = UserFactory(), UserFactory()
    private.members.add(member)

    text = export_postmortem(postmortem, reader=outsider)
    assert f"- {public.reference}: Earlier checkout blip" in text
    assert private.reference not in text and "Credential leak" not in text

    # A member of the private incident gets what the page shows them: the link and its title.
    text = export_postmortem(postmortem, reader=member)
    assert f"- {private.reference}: Credential leak" in text


# --- Round trip ------------------------------------------------------------------------------


def test_an_exported_postmortem_reads_back_as_the_same_document(postmortem):
    add_rows(postmortem)
    incident = postmortem.incident
    related = IncidentFactory(title="Earlier blip")
    incident.related.add(related)
    users = list(type(postmortem.author).objects.all())

    result = parse_postmortem_markdown(export_postmortem(postmortem, reader=None), users=users)

    assert result.unmapped == []
    assert result.warnings == []
    assert (result.title, result.severity, result.date) == ("Checkout outage", 1, date(2026, 3, 26))
    assert (result.started_at, result.ended_at) == (incident.started_at, incident.resolved_at)
    assert result.status == "published"
    assert result.author_user == postmortem.author
    assert {u.username for u in result.reviewer_users} == {"bob", "carol"}
    assert result.incident_ref == incident.reference
    for name, _ in postmortem.SECTIONS:
        assert result.sections.get(name, "") == getattr(postmortem, name)
    assert [
        (e.occurred_at, e.text, e.phase, e.source, e.source_detail) for e in result.timeline_events
    ] == [
        (e.occurred_at, e.text, e.phase, e.source, e.source_detail) for e in incident.timeline.all()
    ]
    assert [(f.category, f.description, f.whys) for f in result.contributing_factors] == [
        (f.category, f.description, f.whys)
        for f in postmortem.factors.order_by("position")  # technical sorts before process
    ]
    read = [
        (i.title, i.owner, i.due, i.priority, i.status, i.reason, i.ticket_key, i.ticket_url)
        for i in result.action_items
    ]
    saved = [
        (i.title, i.owner, i.due_on, i.priority, i.status, i.reason, i.ticket_key, i.ticket_url)
        for i in postmortem.action_items.order_by("created_at", "pk")
    ]
    assert read == saved
    assert result.related == [related.reference]


def test_a_round_trip_keeps_seconds_dates_and_open_incidents(db):
    late = datetime(2026, 3, 26, 23, 50, 17, tzinfo=UTC)
    incident = IncidentFactory(
        started_at=late,
        detected_at=None,
        mitigated_at=None,
        resolved_at=None,
        status=Incident.Status.INVESTIGATING,
    )
    TimelineEventFactory(incident=incident, occurred_at=late + timedelta(minutes=25), text="x")
    result = parse(export_postmortem(PostmortemFactory(incident=incident), reader=None))
    assert result.started_at == late
    assert result.ended_at is None
    assert result.timeline_events[0].occurred_at == late + timedelta(minutes=25)


def test_importing_an_export_into_a_new_incident_exports_the_same_file(postmortem):
    add_rows(postmortem)
    postmortem.incident.related.add(IncidentFactory(title="Earlier blip"))
    first = export_postmortem(postmortem, reader=None)
    users = list(type(postmortem.author).objects.all())

    outcome = import_as_new_incident(
        parse(first, users=users), by=None, team=TeamFactory(), user=None
    )

    second = export_postmortem(outcome.incident.postmortem, reader=None)
    old_ref, new_ref = postmortem.incident.reference, outcome.incident.reference
    assert second == first.replace(f"**Incident:** {old_ref}", f"**Incident:** {new_ref}")


# --- Titles and metadata ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        "# Checkout outage",
        "# Postmortem: Checkout outage",
        "# Post-mortem — Checkout outage",
        "# Incident postmortem: Checkout outage",
        "Checkout outage\n===============",
        "Postmortem: Checkout outage\n===",
    ],
)
def test_title_forms(head):
    assert parse(f"{head}\n\n## Summary\n\nx").title == "Checkout outage"


def test_a_document_without_a_title_says_so():
    result = parse("## Summary\n\nSomething broke.")
    assert result.title == ""
    assert "No title found." in result.warnings


@pytest.mark.parametrize(
    "line, severity",
    [
        ("**Severity:** SEV1", 1),
        ("**Severity**: Sev 2", 2),
        ("Severity: P1", 2),
        ("- **Severity:** P0", 1),
        ("* Sev: S3", 3),
        ("Severity: 2", 2),
        ("Priority: P2", 3),
        ("Severity: SEV-1 (customer-facing)", 1),
    ],
)
def test_severity_forms(line, severity):
    result = parse(f"# T\n\n{line}\n")
    assert result.severity == severity
    assert result.warnings == []


@pytest.mark.parametrize(
    "value, severity, warning",
    [
        ("SEV4", 3, "Severity 'SEV4' has no equivalent here; read as SEV3."),
        ("SEV0", 1, "Severity 'SEV0' has no equivalent here; read as SEV1."),
        ("Critical", 1, "Severity 'Critical' read as SEV1."),
        ("whenever", None, "Severity 'whenever' not understood."),
    ],
)
def test_severities_outside_the_scale_are_read_with_a_warning(value, severity, warning):
    result = parse(f"# T\n\nSeverity: {value}\n")
    assert result.severity == severity
    assert warning in result.warnings


@pytest.mark.parametrize(
    "line",
    [
        "**Date:** 2026-03-26",
        "- **Date:** March 26, 2026",
        "Date: Thursday, 26 March 2026",
        "Incident date: 26/03/2026",
        "| Date | 2026-03-26 |",
    ],
)
def test_date_forms(line):
    assert parse(f"# T\n\n{line}\n").date == date(2026, 3, 26)


@pytest.mark.parametrize(
    "value, status",
    [
        ("Draft", "draft"),
        ("In review", "in_review"),
        ("Ready for review", "in_review"),
        ("Published", "published"),
        ("Final", "published"),
        ("Complete, action items in progress", "published"),
    ],
)
def test_document_status_forms(value, status):
    assert parse(f"# T\n\n**Status:** {value}\n").status == status


def test_duration_gives_start_and_end_and_crosses_midnight_in_the_documents_zone():
    result = parse("# T\n\n**Date:** 2026-01-31\n**Duration:** 23:40–01:55 CET\n")
    assert result.started_at == datetime(2026, 1, 31, 22, 40, tzinfo=UTC)
    assert result.ended_at == datetime(2026, 2, 1, 0, 55, tzinfo=UTC)


def test_duration_as_a_length_ends_that_long_after_the_first_event():
    result = parse(
        "# T\n\nDate: 2026-03-26\nDuration: 1 hour 5 minutes\n\n## Timeline\n\n- 14:02 start\n"
    )
    assert result.started_at == START
    assert result.ended_at == START + timedelta(hours=1, minutes=5)


def test_times_are_read_in_the_given_zone_unless_the_document_names_one():
    text = "# T\n\nDate: 2026-07-01\n\n## Timeline\n\n- 14:02 local\n"
    london = ZoneInfo("Europe/London")
    assert parse(text, tz=UTC).timeline_events[0].occurred_at.hour == 14
    assert parse(text, tz=london).timeline_events[0].occurred_at.hour == 13
    utc_heading = text.replace("## Timeline", "## Timeline (UTC)")
    assert parse(utc_heading, tz=london).timeline_events[0].occurred_at.hour == 14


def test_metadata_lines_at_the_top_of_an_overview_are_metadata_not_text():
    result = parse("# T\n\n## Overview\n\n**Severity:** SEV2\n**Date:** 2026-03-26\n\nIt broke.\n")
    assert result.severity == 2
    assert result.sections["summary"] == "It broke."


def test_html_comments_from_templates_are_ignored_and_line_numbers_still_match():
    text = "# T\n\n<!-- Fill in\nthe summary -->\n## Summary\n\nReal text.\n\n## Glossary\n"
    result = parse(text)
    assert result.sections["summary"] == "Real text."
    assert [(u.line_no, u.text) for u in result.unmapped] == [(9, "Glossary")]


# --- Sections --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "heading, field",
    [
        ("## Summary", "summary"),
        ("## Executive Summary", "summary"),
        ("### Overview", "summary"),
        ("## TL;DR", "summary"),
        ("## Impact", "impact"),
        ("## Customer impact", "impact"),
        ("## Root cause", "root_cause"),
        ("## Root Causes", "root_cause"),
        ("## 3. Root cause analysis", "root_cause"),
        ("## Why we didn't catch it sooner", "detection"),
        ("## Why we didn’t catch it sooner", "detection"),
        ("## Detection", "detection"),
        ("## What went well", "went_well"),
        ("## What went poorly", "went_poorly"),
        ("## What went wrong", "went_poorly"),
        ("## Lessons learned", "lessons"),
        ("# Takeaways", "lessons"),
        ("**Lessons learned**", "lessons"),
    ],
)
def test_section_headings_in_their_usual_wordings(heading, field):
    result = parse(f"# T\n\n{heading}\n\nThe text.\n")
    assert result.sections == {field: "The text."}
    assert result.unmapped == []


def test_where_we_got_lucky_is_kept_under_went_poorly_with_its_own_label():
    result = parse("# T\n\n## What went wrong\n\n- a\n\n## Where we got lucky\n\n- b\n")
    assert result.sections["went_poorly"] == "- a\n\n**Where we got lucky**\n\n- b"


def test_lucky_on_its_own_still_says_it_was_luck():
    result = parse("# T\n\n## Where we got lucky\n\n- b\n")
    assert result.sections["went_poorly"] == "**Where we got lucky**\n\n- b"


def test_two_headings_for_one_field_are_both_kept():
    result = parse(
        "# T\n\n## Detection\n\nA ticket.\n\n## Why we didn't catch it sooner\n\nNo alert."
    )
    assert result.sections["detection"] == (
        "A ticket.\n\n**Why we didn't catch it sooner**\n\nNo alert."
    )


def test_unknown_sections_are_reported_and_their_subheadings_stay_with_known_sections():
    text = "\n".join(
        [
            "# T",
            "## Root cause",
            "The loader.",
            "### Details",
            "It trusted input.",
            "## Glossary",
            "### Terms",
            "words",
            "## Impact",
            "Big.",
        ]
    )
    result = parse(text)
    assert result.sections["root_cause"] == "The loader.\n### Details\nIt trusted input."
    assert result.sections["impact"] == "Big."
    assert [(u.line_no, u.text) for u in result.unmapped] == [(6, "Glossary")]


def test_a_heading_inside_a_code_block_is_text():
    result = parse("# T\n\n## Root cause\n\n```sh\n# restart the loader\n```\n")
    assert result.sections["root_cause"] == "```sh\n# restart the loader\n```"


def test_preamble_text_that_is_not_metadata_is_reported():
    result = parse("# T\n\nThis template follows our blameless guide.\n**Services:** checkout\n")
    assert unmapped_texts(result) == [
        "This template follows our blameless guide.",
        "**Services:** checkout",
    ]


# --- Contributing factors --------------------------------------------------------------------


def test_factors_categorised_inline_by_heading_and_by_tag_with_why_chains():
    text = "\n".join(
        [
            "# T",
            "## Contributing factors",
            "- **Technical:** the loader accepted an empty list",
            "  - Why? The schema allowed it.",
            "    - Why? Generated from an old example.",
            "  - Why? No test for it.",
            "- [process] config pushes skip the canary",
            "- Testing: no load test",
            "- (documentation) the runbook was out of date",
            "- Note: nobody was on holiday",
            "### Alerting",
            "- the 5xx alert waits ten minutes",
            "#### Latent conditions",
            "- retries multiply load",
            "",
            "Paragraph factor on its own",
            "spanning two lines.",
        ]
    )
    result = parse(text)
    assert [(f.category, f.description) for f in result.contributing_factors] == [
        ("technical", "the loader accepted an empty list"),
        ("process", "config pushes skip the canary"),
        ("testing", "no load test"),
        ("documentation", "the runbook was out of date"),
        ("other", "Note: nobody was on holiday"),
        ("alerting", "the 5xx alert waits ten minutes"),
        ("other", "retries multiply load"),
        ("other", "Paragraph factor on its own\nspanning two lines."),
    ]
    assert result.contributing_factors[0].whys == [
        {
            "text": "Why? The schema allowed it.",
            "children": [{"text": "Why? Generated from an old example.", "children": []}],
        },
        {"text": "Why? No test for it.", "children": []},
    ]
    assert "Factors under 'Latent conditions' have no category; filed as other." in result.warnings


def test_a_trigger_section_becomes_a_factor_marked_as_the_trigger():
    result = parse("# T\n\n## Trigger\n\nA config push emptied the upstream list.\n")
    factor = result.contributing_factors[0]
    assert (factor.category, factor.description) == (
        "other",
        "Trigger: A config push emptied the upstream list.",
    )


# --- Action items ----------------------------------------------------------------------------


def action_items(text: str, users=PEOPLE, **kwargs):
    return parse(
        f"# T\n\nDate: 2026-03-26\n\n## Action items\n\n{text}\n", users=users
    ).action_items


def test_checkbox_items_with_attributes_in_parentheses():
    item, done = action_items(
        "- [ ] Add alert for X (@bob, due 2026-04-10, PAY-123)\n"
        "- [x] Pin image digest ([NET-305](https://jira.example.com/browse/NET-305); @alice; P1)"
    )
    assert (item.title, item.owner["username"], item.due, item.ticket_key, item.status) == (
        "Add alert for X",
        "bob",
        date(2026, 4, 10),
        "PAY-123",
        "open",
    )
    assert (done.title, done.status, done.priority) == ("Pin image digest", "done", 1)
    assert (done.ticket_key, done.ticket_url) == (
        "NET-305",
        "https://jira.example.com/browse/NET-305",
    )


def test_attributes_after_dashes_and_commas_and_a_leading_handle():
    first, second = action_items(
        "- Evaluate a managed resolver — @dana — due 2026-06-30 — P3 — blocked: vendor pricing\n"
        "- @alice: canary stage for config pushes, by April 15"
    )
    assert (first.title, first.owner["username"], first.due, first.priority) == (
        "Evaluate a managed resolver",
        "dana",
        date(2026, 6, 30),
        3,
    )
    assert (first.status, first.reason) == ("blocked", "vendor pricing")
    assert (second.title, second.owner["username"], second.due) == (
        "canary stage for config pushes",
        "alice",
        date(2026, 4, 15),
    )


def test_text_in_parentheses_that_is_not_attributes_stays_in_the_title():
    (item,) = action_items("- Alert when p99 latency is high (over 2 s for 5 min)")
    assert item.title == "Alert when p99 latency is high (over 2 s for 5 min)"
    assert item.problems == ["no owner", "no due date"]


def test_struck_through_items_are_wont_do_and_the_missing_reason_is_warned_about():
    result = parse("# T\n\n## Follow-ups\n\n- ~~Move to a managed resolver~~ (@bob, 2026-05-01)\n")
    (item,) = result.action_items
    assert (item.title, item.status, item.reason) == ("Move to a managed resolver", "wont_do", "")
    assert any("won't do without a reason" in warning for warning in result.warnings)


def test_action_tables_with_other_column_names_and_orders():
    text = "\n".join(
        [
            "| Deadline | Task | Assignee | Prio | State | Issue | Notes |",
            "|---|---|---|---|---|---|---|",
            "| 2026-04-10 | Add alert | Bob Reyes | P1 | In progress | PAY-1 | soon |",
            "| Apr 20 | Write runbook | alice@example.com | high | Won't do: replaced by PAY-3 | |",
            "|  |  | @bob | | | | |",
        ]
    )
    result = parse(f"# T\n\nDate: 2026-03-26\n\n## Corrective actions\n\n{text}\n", users=PEOPLE)
    first, second = result.action_items
    assert (first.title, first.owner["username"], first.due, first.priority) == (
        "Add alert",
        "bob",
        date(2026, 4, 10),
        1,
    )
    assert (first.status, first.ticket_key) == ("in_progress", "PAY-1")
    assert (second.owner["username"], second.due, second.priority) == (
        "alice",
        date(2026, 4, 20),
        1,
    )
    assert (second.status, second.reason) == ("wont_do", "replaced by PAY-3")
    assert "Action items column 'Notes' was not read." in result.warnings
    assert [u.line_no for u in result.unmapped] == [11]


@pytest.mark.parametrize(
    "owner, problem",
    [
        ("@nobody", "owner '@nobody' matches no user"),
        ("Bob", "owner 'Bob' matches no user"),
        ("Payments team", "owner 'Payments team' matches no user"),
        ("@bob, @alice", "'@bob, @alice' names several people; an item has one owner"),
    ],
)
def test_owners_are_matched_never_guessed(owner, problem):
    (item,) = action_items(
        f"| Action | Owner | Due |\n|---|---|---|\n| Fix it | {owner} | 2026-04-01 |"
    )
    assert item.owner is None
    assert item.problems == [problem]


@pytest.mark.parametrize(
    "owner", ["@bob", "bob", "Bob Reyes", "bob@example.com", "Bob Reyes (@bob)", "**@bob**"]
)
def test_owners_matched_by_handle_username_name_or_email(owner):
    (item,) = action_items(
        f"| Action | Owner | Due |\n|---|---|---|\n| Fix it | {owner} | 2026-04-01 |"
    )
    assert item.owner["username"] == "bob"
    assert item.problems == []


def test_owners_matched_against_user_objects_and_ambiguous_names_are_refused():
    users = [
        SimpleNamespace(username="bob1", first_name="Bob", last_name="Reyes", email=""),
        SimpleNamespace(username="bob2", first_name="Bob", last_name="Reyes", email=""),
        SimpleNamespace(username="a_b", first_name="A", last_name="B", email=""),
    ]
    table = "| Action | Owner | Due |\n|---|---|---|\n| One | Bob Reyes | 2026-04-01 |\n"
    table += "| Two | @a_b | 2026-04-01 |"
    ambiguous, underscored = action_items(table, users=users)
    assert ambiguous.problems == ["'Bob Reyes' matches several users"]
    assert underscored.owner is users[2]


def test_without_users_owners_are_reported_as_unchecked():
    (item,) = action_items("- Fix it (@bob, 2026-04-01)", users=None)
    assert item.owner is None
    assert item.problems == ["owner '@bob' not checked against users"]


def test_dates_not_understood_are_kept_as_text_and_reported():
    (item,) = action_items("- Fix it (@bob, due Q3)")
    assert (item.due, item.due_text, item.problems) == (None, "Q3", ["due 'Q3' is not a date"])


def test_leverage_comes_from_a_type_column_or_a_heading_or_is_guessed():
    text = "\n".join(
        [
            "### Detect",
            "- Fix the flaky canary (@bob, 2026-04-01)",
            "### Other ideas",
            "- Add a dashboard for queue depth (@bob, 2026-04-01)",
            "- Write a runbook for failover (@bob, 2026-04-01)",
            "- Validate config before push (@bob, 2026-04-01)",
        ]
    )
    result = parse(f"# T\n\n## Action items\n\n{text}\n", users=PEOPLE)
    assert [(i.leverage, i.leverage_guessed) for i in result.action_items] == [
        ("detection", False),
        ("detection", True),
        ("mitigation", True),
        ("prevention", True),
    ]
    assert unmapped_texts(result) == ["### Other ideas"]


# --- Related incidents -----------------------------------------------------------------------


def test_related_incident_references_are_collected_and_other_lines_reported():
    result = parse(
        "# T\n\n## Related incidents\n\n- INC-1042, inc 1043\n- see the wiki\n- INC-1042\n"
    )
    assert result.related == ["INC-1042", "INC-1043"]
    assert unmapped_texts(result) == ["- see the wiki"]


# --- The sample documents --------------------------------------------------------------------


def test_sample_google_sre_style():
    result = sample("google_sre_style", users=PEOPLE)
    assert result.title == "Search served a nine-day-old index for three hours"
    assert (result.severity, result.date, result.status) == (None, date(2026, 2, 11), "published")
    assert result.author_user["username"] == "priya"
    assert result.authors == ["Priya Raman (@priya)", "@tomasz"]
    assert set(result.sections) == {
        "summary",
        "impact",
        "root_cause",
        "detection",
        "went_well",
        "went_poorly",
    }
    assert result.sections["summary"].startswith("Search answered queries from a nine-day-old")
    assert result.sections["went_poorly"].endswith(
        "**Where we got lucky**\n\n- The flush ran on a weekday morning with most of the search "
        "team online."
    )
    assert [(f.category, f.description[:30]) for f in result.contributing_factors] == [
        ("other", "Trigger: The weekly cache flus")
    ]
    events = result.timeline_events
    assert len(events) == 8
    assert events[0].occurred_at == datetime(2026, 2, 11, 6, 0, tzinfo=UTC)
    assert (events[3].source, events[3].phase) == ("alert", "detection")
    assert events[-1].phase == "resolution"
    assert (result.started_at, result.ended_at) == (events[0].occurred_at, events[-1].occurred_at)
    assert [(i.leverage, i.ticket_key, i.problems) for i in result.action_items] == [
        ("detection", "SRCH-412", ["no due date"]),
        ("prevention", "SRCH-413", ["no due date"]),
        ("mitigation", "SRCH-414", ["owner 'Search on-call' matches no user", "no due date"]),
    ]
    assert [(u.line_no, u.text[:16]) for u in result.unmapped] == [
        (24, "**Resolution:** "),
        (67, "Supporting infor"),
    ]


def test_sample_pagerduty_style():
    result = sample("pagerduty_style", users=PEOPLE)
    assert (result.title, result.severity, result.status) == (
        "Payment webhooks delayed up to 40 minutes",
        2,
        "in_review",
    )
    assert result.date == date(2026, 1, 14)
    assert result.started_at == datetime(2026, 1, 14, 9, 12, tzinfo=UTC)
    assert result.ended_at == datetime(2026, 1, 14, 10, 47, tzinfo=UTC)
    assert result.commander_user["username"] == "dana"
    assert result.author_user["username"] == "lwong"
    assert set(result.sections) == {"summary", "impact", "went_well", "went_poorly"}
    assert "\n\n**What Happened**\n\nA change merged on Friday" in result.sections["summary"]
    assert [(e.source, e.source_detail, e.phase) for e in result.timeline_events] == [
        ("other", "Datadog monitor", "other"),
        ("alert", "PagerDuty", "detection"),
        ("alert", "PagerDuty", "other"),
        ("chat", "Slack #inc-webhooks", "other"),
        ("git", "GitHub", "mitigation"),
        ("other", "Grafana", "resolution"),
    ]
    assert [f.category for f in result.contributing_factors] == ["technical", "process", "alerting"]
    items = result.action_items
    assert [(i.priority, i.status, i.due) for i in items] == [
        (1, "in_progress", date(2026, 1, 28)),
        (0, "done", date(2026, 1, 16)),
        (2, "open", None),
    ]
    assert items[1].owner["username"] == "dana"
    assert items[2].problems == ["owner 'Payments team' matches no user", "due 'Q1' is not a date"]
    assert unmapped_texts(result) == [
        "| **Affected services** | payments-webhooks |",
        "Resolution",
        "Responders",
        "How'd We Do?",
        "Messaging",
    ]


def test_sample_atlassian_style():
    result = sample("atlassian_style", users=PEOPLE)
    assert (result.title, result.severity) == ("SSO logins failing for enterprise customers", 1)
    assert result.started_at == datetime(2026, 3, 4, 13, 5, tzinfo=UTC)
    assert result.ended_at == datetime(2026, 3, 4, 14, 50, tzinfo=UTC)
    assert result.author_user["username"] == "marta"
    assert set(result.sections) == {"summary", "impact", "root_cause", "detection", "lessons"}
    assert result.sections["root_cause"].startswith("The verifier trusts a static certificate")
    assert len(result.timeline_events) == 6
    assert result.timeline_events[-1].phase == "resolution"
    (factor,) = result.contributing_factors
    assert factor.description == "Enterprise users could not log in with SSO."
    depth, node = 0, factor.whys
    while node:
        depth, node = depth + 1, node[0]["children"]
    assert depth == 4
    assert factor.whys[0]["text"].startswith("Why? Assertions were signed")
    assert [(i.owner["username"], i.status) for i in result.action_items] == [
        ("marta", "open"),
        ("kenji", "done"),
        ("kenji", "wont_do"),
    ]
    assert result.action_items[2].reason == "vendor now publishes rotations in metadata"
    assert result.related == ["INC-1980"]
    assert unmapped_texts(result) == [
        "| Affected service | identity |",
        "Leadup",
        "Fault",
        "Response",
        "Recovery",
        "- Vendor notice archived in the shared drive",
    ]


def test_sample_team_wiki_terse():
    result = sample("team_wiki_terse", users=PEOPLE)
    assert (result.title, result.severity, result.date) == (
        "Checkout 503s after config push",
        2,
        date(2026, 3, 26),
    )
    assert result.author_user["username"] == "bob"
    assert list(result.sections) == ["summary"]
    assert (result.started_at, result.ended_at) == (START, START + timedelta(minutes=40))
    assert [e.phase for e in result.timeline_events] == [
        "other",
        "detection",
        "other",
        "mitigation",
        "resolution",
    ]
    assert [(f.category, len(f.whys)) for f in result.contributing_factors] == [
        ("other", 1),
        ("process", 0),
        ("testing", 0),
    ]
    items = result.action_items
    assert [(i.owner and i.owner["username"], i.due) for i in items] == [
        ("bob", date(2026, 4, 3)),
        ("alice", date(2026, 4, 15)),
        (None, None),
    ]
    assert items[0].ticket_key == "PAY-88"
    assert items[2].problems == [
        "owner 'Carol' matches no user",  # a first name alone is never guessed
        "due 'end of April' is not a date",
    ]
    assert unmapped_texts(result) == ["- see the #inc-checkout channel for the rest"]


def test_sample_lines_timeline():
    result = sample("lines_timeline", users=PEOPLE)
    assert result.severity == 1
    assert (result.started_at, result.ended_at) == (
        datetime(2026, 1, 31, 22, 40, tzinfo=UTC),
        datetime(2026, 2, 1, 0, 55, tzinfo=UTC),
    )
    assert [u["username"] for u in result.reviewer_users] == ["sam", "ines"]
    events = result.timeline_events
    assert len(events) == 8
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    assert events[4].source_detail == "@nora"
    assert events[-1].occurred_at == datetime(2026, 2, 1, 0, 55, tzinfo=UTC)
    assert [f.category for f in result.contributing_factors] == ["technical", "process", "alerting"]
    assert [(i.ticket_key, i.priority, i.problems) for i in result.action_items] == [
        ("BILL-51", 1, []),
        ("BILL-52", None, []),
    ]
    assert set(result.sections) == {"summary", "impact", "root_cause", "lessons"}
    assert [(u.line_no, u.text) for u in result.unmapped] == [(28, "then we all went to bed")]


def test_sample_checkbox_actions():
    result = sample("checkbox_actions", users=PEOPLE)
    assert (result.title, result.severity, result.status) == (
        "Internal DNS returned empty answers for service names",
        3,
        "draft",
    )
    assert result.author_user["username"] == "alice"
    assert [(f.category, f.description[:20]) for f in result.contributing_factors] == [
        ("technical", "Resolver image 2.9.0"),
        ("technical", "The Helm chart pulle"),
        ("testing", "the resolver smoke t"),
        ("other", "Every service resolv"),
    ]
    items = result.action_items
    assert [i.status for i in items] == ["open", "done", "open", "open", "blocked"]
    assert items[1].ticket_url == "https://jira.example.com/browse/NET-305"
    assert items[2].due == date(2026, 4, 30)
    assert items[3].title == "Review TTLs on internal zones (platform team)"
    assert items[3].problems == ["no owner", "no due date"]
    assert items[4].reason == "waiting on vendor pricing"
    assert result.related == ["INC-1042", "INC-1047"]
    assert result.unmapped == []


def test_every_sample_reports_something_and_none_crashes():
    for path in sorted(SAMPLES.glob("*.md")):
        summary = parse_postmortem_markdown(path.read_text(), users=PEOPLE).to_summary()
        assert summary["title"], path.name
        assert summary["timeline_events"]["count"] > 0, path.name
        assert summary["action_items"], path.name


# --- Saving into an incident -----------------------------------------------------------------


@pytest.fixture
def people(db):
    return [
        UserFactory(username=p["username"], first_name=p["first_name"], last_name=p["last_name"])
        for p in PEOPLE
    ]


def test_importing_fills_an_empty_postmortem_in_one_go(people):
    incident = IncidentFactory(number=1042)
    importer = people[0]
    result = sample("checkbox_actions", users=people)
    outcome = import_into_incident(
        result,
        by=None,
        incident=incident,
        user=importer,
        owner_fallback=people[1],
        default_due=due_rule("+30", today=date(2026, 3, 20)),
    )
    postmortem = incident.postmortem
    assert outcome.postmortem == postmortem
    assert postmortem.summary.startswith("For 25 minutes a bad resolver image")
    # Each imported section is a revision in the history, attributed to the importer.
    summary = postmortem.revisions.get(section="summary")
    assert (summary.number, summary.author, summary.text) == (1, importer, postmortem.summary)
    assert postmortem.author.username == "alice"
    assert postmortem.status == "draft"
    events = list(incident.timeline.all())
    assert [e.origin for e in events] == ["import"] * 4
    assert all(e.author == importer for e in events)
    assert [f.position for f in postmortem.factors.all()] == [1, 2, 3, 4]
    items = {item.title: item for item in postmortem.action_items.all()}
    assert len(items) == 5
    fallback = items["Review TTLs on internal zones (platform team)"]
    assert (fallback.owner, fallback.due_on) == (people[1], date(2026, 4, 19))
    done = items["Pin resolver image digest in the Helm chart"]
    assert done.completed_at is not None and done.completed_by == importer
    # Through the items' service: each has its "created" history entry, by the importer.
    created = ActionItemEvent.objects.filter(item__in=items.values(), kind="created")
    assert sorted(e.item.title for e in created) == sorted(items)
    assert {e.by for e in created} == {importer}
    assert done.ticket_url == "https://jira.example.com/browse/NET-305"
    assert items["Evaluate a managed resolver"].reason == "waiting on vendor pricing"
    assert outcome.related_linked == []  # INC-1042 is this incident, INC-1047 does not exist
    assert outcome.warnings == ["Related incident INC-1047 does not exist here; not linked."]


def test_importing_links_related_incidents_that_exist(people):
    incident = IncidentFactory(number=2000)
    other = IncidentFactory(number=1047)
    result = sample("checkbox_actions", users=people)
    result.action_items = []
    outcome = import_into_incident(result, by=None, incident=incident, user=None)
    assert outcome.related_linked == ["INC-1047"]
    assert list(incident.related.all()) == [other]


def test_importing_refuses_items_without_owner_or_date_and_writes_nothing(people):
    incident = IncidentFactory()
    result = sample("checkbox_actions", users=people)
    with pytest.raises(ValidationError) as raised:
        import_into_incident(result, by=None, incident=incident, user=None)
    assert "Review TTLs on internal zones (platform team)" in " ".join(raised.value.messages)
    assert not TimelineEvent.objects.filter(incident=incident).exists()
    assert not Postmortem.objects.filter(incident=incident).exists()


def test_importing_over_existing_content_needs_force(people):
    postmortem = PostmortemFactory(summary="Written by hand.")
    ActionItemFactory(postmortem=postmortem, title="Pin resolver image digest in the Helm chart")
    result = sample("checkbox_actions", users=people)
    result.action_items = [i for i in result.action_items if not i.problems]
    with pytest.raises(ValidationError, match="already has a postmortem with summary, 1 action"):
        import_into_incident(result, by=None, incident=postmortem.incident, user=None)

    outcome = import_into_incident(
        result, by=None, incident=postmortem.incident, user=None, force=True
    )
    postmortem.refresh_from_db()
    assert postmortem.summary.startswith("For 25 minutes")
    assert postmortem.version == 2
    assert outcome.action_items_skipped == 1
    assert postmortem.action_items.count() == 4


def test_importing_twice_with_force_does_not_duplicate_rows(people):
    incident = IncidentFactory()
    result = sample("checkbox_actions", users=people)
    result.action_items = [i for i in result.action_items if not i.problems]
    import_into_incident(result, by=None, incident=incident, user=None)
    again = import_into_incident(result, by=None, incident=incident, user=None, force=True)
    assert (again.events_created, again.events_skipped) == (0, 4)
    assert again.factors_created == 0
    assert again.action_items_created == 0
    assert incident.timeline.count() == 4


def test_a_blocked_item_without_a_reason_records_where_the_decision_came_from(people):
    result = parse(
        "# T\n\nDate: 2026-03-26\n\n## Action items\n\n"
        "| Action | Owner | Due | Status |\n|---|---|---|---|\n"
        "| Fix it | @bob | 2026-04-01 | Blocked |",
        users=people,
    )
    import_into_incident(result, by=None, incident=IncidentFactory(), user=None)
    item = ActionItem.objects.get(title="Fix it")
    assert item.status == "blocked"
    assert item.reason == "Marked blocked in the imported document; no reason was given."


def test_importing_as_a_new_incident_takes_times_from_the_document(people):
    team = TeamFactory()
    result = sample("pagerduty_style", users=people)
    outcome = import_as_new_incident(
        result,
        by=None,
        team=team,
        user=people[0],
        owner_fallback=people[2],
        default_due=due_rule("priority", today=date(2026, 1, 20)),
    )
    incident = outcome.incident
    assert outcome.created_incident
    assert (incident.title, incident.severity, incident.team) == (
        "Payment webhooks delayed up to 40 minutes",
        2,
        team,
    )
    assert incident.started_at == datetime(2026, 1, 14, 9, 12, tzinfo=UTC)
    assert incident.detected_at == datetime(2026, 1, 14, 9, 27, tzinfo=UTC)
    assert incident.mitigated_at == datetime(2026, 1, 14, 10, 5, tzinfo=UTC)
    assert incident.resolved_at == datetime(2026, 1, 14, 10, 47, tzinfo=UTC)
    assert incident.status == "resolved"
    assert incident.commander.username == "dana"
    assert incident.postmortem_requirement == "required"  # SEV2 for 95 minutes
    assert incident.summary.startswith("Webhook deliveries from our payment provider")
    third = incident.postmortem.action_items.get(title__startswith="Require payments team")
    assert (third.owner, third.due_on) == (people[2], date(2026, 1, 20) + timedelta(days=90))


def test_a_new_incident_needs_a_severity_and_a_start(people):
    result = sample("google_sre_style", users=people)
    with pytest.raises(ValidationError, match="no severity"):
        import_as_new_incident(result, by=None, team=TeamFactory(), user=None)
    assert not Incident.objects.exists()
    empty = parse("# Only a title\n\nSeverity: SEV2\n")
    with pytest.raises(ValidationError, match="No start time"):
        import_as_new_incident(empty, by=None, team=TeamFactory(), user=None)


def test_an_incident_without_an_end_stays_open_with_a_warning(people):
    result = parse("# T\n\nSeverity: SEV3\nDate: 2026-03-26\n\n## Timeline\n\n- 14:02 started\n")
    outcome = import_as_new_incident(result, by=None, team=TeamFactory(), user=None)
    assert outcome.incident.status == "investigating"
    assert outcome.incident.resolved_at is None
    assert outcome.warnings[0].startswith("No end time found")


@pytest.mark.parametrize(
    "spec, priority, expected",
    [
        ("2026-05-01", 1, date(2026, 5, 1)),
        ("+14", None, date(2026, 3, 15)),
        ("+7d", 0, date(2026, 3, 8)),
        ("priority", 0, date(2026, 3, 1)),
        ("priority", 1, date(2026, 3, 15)),
        ("priority", None, date(2026, 5, 30)),
        ("priority", 3, date(2026, 8, 28)),
    ],
)
def test_due_date_rules(spec, priority, expected):
    rule = due_rule(spec, today=date(2026, 3, 1))
    assert rule(SimpleNamespace(priority=priority)) == expected


def test_an_unknown_due_date_rule_is_refused():
    with pytest.raises(ValueError, match="not a due date rule"):
        due_rule("next sprint", today=date(2026, 3, 1))
