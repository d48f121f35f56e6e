from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from incidents.timeline_paste import (
    ParsedEvent,
    guess_phase,
    guess_source,
    parse_loose_date,
    parse_timeline,
)

DAY = date(2026, 3, 26)
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def parse(text: str, *, day: date = DAY, tz=UTC):
    return parse_timeline(text, day=day, tz=tz)


def only_event(text: str, **kwargs) -> ParsedEvent:
    result = parse(text, **kwargs)
    assert result.unreadable == []
    assert len(result.events) == 1
    return result.events[0]


@pytest.mark.parametrize(
    "line, expected_time, expected_text",
    [
        ("14:02 — Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("14:02 – Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("14:02 - Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("14:02: Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("14:02 Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("14:02:37 Deploy started", utc(2026, 3, 26, 14, 2, 37), "Deploy started"),
        ("9:05 Deploy started", utc(2026, 3, 26, 9, 5), "Deploy started"),
        ("2:02 PM Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("2:02pm Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("2:02 p.m. Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("12:05 AM Deploy started", utc(2026, 3, 26, 0, 5), "Deploy started"),
        ("12:05 PM Deploy started", utc(2026, 3, 26, 12, 5), "Deploy started"),
        ("2026-03-26 14:02 UTC Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("2026-03-26T14:02:00Z Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("2026-03-26T15:02:00+01:00 Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("[14:02] Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("**14:02** Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("**14:02** — Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("`14:02` Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("- 14:02 Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("* [14:02] Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("3. 14:02 Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
        ("  - **14:02 UTC**: Deploy started", utc(2026, 3, 26, 14, 2), "Deploy started"),
    ],
)
def test_each_pasted_line_shape_is_read(line, expected_time, expected_text):
    event = only_event(line)
    assert event.occurred_at == expected_time
    assert event.text == expected_text


def test_events_are_aware_utc_with_their_line_numbers():
    result = parse("\n14:02 first\n\n14:05 second\n")
    assert [event.line_no for event in result.events] == [2, 4]
    assert all(event.occurred_at.tzinfo is UTC for event in result.events)


def test_line_numbers_can_start_where_a_slice_of_a_document_starts():
    result = parse_timeline("14:02 first\nnonsense", day=DAY, tz=UTC, first_line_no=40)
    assert result.events[0].line_no == 40
    assert result.unreadable == [(41, "nonsense")]


def test_times_without_a_date_are_placed_in_the_viewers_timezone():
    assert only_event("14:02 x", tz=NEW_YORK).occurred_at == utc(2026, 3, 26, 18, 2)
    summer = only_event("14:02 x", day=date(2026, 7, 1), tz=LONDON)
    assert summer.occurred_at == utc(2026, 7, 1, 13, 2)


def test_an_explicit_utc_or_z_overrides_the_viewers_timezone():
    result = parse("14:02 UTC marked\n14:03Z zulu\n14:04 local", day=date(2026, 7, 1), tz=LONDON)
    assert [e.occurred_at for e in result.events] == [
        utc(2026, 7, 1, 14, 2),
        utc(2026, 7, 1, 14, 3),
        utc(2026, 7, 1, 13, 4),
    ]


def test_a_date_in_the_line_overrides_the_day_and_later_lines_follow_it():
    result = parse("2026-03-28 09:00 UTC later day\n09:30 still that day", tz=UTC)
    assert [e.occurred_at for e in result.events] == [
        utc(2026, 3, 28, 9, 0),
        utc(2026, 3, 28, 9, 30),
    ]


def test_times_going_backwards_roll_over_to_the_next_day():
    result = parse("23:50 alert fired\n00:10 rolled back\n00:40 resolved")
    assert [e.occurred_at for e in result.events] == [
        utc(2026, 3, 26, 23, 50),
        utc(2026, 3, 27, 0, 10),
        utc(2026, 3, 27, 0, 40),
    ]


def test_a_timeline_can_cross_midnight_twice():
    result = parse("23:00 a\n01:00 b\n23:30 c\n00:30 d")
    assert [e.occurred_at.date() for e in result.events] == [
        date(2026, 3, 26),
        date(2026, 3, 27),
        date(2026, 3, 27),
        date(2026, 3, 28),
    ]


def test_a_small_step_back_is_a_note_out_of_order_not_the_next_day():
    result = parse("14:30 rolled back\n14:05 (earlier) customer ticket opened")
    assert result.events[1].occurred_at == utc(2026, 3, 26, 14, 5)


def test_the_clocks_going_forward_in_london_are_respected():
    # 2026-03-29: 01:00 GMT becomes 02:00 BST.
    result = parse("00:50 before\n02:10 after", day=date(2026, 3, 29), tz=LONDON)
    before, after = (e.occurred_at for e in result.events)
    assert before == utc(2026, 3, 29, 0, 50)
    assert after == utc(2026, 3, 29, 1, 10)
    assert (after - before).total_seconds() == 20 * 60


def test_an_hour_repeated_when_the_clocks_go_back_is_read_as_its_first_occurrence():
    # 2026-10-25: 02:00 BST becomes 01:00 GMT, so 01:30 happens twice.
    event = only_event("01:30 ambiguous", day=date(2026, 10, 25), tz=LONDON)
    assert event.occurred_at == utc(2026, 10, 25, 0, 30)


def test_a_line_that_is_only_a_date_sets_the_day_for_the_lines_below():
    result = parse("### 2026-03-27\n09:00 morning\n**Saturday, March 28**\n08:00 next")
    assert result.unreadable == []
    assert [e.occurred_at for e in result.events] == [
        utc(2026, 3, 27, 9, 0),
        utc(2026, 3, 28, 8, 0),
    ]


def test_pipe_rows_give_text_and_source():
    event = only_event("03:42 | Checkout 5xx alert fired | PagerDuty")
    assert event.occurred_at == utc(2026, 3, 26, 3, 42)
    assert event.text == "Checkout 5xx alert fired"
    assert (event.source, event.source_detail) == ("alert", "PagerDuty")
    assert event.phase == "detection"


def test_a_source_cell_naming_a_source_and_a_detail_is_split():
    event = only_event("03:42 | Rolled back | deploy: argo-cd sync 812")
    assert (event.source, event.source_detail) == ("deploy", "argo-cd sync 812")


def test_an_unknown_tool_in_a_source_cell_is_other_not_manual():
    event = only_event("03:42 | Error rate back under 1% | Grafana")
    assert (event.source, event.source_detail) == ("other", "Grafana")


def test_slack_style_lines_with_wide_gaps_are_chat_from_that_person():
    event = only_event("alice  2:02 PM  we are rolling back now")
    assert event.occurred_at == utc(2026, 3, 26, 14, 2)
    assert event.text == "we are rolling back now"
    assert (event.source, event.source_detail) == ("chat", "@alice")
    assert event.phase == "mitigation"


def test_slack_style_lines_with_a_handle_need_only_one_space():
    event = only_event("@bob 14:10 checking the canary")
    assert (event.source, event.source_detail, event.text) == (
        "chat",
        "@bob",
        "checking the canary",
    )


def test_a_name_and_a_time_with_single_spaces_is_too_ambiguous_to_read():
    result = parse("Around 2:02 PM things got worse")
    assert result.events == []
    assert result.unreadable == [(1, "Around 2:02 PM things got worse")]


def test_garbage_and_blank_lines():
    text = "\n".join(
        [
            "Timeline of the incident",  # 1: a title
            "",  # 2
            "14:02 deploy started",  # 3
            "   ",  # 4
            "14:05",  # 5: a time with nothing after it
            "25:61 impossible time",  # 6
            "13:00 PM not a real clock",  # 7
            "see the channel for details",  # 8
            "14:07 — alert fired",  # 9
        ]
    )
    result = parse(text)
    assert [e.line_no for e in result.events] == [3, 9]
    assert result.unreadable == [
        (1, "Timeline of the incident"),
        (5, "14:05"),
        (6, "25:61 impossible time"),
        (7, "13:00 PM not a real clock"),
        (8, "see the channel for details"),
    ]


def test_a_markdown_table_in_any_column_order_with_extra_columns():
    text = "\n".join(
        [
            "| Who | what happened | SOURCE | Time (UTC) | Link |",
            "|:---|---|---|---:|---|",
            "| alice | Alert fired for checkout | PagerDuty | 14:05 | https://pd.example/1 |",
            "| bob | Rolled back the release \\| v2.3 | deploy | 14:31 | |",
        ]
    )
    result = parse(text, tz=LONDON, day=date(2026, 7, 1))
    assert result.unreadable == []
    first, second = result.events
    # The header says UTC, so the viewer's London summer time does not apply.
    assert first.occurred_at == utc(2026, 7, 1, 14, 5)
    assert (first.text, first.source, first.phase, first.line_no) == (
        "Alert fired for checkout",
        "alert",
        "detection",
        3,
    )
    assert second.text == "Rolled back the release | v2.3"
    assert (second.source, second.phase) == ("deploy", "mitigation")


def test_a_table_with_a_phase_column_and_line_breaks_in_cells():
    text = (
        "| Time | Phase | Description | Source |\n|---|---|---|---|\n"
        "| 14:02 | Diagnosis | Looked at logs<br>found timeouts | log: kibana |"
    )
    event = only_event(text)
    assert event.phase == "diagnosis"
    assert event.text == "Looked at logs\nfound timeouts"
    assert (event.source, event.source_detail) == ("log", "kibana")


def test_a_table_with_separate_date_and_time_columns():
    text = "| Date | Time | Event |\n|---|---|---|\n| 2026-03-27 | 01:15 | Paged again |"
    assert only_event(text).occurred_at == utc(2026, 3, 27, 1, 15)


def test_table_rows_without_a_time_are_unreadable_and_the_table_ends_at_a_blank_line():
    text = (
        "| Time | Event |\n|---|---|\n| | continued note |\n| 14:02 | Alert fired |\n\n14:09 after"
    )
    result = parse(text)
    assert result.unreadable == [(3, "| | continued note |")]
    assert [e.text for e in result.events] == ["Alert fired", "after"]


def test_a_table_without_a_time_column_is_not_a_timeline():
    result = parse("| Name | Role |\n|---|---|\n| Alice | IC |")
    assert result.events == []
    assert [line_no for line_no, _ in result.unreadable] == [1, 3]


def test_pasted_times_from_several_formats_in_one_paste_keep_their_order():
    text = "\n".join(
        [
            "**23:40** — Scheduler failed over",
            "[23:58] Payment volume doubled",
            "11:59 PM duplicate-charge alert fired",
            "nora  12:06 AM  looks like two runs",
            "00:14 – Second run stopped",
        ]
    )
    result = parse(text, day=date(2026, 1, 31), tz=ZoneInfo("Europe/Berlin"))
    times = [e.occurred_at for e in result.events]
    assert times == sorted(times)
    assert times[0] == utc(2026, 1, 31, 22, 40)
    assert times[-1] == utc(2026, 1, 31, 23, 14)


@pytest.mark.parametrize(
    "text, source",
    [
        ("Checkout 5xx alert fired", "alert"),
        ("On-call paged via PagerDuty", "alert"),
        ("@alice acknowledged the page", "alert"),
        ("Deploy of checkout v2.3 started", "deploy"),
        ("Rollout paused at 50%", "deploy"),
        ("Error logs show connection resets", "log"),
        ("Users could not log in", "manual"),
        ("Discussed in Slack", "chat"),
        ("Posted in #inc-checkout", "chat"),
        ("PR #4812 merged", "git"),
        ("Fix commit pushed to main", "git"),
        ("Improved caching of product pages", "manual"),
        ("The checkout page returned errors", "manual"),
    ],
)
def test_sources_are_guessed_from_the_words(text, source):
    assert guess_source(text) == source


@pytest.mark.parametrize(
    "text, phase",
    [
        ("Alert fired: checkout 5xx above 5%", "detection"),
        ("On-call was paged", "detection"),
        ("Rolled back to v2.2", "mitigation"),
        ("Traffic failed over to eu-west", "mitigation"),
        ("Impact mitigated by disabling the flag", "mitigation"),
        ("Incident resolved", "resolution"),
        ("Error rate recovered", "resolution"),
        ("Deploy started for checkout v2.3", "trigger"),
        ("Identified the cause: empty upstream list", "diagnosis"),
        ("Looked at the dashboards", "other"),
        ("Deployed checkout v2.3", "other"),
    ],
)
def test_phases_are_guessed_only_from_clear_phrases(text, phase):
    assert guess_phase(text) == phase


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-03-26", date(2026, 3, 26)),
        ("March 26, 2026", date(2026, 3, 26)),
        ("Thursday, 26th March 2026", date(2026, 3, 26)),
        ("26.03.2026", date(2026, 3, 26)),
        ("26/03/2026", date(2026, 3, 26)),
        ("03/26/2026", date(2026, 3, 26)),
        ("04/05/2026", None),  # day-first or month-first? Not guessed.
        ("Mar 26", None),  # no year and none given
        ("2026-02-30", None),
    ],
)
def test_loose_dates(text, expected):
    assert parse_loose_date(text) == expected


@pytest.mark.parametrize(
    ("line", "speaker", "text"),
    [
        ("14:02 <alice> rolling back now", "@alice", "rolling back now"),
        ("[14:02] @bob: canary is green", "@bob", "canary is green"),
        ("14:02 carol: paged the database on-call", "@carol", "paged the database on-call"),
        ("2:02 PM Dana Ito: restarting the pods", "@dana.ito", "restarting the pods"),
    ],
)
def test_chat_lines_with_a_speaker_after_the_time_are_chat_from_that_person(line, speaker, text):
    event = only_event(line)
    assert (event.source, event.source_detail, event.text) == ("chat", speaker, text)


@pytest.mark.parametrize(
    "line",
    ["14:02 Alert: CPU above 90%", "14:02 Note: customers see 502s", "14:02 PagerDuty: paged"],
)
def test_a_label_before_a_colon_is_not_taken_for_a_person(line):
    assert only_event(line).source != "chat"


def test_a_handle_without_a_colon_is_part_of_the_sentence():
    event = only_event("14:05 @alice acknowledged the page")
    assert event.text == "@alice acknowledged the page"
