"""What a dashboard figure is made of (a finding, a table of cells, a chart) and the small
formatting helpers every figure shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.safestring import SafeString, mark_safe

from ...metrics import HEALTHY_RATE, THEATRE_RATE
from ...models import ActionItem
from .. import charts, svg
from .definitions import DEFINITIONS

BAND_LABELS = {"healthy": "Healthy", "at_risk": "At risk", "theatre": "Theatre", None: "—"}
LIST_LIMIT = 10  # rows of a list figure shown on the page; the CSV has them all
# Rows of a team or owner table on the dashboard: as many as its chart has bars, and what fits
# a 1280x720 screen share. The figure's own page and the CSV have every row.
TABLE_LIMIT = 15
CHART_ROWS = 15
REFERENCES = [(HEALTHY_RATE * 100, "80% healthy"), (THEATRE_RATE * 100, "50% theatre")]
OPEN_STATUSES = [str(s) for s in ActionItem.OPEN_STATUSES]


@dataclass
class Cell:
    value: object = None  # what the CSV gets
    text: str | None = None  # what the page shows (default: the value)
    link: str | Callable[[], str] = ""  # a URL, or a function making it when shown
    num: bool = False
    mono: bool = False  # references and dates: monospace, never wrapped

    @property
    def href(self) -> str:
        # Built on demand: the CSV has no links.
        return self.link() if callable(self.link) else self.link

    def __str__(self) -> str:
        if self.text is not None:
            return self.text
        return "—" if self.value is None else str(self.value)


@dataclass
class Column:
    label: str
    key: str = ""  # sortable when set (the `<figure>_sort` value), by `by`
    num: bool = False
    unit: str = ""  # of the CSV value, when the page shows it formatted ("5 d 2 h")
    # What a metric row sorts by in this column (None: the row goes last); see Dashboard.shown.
    by: Callable[[dict], object] | None = None

    @property
    def csv_label(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass
class Figure:
    key: str
    heading: str
    finding: str
    columns: list[Column]
    rows: list[list[Cell]]
    chart: charts.Chart | None = None
    small_charts: list[tuple[str, charts.Chart, str]] = field(default_factory=list)
    empty: str = ""
    limit: int | None = None  # rows built for the dashboard (see Dashboard.shown)
    sort: str = ""  # "<column key>" or "-<column key>"
    more: tuple[str, str] | None = None  # (label, href) of the full list
    headers: list[dict] = field(default_factory=list)  # column heads with their sort links
    table_open: bool = False  # just re-sorted: show the table, not only the chart
    wide: bool = False  # a list: spans the whole row so its columns stay readable
    later_url: str = ""  # drawn by a second request once the page is shown (see Dashboard.later)
    row_count: int | None = None  # of the whole table, when only the shown rows were built
    noun: str = "rows"  # what a row is, for "Showing 15 of 200 teams"
    all_url: str = ""  # the figure's own page, with every row, when some are not shown

    @property
    def definition(self) -> str:
        return DEFINITIONS[self.key]

    @property
    def chart_html(self) -> SafeString:
        return svg.chart_svg(self.chart, self.key, self.finding) if self.chart else ""

    @property
    def small_charts_html(self) -> list[tuple[str, SafeString]]:
        return [(label, svg.chart_svg(c, cid, label)) for label, c, cid in self.small_charts]

    @property
    def body_html(self) -> SafeString:
        """The table's rows, written here rather than by the template, which spent ~60 µs on
        each cell (a page has a few hundred)."""
        return mark_safe("".join(_row_html(row) for row in self.rows))  # noqa: S308 (escaped)

    @property
    def total_rows(self) -> int:
        return len(self.rows) if self.row_count is None else self.row_count

    @property
    def hidden_count(self) -> int:
        return max(self.total_rows - len(self.rows), 0)

    @property
    def total_text(self) -> str:
        return f"{self.total_rows:,}"

    @property
    def sortable(self) -> bool:
        return any(c.key for c in self.columns)


def _cell_html(cell: Cell, first: bool) -> str:
    text = svg.escaped(str(cell))
    href = cell.href
    if href:
        text = f'<a href="{svg.escaped(href)}">{text}</a>'
    if first:
        return f'<th scope="row">{text}</th>'
    kind = ' class="num mono"' if cell.num else ' class="mono nowrap"' if cell.mono else ""
    return f"<td{kind}>{text}</td>"


def _row_html(row: list[Cell]) -> str:
    cells = "".join(_cell_html(cell, i == 0) for i, cell in enumerate(row))
    return f"<tr>\n              {cells}\n            </tr>"


@dataclass
class Headline:
    key: str
    label: str
    value: str
    detail: str
    href: str
    link_label: str
    band: str | None = None
    band_label: str = ""
    change: str = ""

    @property
    def definition(self) -> str:
        return DEFINITIONS[self.key]


@dataclass
class Section:
    title: str
    figures: list[Figure]


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def person(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def as_share(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)


def signed_points(points: int | None) -> str:
    return "—" if points is None else f"{points:+d}" if points else "0"


def iso_day(day: date | None) -> str:
    return day.isoformat() if day else ""


def in_units(value: timedelta | None, seconds: float) -> float | None:
    return None if value is None else value.total_seconds() / seconds


def as_hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


def as_minutes(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 1)
