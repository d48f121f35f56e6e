"""Follow-through: completion by due date, by month and by team."""

from __future__ import annotations

from .. import charts
from ..charts import Series
from .months import month_table
from .shapes import (
    BAND_LABELS,
    CHART_ROWS,
    REFERENCES,
    TABLE_LIMIT,
    Cell,
    Column,
    Figure,
    as_share,
    percent,
    signed_points,
)


def completion_month(board) -> Figure:
    rows = board.completion_months
    columns = [
        Column("Month"),
        Column("Due", num=True),
        Column("Done on time", num=True),
        Column("Rate", num=True, unit="share 0-1"),
        Column("Health"),
    ]
    figure = Figure(
        "completion-month",
        "Completion by due date, by month",
        "",
        columns,
        [],
        empty="No action items came due in this period. Items appear here by the month "
        "they are due.",
    )
    if not rows or not any(r["due"] for r in rows):
        figure.finding = "No items came due in this period"
        return figure
    months = month_table(
        figure,
        rows,
        lambda r, month: [
            Cell(r["due"], link=board.rows_url("items-due", month=month), num=True),
            Cell(
                r["on_time"],
                link=board.rows_url("items-due", month=month, result="on-time"),
                num=True,
            ),
            Cell(as_share(r["rate"]), percent(r["rate"]), num=True),
            Cell(r["band"] or "", BAND_LABELS[r["band"]]),
        ],
    )
    rated = [(n, r) for n, r in zip(months.names, rows, strict=True) if r["rate"] is not None]
    figure.finding = trend_finding(rated)
    figure.chart = charts.columns(
        categories=months.short,
        names=months.names,
        series=[Series("rate", "Done on time", charts.BLUE)],
        values={"rate": [None if r["rate"] is None else r["rate"] * 100 for r in rows]},
        unit=charts.PERCENT,
        category_label="month due",
        top=100,
        references=REFERENCES,
        colours=[charts.BAND_COLOURS[r["band"]] for r in rows],
        legend=charts.BAND_LEGEND,
        hrefs=[board.rows_url("items-due", month=month) for month in months.keys],
    )
    return figure


def completion_team(board) -> Figure:
    overdue = {r["team_pk"]: r["overdue"] for r in board.open_teams}

    def points(r: dict) -> int | None:
        return None if r["change"] is None else round(r["change"] * 100)

    columns = [
        Column("Team", "team", by=lambda r: r["team_name"].lower()),
        Column("Due", "due", num=True, by=lambda r: r["due"]),
        Column("Done on time", num=True),
        Column("Rate", "rate", num=True, unit="share 0-1", by=lambda r: r["rate"]),
        Column("Health"),
        Column("Previous period", num=True, unit="share 0-1"),
        Column("Change (points)", "change", num=True, by=points),
        Column("Overdue now", "overdue", num=True, by=lambda r: overdue.get(r["team_pk"], 0)),
    ]
    figure = Figure(
        "completion-team",
        "Completion by due date, by team",
        "",
        columns,
        [],
        empty="No action items came due in this period or the one before.",
        sort="change",
        limit=TABLE_LIMIT,
        noun="teams",
    )
    rows = board.completion_teams
    if not rows:
        figure.finding = "No items came due in this period or the one before"
        return figure
    for r in board.shown(figure, rows):
        change = points(r)
        late = overdue.get(r["team_pk"], 0)
        figure.rows.append(
            [
                Cell(r["team_name"], link=board.scoped_url(f"team:{r['team_slug']}")),
                Cell(
                    r["due"],
                    link=board.rows_url("items-due", team=r["team_slug"]) if r["due"] else "",
                    num=True,
                ),
                Cell(
                    r["on_time"],
                    link=board.rows_url("items-due", team=r["team_slug"], result="on-time")
                    if r["on_time"]
                    else "",
                    num=True,
                ),
                Cell(as_share(r["rate"]), percent(r["rate"]), num=True),
                Cell(r["band"] or "", BAND_LABELS[r["band"]]),
                Cell(as_share(r["prev_rate"]), percent(r["prev_rate"]), num=True),
                Cell(change, signed_points(change), num=True),
                Cell(
                    late,
                    link=board.list_url(team=r["team_slug"], overdue="on") if late else "",
                    num=True,
                ),
            ]
        )
    figure.finding = team_finding(rows)
    chart_rows = sorted(
        [r for r in rows if r["rate"] is not None], key=lambda r: (r["rate"], r["team_name"])
    )[:CHART_ROWS]
    if chart_rows:
        figure.chart = charts.bars(
            rows=[r["team_name"] for r in chart_rows],
            series=[Series("rate", "Done on time, this period", charts.BLUE)],
            values={"rate": [r["rate"] * 100 for r in chart_rows]},
            unit=charts.PERCENT,
            category_label="team",
            top=100,
            references=REFERENCES,
            markers=(
                Series("prev", "Previous period", "currentColor"),
                [None if r["prev_rate"] is None else r["prev_rate"] * 100 for r in chart_rows],
            ),
            colours=[charts.BAND_COLOURS[r["band"]] for r in chart_rows],
            legend=charts.BAND_LEGEND,
            notes=[BAND_LABELS[r["band"]].lower() for r in chart_rows],
            hrefs=[board.rows_url("items-due", team=r["team_slug"]) for r in chart_rows],
        )
    return figure


def trend_finding(rated: list[tuple[str, dict]]) -> str:
    """A sentence on where completion went over the months that had items due."""
    if len(rated) == 1:
        name, row = rated[0]
        return f"{percent(row['rate'])} of the items due in {name} were done on time"
    (first_name, first), (last_name, last) = rated[0], rated[-1]
    points = round((last["rate"] - first["rate"]) * 100)
    if abs(points) < 3:
        return f"Completion held at about {percent(last['rate'])} from {first_name} to {last_name}"
    verb = "rose" if points > 0 else "fell"
    return (
        f"Completion {verb} from {percent(first['rate'])} in {first_name} to "
        f"{percent(last['rate'])} in {last_name}"
    )


def team_finding(rows: list[dict]) -> str:
    compared = [r for r in rows if r["change"] is not None]
    falls = [r for r in compared if r["change"] < 0]
    if falls:
        worst = min(falls, key=lambda r: (r["change"], r["team_name"]))
        return (
            f"{worst['team_name']}'s completion fell the most: {percent(worst['prev_rate'])} → "
            f"{percent(worst['rate'])}"
        )
    rated = [r for r in rows if r["rate"] is not None]
    if not rated:
        return "No items came due in this period"
    if all(r["band"] == "healthy" for r in rated):
        return "Every team is healthy: 80% or more done by the due date"
    lowest = min(rated, key=lambda r: (r["rate"], r["team_name"]))
    band = BAND_LABELS[lowest["band"]].lower()
    return f"Lowest: {lowest['team_name']} at {percent(lowest['rate'])} ({band})"
