"""Due-date slippage by team."""

from __future__ import annotations

from ... import metrics
from .. import charts
from ..charts import Series
from .shapes import CHART_ROWS, TABLE_LIMIT, Cell, Column, Figure, as_share, percent


def slippage_team(board) -> Figure:
    # Slippage reads the judged period's due items from the completion sums; its
    # due-date changes are those recorded in the whole period.
    rows = metrics.slippage_by_team(board.period, board.scope, board.viewer, sums=board.team_sums)

    def share(r: dict) -> float | None:
        return r["due_moved"] / r["due"] if r["due"] else None

    columns = [
        Column("Team", "team", by=lambda r: r["team_name"].lower()),
        Column("Due-date changes", "changes", num=True, by=lambda r: r["changes"]),
        Column("Items moved", num=True),
        Column("Changes per moved item", num=True),
        Column("Days slipped (net)", "days", num=True, by=lambda r: r["slipped"].days),
        Column("Days per moved item", num=True),
        Column("Due items moved", "share", num=True, unit="share 0-1", by=share),
    ]
    figure = Figure(
        "slippage-team",
        "Due-date slippage by team",
        "",
        columns,
        [],
        empty="No due dates were changed and no items came due in this period.",
        sort="-days",
        limit=TABLE_LIMIT,
        noun="teams",
    )
    if not rows:
        figure.finding = "No due dates were changed in this period"
        return figure
    for r in board.shown(figure, rows):
        days = r["slipped"].days
        moved = r["items_moved"]
        moved_share = share(r)
        # The same list behind both counts: built once.
        url = board.rows_url("items-moved", team=r["team_slug"]) if r["changes"] or moved else ""
        figure.rows.append(
            [
                Cell(r["team_name"]),
                Cell(r["changes"], link=url if r["changes"] else "", num=True),
                Cell(moved, link=url if moved else "", num=True),
                Cell(
                    round(r["changes"] / moved, 1) if moved else None,
                    f"{r['changes'] / moved:.1f}" if moved else "—",
                    num=True,
                ),
                Cell(days, f"{days:+,}" if days else "0", num=True),
                Cell(
                    round(days / moved, 1) if moved else None,
                    f"{days / moved:+.1f}" if moved else "—",
                    num=True,
                ),
                Cell(
                    as_share(moved_share),
                    f"{r['due_moved']} of {r['due']} ({percent(moved_share)})" if r["due"] else "—",
                    num=True,
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
