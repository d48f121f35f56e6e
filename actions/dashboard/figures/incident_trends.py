"""Incidents: by severity, response times and recurrence, each by month."""

from __future__ import annotations

from incidents.formatting import duration
from incidents.models import Severity

from ... import metrics
from .. import charts
from ..charts import Series
from .months import month_table
from .shapes import Cell, Column, Figure, as_minutes, in_units


def severity_month(board) -> Figure:
    rows = board.severity_rows
    levels = [f"SEV{s}" for s in Severity.values]
    columns = [Column("Month")] + [Column(level, num=True) for level in levels]
    columns.append(Column("Total", num=True))
    figure = Figure(
        "severity-month",
        "Incidents by severity, by month",
        "",
        columns,
        [],
        empty="No incidents started in this period.",
    )
    total = sum(r["total"] for r in rows)
    if not total:
        figure.finding = "No incidents started in this period"
        return figure

    def cells(r: dict, month: str) -> list[Cell]:
        line = []
        for sev, level in zip(Severity.values, levels, strict=True):
            href = board.rows_url("incidents", month=month, severity=sev) if r[level] else ""
            line.append(Cell(r[level], link=href, num=True))
        href = board.rows_url("incidents", month=month) if r["total"] else ""
        line.append(Cell(r["total"], link=href, num=True))
        return line

    months = month_table(figure, rows, cells)
    busiest_name, busiest = max(zip(months.names, rows, strict=True), key=lambda p: p[1]["total"])
    sev1 = sum(r["SEV1"] for r in rows)
    figure.finding = f"{total:,} incident{'s' if total != 1 else ''}, {sev1:,} SEV1" + (
        f"; the most in {busiest_name} ({busiest['total']})" if len(rows) > 1 else ""
    )
    colours = {"SEV1": charts.VERMILLION, "SEV2": charts.ORANGE, "SEV3": charts.SKY}
    figure.chart = charts.columns(
        categories=months.short,
        names=months.names,
        series=[Series(level, level, colours[level]) for level in levels],
        values={level: [r[level] for r in rows] for level in levels},
        unit=charts.count_unit("incidents"),
        category_label="month started",
        hrefs=[board.rows_url("incidents", month=month) for month in months.keys],
        # Each segment opens its own rows: "June · SEV1: 3" lists those three incidents.
        segment_hrefs={
            level: [board.rows_url("incidents", month=month, severity=sev) for month in months.keys]
            for sev, level in zip(Severity.values, levels, strict=True)
        },
    )
    return figure


def response_month(board) -> Figure:
    rows = board.incidents["response_months"]
    overall = board.incidents["response"]
    counts = {r["month"]: r["total"] for r in board.severity_rows}
    phases = [("detect", "detect"), ("mitigate", "mitigate"), ("resolve", "resolve")]
    columns = [Column("Month"), Column("Incidents", num=True)]
    columns += [Column(f"Median time to {label}", num=True, unit="minutes") for _, label in phases]
    figure = Figure(
        "response-month",
        "Time to detect, mitigate and resolve (median), by month",
        "",
        columns,
        [],
        empty="No incidents started in this period.",
    )
    if not any(counts.values()):
        figure.finding = "No incidents started in this period"
        return figure

    def cells(r: dict, month: str) -> list[Cell]:
        n = counts.get(r["month"], 0)
        line = [Cell(n, link=board.rows_url("incidents", month=month) if n else "", num=True)]
        return line + [Cell(as_minutes(r[key]), duration(r[key]), num=True) for key, _ in phases]

    months = month_table(figure, rows, cells)
    figure.finding = "Median time to " + ", to ".join(
        f"{label} {duration(overall[key])}" for key, label in phases
    )
    for key, label in phases:
        values = [r[key] for r in rows]
        longest = max([v.total_seconds() for v in values if v is not None], default=60)
        unit, seconds = charts.duration_unit(longest)
        figure.small_charts.append(
            (
                f"Time to {label}",
                charts.columns(
                    categories=months.short,
                    names=months.names,
                    series=[Series(key, f"Median time to {label}", charts.BLUE)],
                    values={key: [in_units(v, seconds) for v in values]},
                    unit=unit,
                    category_label="month started",
                    width=360,
                    height=220,
                ),
                f"{figure.key}-{key}",
            )
        )
    return figure


def recurrence_month(board) -> Figure:
    rows = metrics.recurrence_by_month(board.period, board.scope, board.viewer)
    columns = [
        Column("Month"),
        Column("Repeat incidents", num=True),
        Column("Same pattern label", num=True),
        Column("After a prevention item was done", num=True),
    ]
    figure = Figure(
        "recurrence-month",
        "Recurring incidents, by month",
        "",
        columns,
        [],
        empty="No incident in this period repeated one from the 12 months before.",
    )
    repeats = sum(r["repeats"] for r in rows)
    if not repeats:
        figure.finding = "No incident in this period repeated an earlier one"
        return figure
    months = month_table(
        figure,
        rows,
        lambda r, month: [
            Cell(
                r["repeats"],
                link=board.rows_url("repeats", month=month) if r["repeats"] else "",
                num=True,
            ),
            Cell(
                r["same_pattern"],
                link=board.rows_url("repeats", month=month, why="pattern")
                if r["same_pattern"]
                else "",
                num=True,
            ),
            Cell(
                r["after_fix"],
                link=board.rows_url("repeats", month=month, why="after-fix")
                if r["after_fix"]
                else "",
                num=True,
            ),
        ],
    )
    fixed = sum(r["after_fix"] for r in rows)
    figure.finding = (
        f"{repeats:,} incident{'s' if repeats != 1 else ''} repeated an earlier one; "
        f"{fixed:,} after a prevention item was marked done"
    )
    figure.more = ("All repeat incidents", board.rows_url("repeats"))
    figure.chart = charts.columns(
        categories=months.short,
        names=months.names,
        series=[
            Series("fixed", "After a prevention item was done", charts.VERMILLION),
            Series("other", "Other repeats", charts.PURPLE),
        ],
        values={
            "fixed": [r["after_fix"] for r in rows],
            "other": [r["repeats"] - r["after_fix"] for r in rows],
        },
        unit=charts.count_unit("repeat incidents"),
        category_label="month started",
        hrefs=[board.rows_url("repeats", month=month) for month in months.keys],
        segment_hrefs={
            "fixed": [board.rows_url("repeats", month=m, why="after-fix") for m in months.keys],
            "other": [board.rows_url("repeats", month=m, why="other") for m in months.keys],
        },
    )
    return figure
