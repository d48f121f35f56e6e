"""The one builder of a per-month table: every figure with a row per calendar month (completion,
cycle time, severity, response times, recurrence) lays its months out here, so they all name,
key and label months the same way in the table, the CSV, the chart and the links."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .shapes import Cell, Figure


@dataclass(frozen=True)
class Months:
    """A run of months as a figure shows them."""

    keys: list[str]  # "2026-03": the CSV value, and the `month` of the lists behind a number
    short: list[str]  # the chart's axis labels: "Mar", or "Mar 26" when the run spans years
    names: list[str]  # "March 2026": the table's month column and the charts' hover titles


def months_of(months: list[date]) -> Months:
    years = {m.year for m in months}
    return Months(
        keys=[f"{m:%Y-%m}" for m in months],
        short=[f"{m:%b}" if len(years) == 1 else f"{m:%b %y}" for m in months],
        names=[f"{m:%B %Y}" for m in months],
    )


def month_table(
    figure: Figure, rows: list[dict], cells: Callable[[dict, str], list[Cell]]
) -> Months:
    """Append one table row per month to `figure`: the month (its key in the CSV, its name on
    the page), then `cells(row, key)`. `rows` are a metric's monthly aggregates, each with its
    first day as "month", in order. Returns the months for the chart's labels and links."""
    months = months_of([r["month"] for r in rows])
    for r, key, name in zip(rows, months.keys, months.names, strict=True):
        figure.rows.append([Cell(key, name), *cells(r, key)])
    return months
