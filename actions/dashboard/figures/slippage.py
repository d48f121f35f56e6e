"""Due-date slippage by team."""

from __future__ import annotations

from ... import metrics
from .. import charts
from ..charts import Series
from .shapes import CHART_ROWS, Cell, Column, Figure, as_share, percent


def slippage_team(board) -> Figure:
    # Slippage reads the judged period's due items from the completion grid; its
    # due-date changes are those recorded in the whole period.
    rows = metrics.slippage_by_team(board.period, board.scope, board.viewer, grid=board.grid)
    columns = [
        Column("Team", "team"),
        Column("Due-date changes", "changes", num=True),
        Column("Items moved", num=True),
        Column("Changes per moved item", num=True),
        Column("Days slipped (net)", "days", num=True),
        Column("Days per moved item", num=True),
        Column("Due items moved", "share", num=True, unit="share 0-1"),
    ]
    figure = Figure(
        "slippage-team",
        "Due-date slippage by team",
        "",
        columns,
        [],
        empty="No due dates were changed and no items came due in this period.",
        sort="-days",
    )
    if not rows:
        figure.finding = "No due dates were changed in this period"
        return figure
    for r in rows:
        days = r["slipped"].days
        moved = r["items_moved"]
        share = r["due_moved"] / r["due"] if r["due"] else None
        figure.rows.append(
            [
                Cell(r["team_name"], sort=r["team_name"].lower()),
                Cell(
                    r["changes"],
                    link=board.rows_url("items-moved", team=r["team_slug"]) if r["changes"] else "",
                    num=True,
                    sort=r["changes"],
                ),
                Cell(
                    moved,
                    link=board.rows_url("items-moved", team=r["team_slug"]) if moved else "",
                    num=True,
                ),
                Cell(
                    round(r["changes"] / moved, 1) if moved else None,
                    f"{r['changes'] / moved:.1f}" if moved else "—",
                    num=True,
                ),
                Cell(days, f"{days:+,}" if days else "0", num=True, sort=days),
                Cell(
                    round(days / moved, 1) if moved else None,
                    f"{days / moved:+.1f}" if moved else "—",
                    num=True,
                ),
                Cell(
                    as_share(share),
                    f"{r['due_moved']} of {r['due']} ({percent(share)})" if r["due"] else "—",
                    num=True,
                    sort=share,
                ),
            ]
        )
    changes = sum(r["changes"] for r in rows)
    if not changes:
        figure.finding = "No due dates were changed in this period"
    else:
        worst = max(rows, key=lambda r: (r["slipped"], r["changes"]))
        figure.finding = (
            f"{changes} due-date changes; {worst['team_name']} slipped most: "
            f"{worst['slipped'].days:+,} days over {worst['changes']} changes"
        )
        chart_rows = sorted(
            [r for r in rows if r["changes"]], key=lambda r: (-r["slipped"], r["team_name"])
        )[:CHART_ROWS]
        figure.chart = charts.bars(
            rows=[r["team_name"] for r in chart_rows],
            series=[Series("days", "Days slipped (net)", charts.ORANGE)],
            values={"days": [max(r["slipped"].days, 0) for r in chart_rows]},
            unit=charts.count_unit("days slipped"),
            category_label="team",
            hrefs=[board.rows_url("items-moved", team=r["team_slug"]) for r in chart_rows],
        )
    return figure
