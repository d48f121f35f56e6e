"""The four headline numbers at the top of the dashboard."""

from __future__ import annotations

from incidents.formatting import duration

from .shapes import BAND_LABELS, Headline, percent


def completion_headline(board) -> Headline:
    c = board.completion
    judged = board.judged
    if c["rate"] is None:
        return Headline(
            "completion",
            "Completion by due date",
            "—",
            "No items came due in this period.",
            board.rows_url("items-due"),
            "Items due",
        )
    # The previous period's rate is the same definition summed over the team rows.
    prev_due = sum(r["prev_due"] for r in board.completion_teams)
    prev_on_time = sum(r["prev_on_time"] for r in board.completion_teams)
    change = ""
    if prev_due:
        prev = prev_on_time / prev_due
        points = round((c["rate"] - prev) * 100)
        word = "up" if points > 0 else "down" if points < 0 else "level"
        arrow = "▲" if points > 0 else "▼" if points < 0 else "●"
        before = f"the previous {judged.days} days ({percent(prev)})"
        change = (
            f"{arrow} {word} {abs(points)} point{'s' if abs(points) != 1 else ''} on {before}"
            if points
            else f"{arrow} level with {before}"
        )
    return Headline(
        "completion",
        "Completion by due date",
        percent(c["rate"]),
        f"{c['on_time']:,} of {c['due']:,} items due {judged.start:%d %b} – "
        f"{judged.end:%d %b %Y} done on time",
        board.rows_url("items-due"),
        "See the items",
        band=c["band"],
        band_label=BAND_LABELS[c["band"]],
        change=change,
    )


def overdue_headline(board) -> Headline:
    overdue = sum(r["overdue"] for r in board.open_teams)
    open_ = sum(r["open"] for r in board.open_teams)
    oldest = min((r["oldest_due"] for r in board.open_teams if r["oldest_due"]), default=None)
    detail = f"of {open_:,} open items"
    if oldest:
        detail += f"; the oldest was due {oldest:%d %b %Y}"
    return Headline(
        "overdue",
        "Overdue now",
        f"{overdue:,}",
        detail,
        board.list_url(overdue="on"),
        "Open the overdue list",
    )


def owed_headline(board) -> Headline:
    count = board.owed_count
    detail = "Every required postmortem resolved over a week ago is published."
    if count:
        oldest = board.owed_first[0].resolved_at.date()
        detail = f"oldest incident resolved {(board.s.today - oldest).days} days ago"
    return Headline(
        "owed",
        "Postmortems owed",
        f"{count:,}",
        detail,
        board.rows_url("owed"),
        "See which",
    )


def cycle_headline(board) -> Headline:
    c = board.cycle
    if not c["published"]:
        return Headline(
            "cycle",
            "Median cycle time",
            "—",
            "No postmortems were published in this period.",
            board.rows_url("published"),
            "Published postmortems",
        )
    return Headline(
        "cycle",
        "Median cycle time",
        duration(c["median"]),
        f"resolved → published; 90th percentile {duration(c['p90'])}; "
        f"{percent(c['share_within'])} within 7 days ({c['within']} of {c['published']})",
        board.rows_url("published"),
        "See the postmortems",
    )
