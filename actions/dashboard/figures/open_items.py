"""Open items now: overdue by team, and open and overdue by owner."""

from __future__ import annotations

from functools import partial

from .. import charts
from ..charts import Series
from .shapes import CHART_ROWS, OPEN_STATUSES, TABLE_LIMIT, Cell, Column, Figure, iso_day, person


def overdue_team(board) -> Figure:
    rows = [r for r in board.open_teams if r["open"]]
    columns = [
        Column("Team", "team", by=lambda r: r["team_name"].lower()),
        Column("Overdue", "overdue", num=True, by=lambda r: r["overdue"]),
        Column("Open", "open", num=True, by=lambda r: r["open"]),
        Column("Oldest overdue due date", "oldest", num=True, by=lambda r: r["oldest_due"]),
    ]
    figure = Figure(
        "overdue-team",
        "Overdue items by team, now",
        "",
        columns,
        [],
        empty="No open action items. Items appear here while they are open.",
        sort="-overdue",
        limit=TABLE_LIMIT,
        noun="teams",
    )
    if not rows:
        figure.finding = "No open items"
        return figure
    for r in board.shown(figure, rows):
        oldest = iso_day(r["oldest_due"])
        figure.rows.append(
            [
                Cell(r["team_name"]),
                Cell(
                    r["overdue"],
                    link=board.list_url(team=r["team_slug"], overdue="on") if r["overdue"] else "",
                    num=True,
                ),
                Cell(
                    r["open"],
                    link=board.list_url(team=r["team_slug"], status=OPEN_STATUSES),
                    num=True,
                ),
                Cell(oldest, oldest or "—", num=True),
            ]
        )
    total = sum(r["overdue"] for r in rows)
    worst = max(rows, key=lambda r: (r["overdue"], -len(r["team_name"])))
    if not total:
        figure.finding = "Nothing is overdue"
    elif len(rows) == 1:
        figure.finding = f"{total} of {worst['open']} open items are overdue"
    else:
        figure.finding = (
            f"{worst['team_name']} has the most overdue items: {worst['overdue']} of "
            f"{total} overdue"
        )
    chart_rows = sorted(rows, key=lambda r: (-r["overdue"], -r["open"], r["team_name"]))
    chart_rows = chart_rows[:CHART_ROWS]
    figure.chart = charts.bars(
        rows=[r["team_name"] for r in chart_rows],
        series=[
            Series("overdue", "Overdue", charts.VERMILLION),
            Series("rest", "Open, not yet due", charts.SKY),
        ],
        values={
            "overdue": [r["overdue"] for r in chart_rows],
            "rest": [r["open"] - r["overdue"] for r in chart_rows],
        },
        unit=charts.count_unit("open items"),
        category_label="team",
        # Only the overdue segment has a list of exactly its items; the rest is not linked.
        segment_hrefs={
            "overdue": [board.list_url(team=r["team_slug"], overdue="on") for r in chart_rows]
        },
    )
    return figure


def _name(r: dict) -> str:
    return person(r["first_name"], r["last_name"], r["username"])


def owners(board) -> Figure:
    rows = board.open_owners
    columns = [
        Column("Owner", "owner", by=lambda r: _name(r).lower()),
        Column("Overdue", "overdue", num=True, by=lambda r: r["overdue"]),
        Column("Open", "open", num=True, by=lambda r: r["open"]),
        Column("Oldest overdue due date", "oldest", num=True, by=lambda r: r["oldest_due"]),
    ]
    figure = Figure(
        "owners",
        "Open and overdue items by owner, now",
        "",
        columns,
        [],
        empty="No open action items, so nobody carries any.",
        limit=TABLE_LIMIT,
        sort="-open",
        noun="owners",
    )
    if not rows:
        figure.finding = "Nobody carries open items"
        return figure
    # Links made when shown: the CSV has every owner (thousands org-wide) and no links.
    for r in board.shown(figure, rows):
        name = _name(r)
        # The list's owner filter only offers active people; an inactive owner's count
        # has no list to link to (and says so).
        active = r["active"]
        oldest = iso_day(r["oldest_due"])
        figure.rows.append(
            [
                Cell(name if active else f"{name} (inactive)"),
                Cell(
                    r["overdue"],
                    link=partial(board.list_url, owner=r["username"], overdue="on")
                    if active and r["overdue"]
                    else "",
                    num=True,
                ),
                Cell(
                    r["open"],
                    link=partial(board.list_url, owner=r["username"], status=OPEN_STATUSES)
                    if active
                    else "",
                    num=True,
                ),
                Cell(oldest, oldest or "—", num=True),
            ]
        )
    total = sum(r["open"] for r in rows)
    top = rows[0]
    name = _name(top)
    figure.finding = f"{name} carries the most open items: {top['open']}" + (
        f" ({top['overdue']} overdue)" if top["overdue"] else ""
    )
    if len(rows) > 5:
        share = sum(r["open"] for r in rows[:5]) / total
        figure.finding += f"; the top five owners hold {share:.0%} of {total:,}"
    chart_rows = rows[:CHART_ROWS]
    figure.chart = charts.bars(
        rows=[_name(r) for r in chart_rows],
        series=[
            Series("overdue", "Overdue", charts.VERMILLION),
            Series("rest", "Open, not yet due", charts.SKY),
        ],
        values={
            "overdue": [r["overdue"] for r in chart_rows],
            "rest": [r["open"] - r["overdue"] for r in chart_rows],
        },
        unit=charts.count_unit("open items"),
        category_label="owner (most open items first)",
        segment_hrefs={
            "overdue": [board.list_url(owner=r["username"], overdue="on") for r in chart_rows]
        },
    )
    return figure
