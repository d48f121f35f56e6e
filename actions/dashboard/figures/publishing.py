"""Postmortems: cycle time by month of publication, and the ones owed now."""

from __future__ import annotations

from datetime import timedelta

from incidents.formatting import duration

from .. import charts
from ..charts import Series
from .months import month_table
from .shapes import LIST_LIMIT, Cell, Column, Figure, as_hours, as_share, in_units, iso_day, percent


def cycle_month(board) -> Figure:
    rows = board.postmortems["cycle_months"]
    columns = [
        Column("Month"),
        Column("Published", num=True),
        Column("Median", num=True, unit="hours"),
        Column("90th percentile", num=True, unit="hours"),
        Column("Within 7 days", num=True, unit="share 0-1"),
    ]
    figure = Figure(
        "cycle-month",
        "Postmortem cycle time, by month of publication",
        "",
        columns,
        [],
        empty="No postmortems were published in this period.",
    )
    c = board.cycle
    if not c["published"]:
        figure.finding = "No postmortems were published in this period"
        return figure
    months = month_table(
        figure,
        rows,
        lambda r, month: [
            Cell(
                r["published"],
                link=board.rows_url("published", month=month) if r["published"] else "",
                num=True,
            ),
            Cell(as_hours(r["median"]), duration(r["median"]), num=True),
            Cell(as_hours(r["p90"]), duration(r["p90"]), num=True),
            Cell(
                as_share(r["share_within"]),
                f"{percent(r['share_within'])} ({r['within']})" if r["published"] else "—",
                num=True,
            ),
        ],
    )
    figure.finding = (
        f"Median {duration(c['median'])} from resolution to publication; "
        f"{percent(c['share_within'])} published within 7 days"
    )
    longest = max(
        [r["p90"].total_seconds() for r in rows if r["p90"] is not None]
        + [timedelta(days=7).total_seconds()]
    )
    unit, seconds = charts.duration_unit(longest)
    figure.chart = charts.columns(
        categories=months.short,
        names=months.names,
        series=[Series("median", "Median", charts.BLUE)],
        values={"median": [in_units(r["median"], seconds) for r in rows]},
        markers=(
            Series("p90", "90th percentile", charts.VERMILLION),
            [in_units(r["p90"], seconds) for r in rows],
        ),
        unit=unit,
        category_label="month published",
        references=[(7 * 86400 / seconds, "7-day target")],
        hrefs=[board.rows_url("published", month=month) for month in months.keys],
    )
    return figure


def owed_list(board) -> Figure:
    count = board.owed_count
    figure = Figure(
        "owed-list",
        "Postmortems owed now",
        "",
        [
            Column("Incident"),
            Column("Title"),
            Column("Team"),
            Column("Severity"),
            Column("Resolved"),
            Column("Days since", num=True),
        ],
        [],
        empty="No postmortems owed. Incidents that need one appear here a week after "
        "they are resolved, until it is published.",
        limit=LIST_LIMIT,
        wide=True,
    )
    if not count:
        figure.finding = "No postmortems are owed"
        return figure
    incidents = board.owed if board.every_row else board.owed_first
    for incident in incidents:
        resolved = incident.resolved_at.date()
        figure.rows.append(
            [
                Cell(incident.reference, link=incident.get_absolute_url, mono=True),
                Cell(incident.title),
                Cell(incident.team.name),
                Cell(f"SEV{incident.severity}", mono=True),
                Cell(iso_day(resolved), mono=True),
                Cell((board.s.today - resolved).days, num=True),
            ]
        )
    oldest = (board.s.today - board.owed_first[0].resolved_at.date()).days
    figure.finding = (
        f"{count} postmortem{'s are' if count != 1 else ' is'} owed; the oldest incident "
        f"was resolved {oldest} days ago"
    )
    if count > LIST_LIMIT:
        figure.more = (f"All {count}", board.rows_url("owed"))
    return figure
