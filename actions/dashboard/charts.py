"""Chart geometry for server-side SVG: Python works out positions, svg.py draws them.

Why SVG drawn on the server and not by a JavaScript chart library: the charts are on
the page as soon as the HTML arrives (no script, nothing to vendor or update), they print and
screen-share crisply at any size, every bar carries its value as an SVG <title> (shown on
hover), and the same numbers sit in an accessible table under each chart.

Colours are the Okabe–Ito palette, chosen to stay distinguishable with the common forms of
colour blindness; every series is also named in a legend and every bar has a text value, so
colour never carries meaning alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

# Okabe & Ito, "Color Universal Design" (2008).
BLUE = "#0072B2"
SKY = "#56B4E9"
GREEN = "#009E73"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#8C959F"
BAND_COLOURS = {"healthy": GREEN, "at_risk": ORANGE, "theatre": VERMILLION, None: GREY}
BAND_LEGEND = [
    (GREEN, "Healthy (80% or more)"),
    (ORANGE, "At risk (50–80%)"),
    (VERMILLION, "Theatre (under 50%)"),
]

WIDTH = 640
FONT = 12  # user units; the SVG scales with its box


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str


@dataclass(frozen=True)
class Unit:
    """How values of a chart read: the axis title and the format of one value."""

    label: str
    format: Callable[[float], str]
    whole: bool = False  # counts: ticks on whole numbers


def count_unit(label: str) -> Unit:
    return Unit(label, lambda v: f"{v:,.0f}", whole=True)


PERCENT = Unit("% done on time", lambda v: f"{v:.0f}%")


def duration_unit(longest_seconds: float) -> tuple[Unit, float]:
    """A unit for durations up to `longest_seconds`, and the number of seconds in it."""
    if longest_seconds < 2 * 3600:
        return Unit("minutes", lambda v: f"{v:.0f} m"), 60.0
    if longest_seconds < 3 * 86400:
        return Unit("hours", lambda v: f"{v:.1f} h" if v < 10 else f"{v:.0f} h"), 3600.0
    return Unit("days", lambda v: f"{v:.1f} d" if v < 10 else f"{v:.0f} d"), 86400.0


def ticks(top: float, *, whole: bool = False, count: int = 4) -> list[float]:
    """Round axis ticks from 0 to at least `top` (about `count` steps)."""
    top = top if top > 0 else 1
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(1, math.ceil(step))
    steps = math.ceil(top / step - 1e-9)
    return [round(i * step, 6) for i in range(steps + 1)]


@dataclass(frozen=True)
class Axis:
    """The value axis of a chart: its ticks from 0, and where a value sits between `start`
    (the position of 0) and `end` (the position of the last tick), in user units."""

    ticks: list[float]
    start: float
    end: float

    @property
    def ceiling(self) -> float:
        return self.ticks[-1]

    def at(self, value: float) -> float:
        return round(self.start + (self.end - self.start) * value / self.ceiling, 1)

    def grid(self, unit: Unit, coordinate: str) -> list[dict]:
        """One grid line per tick, labelled in the chart's unit; `coordinate` is "x" or "y"."""
        return [{coordinate: self.at(t), "label": unit.format(t)} for t in self.ticks]


def totals(series: list[Series], values: dict[str, list[float | None]], count: int) -> list:
    """Each category's stacked total; None when no series has a value for it."""
    return [
        sum(values[s.key][i] or 0 for s in series) if _has(values, series, i) else None
        for i in range(count)
    ]


def axis(
    stacked: list[float | None],
    *,
    unit: Unit,
    start: float,
    end: float,
    top: float | None = None,
    references: list[tuple[float, str]] = (),
    markers: tuple[Series, list[float | None]] | None = None,
) -> Axis:
    """The axis every chart kind uses: up to `top` if given, else up to the largest of the
    stacked totals, reference lines and markers (so none is drawn off the chart)."""
    if top is None:
        candidates = [t for t in stacked if t is not None] + [r for r, _ in references]
        if markers:
            candidates += [m for m in markers[1] if m is not None]
        top = max(candidates, default=0)
    return Axis(ticks(top, whole=unit.whole), start, end)


@dataclass
class Chart:
    """Everything the SVG template draws, in user units of a WIDTH-wide viewBox."""

    kind: str  # "columns" or "bars"
    width: int
    height: int
    axis_label: str
    category_label: str
    desc: str
    grid: list[dict] = field(default_factory=list)
    bars: list[dict] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)
    references: list[dict] = field(default_factory=list)
    markers: list[dict] = field(default_factory=list)
    legend: list[dict] = field(default_factory=list)
    plot: dict = field(default_factory=dict)


def columns(
    *,
    categories: list[str],
    series: list[Series],
    values: dict[str, list[float | None]],
    unit: Unit,
    category_label: str,
    names: list[str] | None = None,
    top: float | None = None,
    references: list[tuple[float, str]] = (),
    markers: tuple[Series, list[float | None]] | None = None,
    hrefs: list[str] | None = None,
    segment_hrefs: dict[str, list[str]] | None = None,
    colours: list[str] | None = None,
    legend: list[tuple[str, str]] | None = None,
    width: int = WIDTH,
    height: int = 260,
) -> Chart:
    """Vertical bars, one per category (months), series stacked; None = no value (drawn as
    a dash). `markers` draws a tick per category (e.g. the 90th percentile); `colours`
    overrides the colour of single-series bars per category, and then `legend` (colour,
    label) says what the colours mean. A narrower `width` makes the text relatively larger
    (for charts drawn small)."""
    names = names or categories
    # Reference lines are labelled in the right margin, clear of the bars.
    left, right, top_pad, bottom = 56, 84 if references else 16, 20, 46
    x0, x1, y0, y1 = left, width - right, top_pad, height - bottom
    stacked = totals(series, values, len(categories))
    scale = axis(
        stacked, unit=unit, start=y1, end=y0, top=top, references=references, markers=markers
    )
    y = scale.at

    slot = (x1 - x0) / max(len(categories), 1)
    bar = round(min(slot * 0.62, 56), 1)
    chart = Chart(
        "columns",
        width,
        height,
        unit.label,
        category_label,
        desc=f"Column chart of {unit.label} by {category_label}; the table below lists them.",
        plot={
            "x0": x0,
            "x1": x1,
            "y0": y0,
            "y1": y1,
            "tick_x": x0 - 6,
            "axis_x": 14,
            "axis_y": (y0 + y1) / 2,
            "label_x": (x0 + x1) / 2,
            "label_y": height - 6,
        },
    )
    chart.grid = scale.grid(unit, "y")
    # Narrow slots (a year of months in a small chart): label every few months, and leave
    # the values to the hover titles and the table.
    every = max(1, math.ceil(44 / slot))
    show_values = slot >= 40
    for i, name in enumerate(categories):
        centre = x0 + slot * (i + 0.5)
        bar_x = round(centre - bar / 2, 1)
        href = hrefs[i] if hrefs else ""
        if i % every == 0:
            chart.categories.append({"x": round(centre, 1), "y": y1 + 16, "text": name})
        if stacked[i] is None:
            chart.labels.append({"x": round(centre, 1), "y": y1 - 6, "text": "–"})
            continue
        base = 0.0
        for s in series:
            value = values[s.key][i] or 0
            if value <= 0:
                continue
            colour = colours[i] if colours and len(series) == 1 else s.colour
            chart.bars.append(
                {
                    "x": bar_x,
                    "y": y(base + value),
                    "w": bar,
                    "h": round(y(base) - y(base + value), 1),
                    "fill": colour,
                    "title": f"{names[i]} · {s.label}: {unit.format(value)}",
                    "href": segment_href(segment_hrefs, s.key, i, href),
                }
            )
            base += value
        if show_values:
            chart.labels.append(
                {"x": round(centre, 1), "y": y(stacked[i]) - 5, "text": unit.format(stacked[i])}
            )
    if markers:
        marker, marks = markers
        for i, value in enumerate(marks):
            if value is None:
                continue
            centre = x0 + slot * (i + 0.5)
            chart.markers.append(
                {
                    "x1": round(centre - bar / 2 - 4, 1),
                    "x2": round(centre + bar / 2 + 4, 1),
                    "y": y(value),
                    "colour": marker.colour,
                    "title": f"{names[i]} · {marker.label}: {unit.format(value)}",
                }
            )
    chart.references = [{"y": y(v), "label": label, "x": x1 + 4} for v, label in references]
    chart.legend = _legend(series, markers, legend)
    return _plain_numbers(chart)


def segment_href(segment_hrefs: dict[str, list[str]] | None, key: str, i: int, whole: str) -> str:
    """Where one stacked segment leads: its own rows when the figure gives per-series links (a
    series without them is not linked: its category's link would list more than it shows),
    else the whole category's rows."""
    if segment_hrefs is None:
        return whole
    links = segment_hrefs.get(key)
    return links[i] if links else ""


def bars(
    *,
    rows: list[str],
    series: list[Series],
    values: dict[str, list[float | None]],
    unit: Unit,
    category_label: str,
    top: float | None = None,
    references: list[tuple[float, str]] = (),
    markers: tuple[Series, list[float | None]] | None = None,
    hrefs: list[str] | None = None,
    segment_hrefs: dict[str, list[str]] | None = None,
    colours: list[str] | None = None,
    notes: list[str] | None = None,
    legend: list[tuple[str, str]] | None = None,
) -> Chart:
    """Horizontal bars, one row per category (teams, owners), series stacked; `notes` is a
    short text after each bar's value (e.g. the health band)."""
    label_width, right, row = 170, 120, 24
    top_pad = 24 if references else 10  # room for the reference lines' labels
    x0, x1 = label_width, WIDTH - right
    height = top_pad + row * len(rows) + 40
    y0, y1 = top_pad, top_pad + row * len(rows)
    stacked = totals(series, values, len(rows))
    scale = axis(
        stacked, unit=unit, start=x0, end=x1, top=top, references=references, markers=markers
    )
    x = scale.at

    chart = Chart(
        "bars",
        WIDTH,
        height,
        unit.label,
        category_label,
        desc=f"Bar chart of {unit.label} by {category_label}; the table below lists them.",
        plot={
            "x0": x0,
            "x1": x1,
            "y0": y0,
            "y1": y1,
            "tick_y": y1 + 14,
            "label_x": (x0 + x1) / 2,
            "label_y": height - 4,
        },
    )
    chart.grid = scale.grid(unit, "x")
    thickness = 15
    for i, name in enumerate(rows):
        top_y = y0 + row * i + (row - thickness) / 2
        chart.categories.append({"x": x0 - 8, "y": round(top_y + thickness - 3, 1), "text": name})
        href = hrefs[i] if hrefs else ""
        if stacked[i] is None:
            chart.labels.append({"x": x0 + 4, "y": round(top_y + thickness - 3, 1), "text": "–"})
            continue
        base = 0.0
        for s in series:
            value = values[s.key][i] or 0
            if value <= 0:
                continue
            colour = colours[i] if colours and len(series) == 1 else s.colour
            chart.bars.append(
                {
                    "x": x(base),
                    "y": round(top_y, 1),
                    "w": round(x(base + value) - x(base), 1),
                    "h": thickness,
                    "fill": colour,
                    "title": f"{name} · {s.label}: {unit.format(value)}",
                    "href": segment_href(segment_hrefs, s.key, i, href),
                }
            )
            base += value
        text = unit.format(stacked[i]) + (f" {notes[i]}" if notes and notes[i] else "")
        chart.labels.append(
            {"x": x(stacked[i]) + 5, "y": round(top_y + thickness - 3, 1), "text": text}
        )
    if markers:
        marker, marks = markers
        for i, value in enumerate(marks):
            if value is None:
                continue
            top_y = y0 + row * i + (row - thickness) / 2
            chart.markers.append(
                {
                    "x": x(value),
                    "y1": round(top_y - 3, 1),
                    "y2": round(top_y + thickness + 3, 1),
                    "colour": marker.colour,
                    "title": f"{rows[i]} · {marker.label}: {unit.format(value)}",
                }
            )
    chart.references = [{"x": x(v), "label": label, "y": y0 - 8} for v, label in references]
    chart.legend = _legend(series, markers, legend)
    return _plain_numbers(chart)


def _legend(series, markers, override) -> list[dict]:
    entries = [(s.colour, s.label) for s in series] if override is None else list(override)
    if markers:
        entries.append((markers[0].colour, markers[0].label))
    if len(entries) < 2 and not markers and override is None:
        return []  # one series: the axis title says it all
    return [{"colour": colour, "label": label} for colour, label in entries]


def _plain_numbers(chart: Chart) -> Chart:
    """Coordinates as plain strings ("12.5"): a template would localise numbers (a decimal
    comma, a thousands separator) and SVG needs them as they are."""

    def plain(value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        return f"{value:.1f}".removesuffix(".0")

    for shapes in (
        chart.grid,
        chart.bars,
        chart.labels,
        chart.categories,
        chart.references,
        chart.markers,
    ):
        for shape in shapes:
            shape.update({key: plain(value) for key, value in shape.items()})
    chart.plot = {key: plain(value) for key, value in chart.plot.items()}
    return chart


def _has(values: dict, series: list[Series], i: int) -> bool:
    return any(values[s.key][i] is not None for s in series)
