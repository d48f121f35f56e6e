"""Open items now: overdue by team, and open and overdue by owner."""

from __future__ import annotations

from functools import partial

from .. import charts
from ..charts import Series
from .shapes import CHART_ROWS, OPEN_STATUSES, OWNER_LIMIT, Cell, Column, Figure, iso_day, person


def overdue_team(board) -> Figure:
    rows = [r for r in board.open_teams if r["open"]]
    columns = [
        Column("Team", "team"),
        Column("Overdue", "overdue", num=True),
        Column("Open", "open", num=True),
        Column("Oldest overdue due date", "oldest", num=True),
    ]
    figure = Figure(
        "overdue-team",
        "Overdue items by team, now",
        "",
        columns,
        [],
        empty="No open action items. Items appear here while they are open.",
        sort="-overdue",
    )
    if not rows:
        figure.finding = "No open items"
        return figure
    for r in rows:
        figure.rows.append(
            [
                Cell(r["team_name"], sort=r["team_name"].lower()),
                Cell(
                    r["overdue"],
                    link=board.list_url(team=r["team_slug"], overdue="on") if r["overdue"] else "",
                    num=True,
                    sort=r["overdue"],
                ),
                Cell(
                    r["open"],
                    link=board.list_url(team=r["team_slug"], status=OPEN_STATUSES),
                    num=True,
                    sort=r["open"],
                ),
                Cell(
                    iso_day(r["oldest_due"]),
                    iso_day(r["oldest_due"]) or "—",
                    num=True,
                    sort=r["oldest_due"],
                ),
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


OWNER_SORTS = {
    "owner": lambda r: person(r["first_name"], r["last_name"], r["username"]).lower(),
    "overdue": lambda r: r["overdue"],
    "open": lambda r: r["open"],
    "oldest": lambda r: r["oldest_due"],
}


def _sorted_owners(rows: list[dict], wanted: str) -> list[dict]:
    """The rows in the order Dashboard._sort gives their cells (rows without a value last)."""
    key = OWNER_SORTS.get(wanted.lstrip("-"))
    if key is None:
        return rows
    present = [r for r in rows if key(r) is not None]
    present.sort(key=key, reverse=wanted.startswith("-"))
    return present + [r for r in rows if key(r) is None]


def owners(board) -> Figure:
    rows = board.open_owners
    columns = [
        Column("Owner", "owner"),
        Column("Overdue", "overdue", num=True),
        Column("Open", "open", num=True),
        Column("Oldest overdue due date", "oldest", num=True),
    ]
    figure = Figure(
        "owners",
        "Open and overdue items by owner, now",
        "",
        columns,
        [],
        empty="No open action items, so nobody carries any.",
        limit=OWNER_LIMIT,
        sort="-open",
    )
    if not rows:
        figure.finding = "Nobody carries open items"
        return figure
    if not board.every_row:
        # Cells only for the rows the page shows (25 of up to thousands of owners), in the
        # order the table's sort would give them.
        figure.row_count = len(rows)
        shown = _sorted_owners(rows, board.sorts.get("owners") or figure.sort)[:OWNER_LIMIT]
    else:
        shown = rows
    for r in shown:
        name = person(r["first_name"], r["last_name"], r["username"])
        # The list's owner filter only offers active people; an inactive owner's count
        # has no list to link to (and says so).
        active = r["active"]
        figure.rows.append(
            [
                Cell(name if active else f"{name} (inactive)", sort=name.lower()),
                Cell(
                    r["overdue"],
                    link=partial(board.list_url, owner=r["username"], overdue="on")
                    if active and r["overdue"]
                    else "",
                    num=True,
                    sort=r["overdue"],
                ),
                Cell(
                    r["open"],
                    link=partial(board.list_url, owner=r["username"], status=OPEN_STATUSES)
                    if active
                    else "",
                    num=True,
                    sort=r["open"],
                ),
                Cell(
                    iso_day(r["oldest_due"]),
                    iso_day(r["oldest_due"]) or "—",
                    num=True,
                    sort=r["oldest_due"],
                ),
            ]
        )
    total = sum(r["open"] for r in rows)
    top = rows[0]
    name = person(top["first_name"], top["last_name"], top["username"])
    figure.finding = f"{name} carries the most open items: {top['open']}" + (
        f" ({top['overdue']} overdue)" if top["overdue"] else ""
    )
    if len(rows) > 5:
        share = sum(r["open"] for r in rows[:5]) / total
        figure.finding += f"; the top five owners hold {share:.0%} of {total:,}"
    chart_rows = rows[:CHART_ROWS]
    figure.chart = charts.bars(
        rows=[person(r["first_name"], r["last_name"], r["username"]) for r in chart_rows],
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
