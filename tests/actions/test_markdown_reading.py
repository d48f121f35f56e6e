"""The importer on documents written elsewhere: the shapes issue 11 found it failing on."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from actions.markdown import import_into_incident, parse_postmortem_markdown
from actions.markdown.evaluation import END, START, evaluate, write_report
from tests.factories import IncidentFactory, UserFactory


def parse(text: str, **kwargs):
    return parse_postmortem_markdown(text, **kwargs)


def days(result) -> list[str]:
    return [event.occurred_at.date().isoformat() for event in result.timeline_events]


def guidance(result) -> list[str]:
    return [u.text for u in result.unmapped if u.reason == "template guidance"]


def test_metadata_on_one_line_with_pipes_and_non_ascii_hyphens_is_read():
    result = parse(
        "# Payouts stalled\n\n"
        "**Severity:** SEV\u20112 | **Date:** 2026\u201104\u201107 | **Author:** @hkim\n"
    )
    assert (result.severity, result.date, result.author) == (2, date(2026, 4, 7), "@hkim")
    assert result.unmapped == []


@pytest.mark.parametrize(
    "line",
    [
        "Severity: SEV–1 · Date: 2026-05-02",  # en dash, middle dots
        "Sev 1 - 2 May 2026 - written up by ravi",  # a byline
        '**Severity**: ~"severity::1"\n**Date**: 2026-05-02',  # a GitLab scoped label
    ],
)
def test_severity_and_date_given_in_other_shapes(line):
    result = parse(f"# T\n\n{line}\n")
    assert (result.severity, result.date) == (1, date(2026, 5, 2))


def test_a_metadata_table_with_the_field_names_as_its_header():
    table = "| Severity | Date | Author |\n|---|---|---|\n| SEV3 | 2026-03-17 | @c |\n"
    result = parse(f"# T\n\n{table}")
    assert (result.severity, result.date, result.author) == (3, date(2026, 3, 17), "@c")


def test_numbered_headings_find_the_timeline_and_action_items():
    result = parse(
        "# T\n\n**Date:** 2026-04-07\n\n"
        "## 2  Timeline (UTC)\n\n- 01:00 Batch starts\n- 02:05 Alert pages on-call\n\n"
        "## III. Contributing factors\n\n1. Technical — one remote call per seller\n\n"
        "**4\\. Action items**\n\n- Batch the lookups (@hkim, due 2026-04-21, PAY-880, P1)\n"
    )
    assert [e.text for e in result.timeline_events] == ["Batch starts", "Alert pages on-call"]
    assert [(f.category, f.description) for f in result.contributing_factors] == [
        ("technical", "one remote call per seller")
    ]
    [item] = result.action_items
    assert (item.title, item.owner_text, item.due, item.ticket_key, item.priority) == (
        "Batch the lookups",
        "@hkim",
        date(2026, 4, 21),
        "PAY-880",
        1,
    )


def test_plain_text_notes_with_section_names_on_their_own_lines():
    result = parse(
        "Cache stampede\nSev 3 - 12 May 2026\n\n"
        "timeline\n09:14 deploy finished\n09:20 latency alert\n\n"
        "follow-ups\n- add jitter to cache TTLs (owner: ravi, due May 26, P2)\n"
    )
    assert result.title == "Cache stampede"
    assert days(result) == ["2026-05-12", "2026-05-12"]
    assert [(i.title, i.owner_text, i.due) for i in result.action_items] == [
        ("add jitter to cache TTLs", "ravi", date(2026, 5, 26))
    ]


def test_template_guidance_is_reported_and_not_read_as_content():
    result = parse(
        "# T\n\n**Date:** 2026-03-17\n\n"
        "## Impact\n\n> Who was affected, how many, for how long?\n\nAbout 4% of orders.\n\n"
        "## Contributing factors\n\n"
        "_Contributing factors are the conditions that allowed the incident to happen._\n\n"
        "Contributing factors are conditions, not people.\n\n"
        "- The consumer fails closed on unknown fields\n\n"
        "## Action items\n\nGood action items are:\n\n"
        "- specific: say what will exist when it is done\n- owned by one person, not a team\n\n"
        "| Action | Owner | Due |\n|---|---|---|\n"
        "| Ignore unknown fields | @carmen | 2026-03-31 |\n"
        "| [Action] | [Owner] | [Due date] |\n\n"
        "## Lessons learned\n\n[What did we learn?]\n"
    )
    assert result.sections["impact"] == "About 4% of orders."
    assert [f.description for f in result.contributing_factors] == [
        "The consumer fails closed on unknown fields"
    ]
    assert [i.title for i in result.action_items] == ["Ignore unknown fields"]
    assert "lessons" not in result.sections
    reported = guidance(result)
    assert "> Who was affected, how many, for how long?" in reported
    assert "Good action items are:" in reported
    assert "- owned by one person, not a team" in reported
    assert "[What did we learn?]" in reported
    assert any(text.startswith("| [Action]") for text in reported)


def test_factors_written_as_a_table_give_a_factor_per_row():
    result = parse(
        "# T\n\n## Contributing factors\n\n| Category | Example | Improvement |\n|---|---|---|\n"
        "| Technical | The expiry had no unit | Use a duration type |\n"
        "| Monitoring | Completion rate is not alerted | Alert on a drop |\n"
    )
    assert [(f.category, f.description) for f in result.contributing_factors] == [
        ("technical", "The expiry had no unit\nImprovement: Use a duration type"),
        ("alerting", "Completion rate is not alerted\nImprovement: Alert on a drop"),
    ]


def test_action_tables_are_read_by_what_their_cells_hold_not_by_header_order():
    result = parse(
        "# T\n\n## Action items\n\n| Owner | Action | Due | Ticket |\n|---|---|---|---|\n"
        "| @sasha | Cap the layer cache at 60% of the disk | CI-410 | 2026-07-28 |\n"
        "| Alert at 85% runner disk usage | CI-411 | @pedro | P1 |\n"
    )
    read = [(i.title, i.owner_text, i.due, i.ticket_key, i.priority) for i in result.action_items]
    assert read == [
        ("Cap the layer cache at 60% of the disk", "@sasha", date(2026, 7, 28), "CI-410", None),
        ("Alert at 85% runner disk usage", "@pedro", None, "CI-411", 1),
    ]


TIMES_ONLY = "## Timeline\n\n- 13:40 Alias swapped early\n- 13:44 Alert fires\n"


@time_machine.travel(datetime(2026, 12, 3, 12, tzinfo=UTC))
def test_a_date_given_only_in_the_title_places_every_event_on_that_day():
    result = parse(f"# Postmortem: Search outage on 2026-05-19\n\n{TIMES_ONLY}")
    assert result.date == date(2026, 5, 19)
    assert days(result) == ["2026-05-19", "2026-05-19"]
    assert not result.needs_date


@time_machine.travel(datetime(2026, 12, 3, 12, tzinfo=UTC))
def test_a_document_without_a_date_asks_for_one_instead_of_using_today():
    result = parse(f"# Queue consumer crash loop\n\n{TIMES_ONLY}")
    assert result.needs_date
    assert result.date is None and result.started_at is None
    assert "2026-12-03" not in days(result)
    assert any("give the incident's date" in warning for warning in result.warnings)
    given = parse(f"# Queue consumer crash loop\n\n{TIMES_ONLY}", day=date(2026, 2, 1))
    assert not given.needs_date
    assert given.date == date(2026, 2, 1)
    assert days(given) == ["2026-02-01", "2026-02-01"]


def test_a_date_the_person_gives_does_not_override_the_documents_own():
    result = parse(f"# T\n\n**Date:** 2026-03-03\n\n{TIMES_ONLY}", day=date(2026, 2, 1))
    assert days(result) == ["2026-03-03", "2026-03-03"]


def test_an_undated_document_is_not_saved_until_a_date_is_given(db):
    incident = IncidentFactory()
    result = parse(f"# T\n\n{TIMES_ONLY}")
    with pytest.raises(ValidationError, match="no date"):
        import_into_incident(result, incident=incident, user=None, by=None)
    assert incident.timeline.count() == 0


def test_an_item_owned_by_a_team_carries_the_editors_team_owner_hint():
    result = parse(
        "# T\n\n## Action items\n\n- Page the platform team on failover (@platform-team, P2)\n"
        "- Check replica lag before promoting (@wen, P0)\n"
        "- Add a lag alert (owner: Payments, P1)\n",
        team_names=["Payments"],
    )
    codes = [[hint.code for hint in item.hints] for item in result.action_items]
    assert codes == [["team_owner"], [], ["team_owner"]]
    summary = result.to_summary()["action_items"]
    assert summary[0]["hints"] and summary[1]["hints"] == []


def test_phases_survive_export_then_import(db):
    from actions.markdown import export_postmortem
    from tests.factories import PostmortemFactory, TimelineEventFactory

    postmortem = PostmortemFactory()
    start = postmortem.incident.started_at
    for minutes, phase in enumerate(["trigger", "detection", "other", "mitigation", "resolution"]):
        TimelineEventFactory(
            incident=postmortem.incident,
            occurred_at=start.replace(minute=minutes),
            text="Status page updated" if phase == "other" else "Alert fired, rolled back",
            phase=phase,
        )
    result = parse(export_postmortem(postmortem, reader=None))
    assert [e.phase for e in result.timeline_events] == [
        "trigger",
        "detection",
        "other",
        "mitigation",
        "resolution",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "# T\x00\n\n**Date:** 2026-01-01\x00\n\n## Timeline\n\n- 10:00 a\x00b\n",
        "# T\n\n**Date:** 9999-12-31\n\n## Timeline\n\n- 23:59 a\n- 00:10 b\n",
        "# T\n\n**Duration:** 9999-12-31 23:00–9999-12-31 22:00 UTC\n",
        "# T\n\n## Timeline\n\n### 9999-12-31\n\n- 23:50 x\n- 00:05 y\n",
        "# T\n\n**Start:** 0001-01-01 00:00 UTC+05:00\n",
        "---\ndate: 99999-01-01\nseverity: SEV-99\n---\n# x",
        "\x00" * 500,
        "|" * 3000,
        "> " * 400 + "x",
        "- " * 1000 + "x",
        "## Action items\n\n| a | b |\n|---|---|\n| @x | 9999-12-31 |\n| 2026-13-45 | P9 |\n",
    ],
)
@pytest.mark.parametrize("day", [None, date(9999, 12, 31), date(1, 1, 1)])
def test_nuls_and_dates_at_the_ends_of_the_calendar_never_crash_the_reader(text, day):
    result = parse(text, day=day, tz=ZoneInfo("Pacific/Kiritimati"))
    result.to_summary()
    assert all("\x00" not in u.text for u in result.unmapped)


def test_the_corpus_test_half_meets_the_targets():
    score = evaluate("test")
    assert score.documents >= 15
    assert score.total >= 0.95, score.misses
    assert score.misplaced == 0


def test_the_evaluation_report_replaces_only_its_own_part(tmp_path):
    path = tmp_path / "evaluation.md"
    write_report("first", path)
    assert path.read_text().count(START) == 1
    path.write_text(path.read_text() + "\n<!-- blame:start -->\nkept\n<!-- blame:end -->\n")
    write_report("second", path)
    text = path.read_text()
    assert f"{START}\nsecond\n{END}" in text and "first" not in text and "kept" in text


def test_a_plain_name_is_matched_to_a_user_by_username(db):
    ravi = UserFactory(username="ravi")
    result = parse("# T\n\n## Action items\n\n- add jitter (owner: ravi, P2)\n", users=[ravi])
    assert result.action_items[0].owner == ravi


def test_a_date_that_dates_the_document_is_not_taken_for_the_incidents():
    result = parse(f"# T\n\nLast updated 2026-05-01\n\n{TIMES_ONLY}")
    assert result.needs_date and result.date is None
