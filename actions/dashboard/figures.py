"""The dashboard's figures: each states its finding, says how it is computed, and carries a
table (which is also its CSV export), a chart, and links to the lists behind its numbers.

Numbers come from actions/metrics.py (the monthly digest's definitions, viewer-aware here).
Python only shapes the aggregated rows (one per month, team, owner or priority) for display.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, partial
from urllib.parse import urlencode

from django.urls import reverse

from incidents.formatting import duration
from incidents.models import Severity

from .. import metrics
from ..metrics import HEALTHY_RATE, THEATRE_RATE
from ..models import ActionItem
from . import charts
from .charts import Series
from .params import Selection

BAND_LABELS = {"healthy": "Healthy", "at_risk": "At risk", "theatre": "Theatre", None: "—"}
LIST_LIMIT = 10  # rows of a list figure shown on the page; the CSV has them all
OWNER_LIMIT = 25
CHART_ROWS = 15
REFERENCES = [(HEALTHY_RATE * 100, "80% healthy"), (THEATRE_RATE * 100, "50% theatre")]
OPEN_STATUSES = [str(s) for s in ActionItem.OPEN_STATUSES]

DEFINITIONS = {
    "completion": (
        "Of the action items due in the period up to yesterday (an item due today still has "
        "the day), the share marked done on or before its due date (UTC day). Items marked "
        "won't do are left out: dropping an item is a recorded decision, not a miss. An item "
        "reopened since counts as not done; one done again counts by its latest completion. "
        "The due date is the item's current one, so a moved date moves the item (see "
        "slippage). Healthy at 80% or more, theatre below 50%. The same definition as the "
        "monthly digest; private incidents count only for people who can see them."
    ),
    "overdue": (
        "Open, in-progress and blocked items whose due date is before today (in your "
        "timezone), now, whatever the period: the same rule as the action item list's "
        "“Overdue only” filter, which every count here links to."
    ),
    "owed": (
        "Incidents whose policy requires a full postmortem, resolved more than 7 days ago, "
        "with no published postmortem: the monthly digest's definition, as of today (UTC)."
    ),
    "cycle": (
        "For the postmortems published in the period: the time from the incident's "
        "resolution to publication. Median and 90th percentile use linear interpolation "
        "between the nearest values (PostgreSQL's percentile_cont; the same formula in Python "
        "on SQLite). “Within 7 days” is the practice's target for publishing."
    ),
    "completion-month": (
        "The completion rate by due date (see the headline figure) for each calendar month, "
        "by the month the items were due; the first and last months only count the days "
        "inside the period."
    ),
    "completion-team": (
        "The completion rate by due date per team (the team that owns the incident the item "
        "came from), compared with the period of the same length just before. Teams with "
        "items due in either period are listed."
    ),
    "overdue-team": (
        "Open items per team now, and how many of them are overdue (due before today in "
        "your timezone). Counts link to the action item list with the same filters."
    ),
    "owners": (
        "Who carries the follow-ups: open (open, in progress, blocked) items per owner now, "
        "how many are overdue, and the oldest overdue due date."
    ),
    "priority-leverage": (
        "Action items created in the period by priority (P0 today … P3 backlog) and leverage "
        "(prevention stops the class of incident, detection catches it sooner, mitigation "
        "limits impact), with where they stand now."
    ),
    "no-prevention": (
        "Postmortems published in the period with no prevention action item (a won't-do one "
        "does not count). The practice asks whether such a review found the real factors."
    ),
    "cycle-month": (
        "Postmortem cycle time (resolution → publication) per month of publication: median, "
        "90th percentile and the share published within 7 days."
    ),
    "owed-list": (
        "The postmortems owed now (required by the policy, incident resolved more than 7 "
        "days ago, not published), oldest resolution first."
    ),
    "severity-month": (
        "Incidents that started in the period, by month of their start (UTC) and severity."
    ),
    "response-month": (
        "Median time from an incident's start to its detection, mitigation and resolution, "
        "for the incidents that started each month. Each time is the one recorded on the "
        "incident, or else the first timeline event of that phase (detection, mitigation, "
        "resolution) at or after the start; incidents without one are left out of that "
        "median."
    ),
    "recurrence-month": (
        "Incidents started in the period that repeat one from the 12 months before (that "
        "you can see): the same pattern label, or a shared service and a shared "
        "contributing-factor category. “After a fix”: an earlier incident it repeats had a "
        "prevention action item marked done before this one started (its completion time, "
        "or a recorded move to done), so the fix did not hold."
    ),
    "slippage-team": (
        "Due-date changes recorded in the period per team: how many, how many items they "
        "moved, and the net days slipped (new date minus old, summed; moving a date earlier "
        "counts as negative). “Due items moved” is, of the items due in the period (as for "
        "completion), how many had their due date changed at any time."
    ),
}


@dataclass
class Cell:
    value: object = None  # what the CSV gets
    text: str | None = None  # what the page shows (default: the value)
    link: str | Callable[[], str] = ""  # a URL, or a function making it when shown
    num: bool = False
    sort: object = None
    mono: bool = False  # references and dates: monospace, never wrapped

    @property
    def href(self) -> str:
        # Built on demand: a table of 2,000 owners shows 25 rows, the CSV has no links.
        return self.link() if callable(self.link) else self.link

    def __str__(self) -> str:
        if self.text is not None:
            return self.text
        return "—" if self.value is None else str(self.value)


@dataclass
class Column:
    label: str
    key: str = ""  # sortable when set
    num: bool = False
    unit: str = ""  # of the CSV value, when the page shows it formatted ("5 d 2 h")

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
    limit: int | None = None
    sort: str = ""  # "<column key>" or "-<column key>"
    more: tuple[str, str] | None = None  # (label, href) of the full list
    headers: list[dict] = field(default_factory=list)  # column heads with their sort links
    table_open: bool = False  # just re-sorted: show the table, not only the chart
    wide: bool = False  # a list: spans the whole row so its columns stay readable
    later_url: str = ""  # drawn by a second request once the page is shown (see Dashboard.later)

    @property
    def definition(self) -> str:
        return DEFINITIONS[self.key]

    @property
    def shown(self) -> list[list[Cell]]:
        return self.rows[: self.limit] if self.limit else self.rows

    @property
    def hidden_count(self) -> int:
        return max(len(self.rows) - len(self.shown), 0)

    @property
    def sortable(self) -> bool:
        return any(c.key for c in self.columns)


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


class Dashboard:
    """The figures of one period and scope for one viewer; each metric runs at most once."""

    FIGURES = {
        "completion-month": "completion_month",
        "completion-team": "completion_team",
        "overdue-team": "overdue_team",
        "owners": "owners",
        "priority-leverage": "priority_leverage",
        "no-prevention": "no_prevention",
        "cycle-month": "cycle_month",
        "owed-list": "owed_list",
        "severity-month": "severity_month",
        "response-month": "response_month",
        "recurrence-month": "recurrence_month",
        "slippage-team": "slippage_team",
    }

    def __init__(self, selection: Selection, viewer, local_today: date, sorts=None):
        self.s = selection
        self.viewer = viewer
        # Overdue uses the viewer's local day, like the action item list the counts link to.
        self.local_today = local_today
        self.sorts = sorts or {}
        self.period = selection.period
        self.scope = selection.scope

    # Links -------------------------------------------------------------------------------

    def list_url(self, *, team: str | None = None, **params) -> str:
        """The action item list with exactly the filters it understands."""
        pairs = self.s.list_filter()
        if team and not any(name == "team" for name, _ in pairs):
            pairs.append(("team", team))
        for name, value in params.items():
            values = value if isinstance(value, list) else [value]
            pairs += [(name, str(v)) for v in values]
        return f"{self.list_path}?{urlencode(pairs)}"

    @cached_property
    def list_path(self) -> str:
        return reverse("actions:list")  # once: an owners table links thousands of counts

    def rows_url(self, kind: str, **extra) -> str:
        return f"{reverse('actions:dashboard-rows', args=[kind])}?{self.s.query(**extra)}"

    def scoped_url(self, scope_key: str) -> str:
        params = [(k, v) for k, v in self.s.params() if k != "scope"] + [("scope", scope_key)]
        return f"{reverse('actions:dashboard')}?{urlencode(params)}"

    # Metrics, each computed once ---------------------------------------------------------

    @cached_property
    def judged(self):
        return self.s.judged

    @cached_property
    def grid(self) -> list[dict]:
        """Items due in the judged period and the one before, per team and month: the one
        read behind completion (headline, by month, by team) and slippage's due items."""
        if not self.judged:
            return []
        return metrics.completion_grid(self.judged, self.scope, self.viewer)

    @cached_property
    def completion(self) -> dict:
        """completion_by_due_date, summed from the grid (a test holds them equal)."""
        current = [r for r in self.grid if r["current"]]
        figures = {
            "due": sum(r["due"] for r in current),
            "on_time": sum(r["on_time"] for r in current),
        }
        rate = figures["on_time"] / figures["due"] if figures["due"] else None
        return figures | {"rate": rate, "band": metrics.health_band(rate)}

    @cached_property
    def completion_teams(self) -> list[dict]:
        if not self.judged:
            return []
        return metrics.completion_by_team(self.judged, self.scope, self.viewer, grid=self.grid)

    @cached_property
    def completion_months(self) -> list[dict]:
        if not self.judged:
            return []
        return metrics.completion_by_month(self.judged, self.scope, self.viewer, grid=self.grid)

    @cached_property
    def open_grid(self) -> list[dict]:
        return metrics.open_items_grid(self.scope, self.viewer, self.local_today)

    @cached_property
    def open_teams(self) -> list[dict]:
        return metrics.open_by_team(self.scope, self.viewer, self.local_today, self.open_grid)

    @cached_property
    def open_owners(self) -> list[dict]:
        return metrics.open_by_owner(self.scope, self.viewer, self.local_today, self.open_grid)

    @cached_property
    def owed(self):
        return metrics.postmortems_owed(self.s.today, self.scope, self.viewer)

    @cached_property
    def owed_count(self) -> int:
        return self.owed.count()

    @cached_property
    def owed_first(self) -> list:
        return list(self.owed[:LIST_LIMIT])

    @cached_property
    def cycle(self) -> dict:
        return metrics.cycle_times(self.period, self.scope, self.viewer)

    # Headline figures --------------------------------------------------------------------

    def headlines(self) -> list[Headline]:
        return [
            self.completion_headline(),
            self.overdue_headline(),
            self.owed_headline(),
            self.cycle_headline(),
        ]

    def completion_headline(self) -> Headline:
        c = self.completion
        judged = self.judged
        if c["rate"] is None:
            return Headline(
                "completion",
                "Completion by due date",
                "—",
                "No items came due in this period.",
                self.rows_url("items-due"),
                "Items due",
            )
        # The previous period's rate is the same definition summed over the team rows.
        prev_due = sum(r["prev_due"] for r in self.completion_teams)
        prev_on_time = sum(r["prev_on_time"] for r in self.completion_teams)
        change = ""
        if prev_due:
            prev = prev_on_time / prev_due
            points = round((c["rate"] - prev) * 100)
            word = "up" if points > 0 else "down" if points < 0 else "level"
            arrow = "▲" if points > 0 else "▼" if points < 0 else "●"
            before = f"the previous {judged.days} days ({percent(prev)})"
            change = (
                f"{arrow} {word} {abs(points)} point{'s' if abs(points) != 1 else ''} on {before}"
                if points
                else f"{arrow} level with {before}"
            )
        return Headline(
            "completion",
            "Completion by due date",
            percent(c["rate"]),
            f"{c['on_time']:,} of {c['due']:,} items due {judged.start:%d %b} – "
            f"{judged.end:%d %b %Y} done on time",
            self.rows_url("items-due"),
            "See the items",
            band=c["band"],
            band_label=BAND_LABELS[c["band"]],
            change=change,
        )

    def overdue_headline(self) -> Headline:
        overdue = sum(r["overdue"] for r in self.open_teams)
        open_ = sum(r["open"] for r in self.open_teams)
        oldest = min((r["oldest_due"] for r in self.open_teams if r["oldest_due"]), default=None)
        detail = f"of {open_:,} open items"
        if oldest:
            detail += f"; the oldest was due {oldest:%d %b %Y}"
        return Headline(
            "overdue",
            "Overdue now",
            f"{overdue:,}",
            detail,
            self.list_url(overdue="on"),
            "Open the overdue list",
        )

    def owed_headline(self) -> Headline:
        count = self.owed_count
        detail = "Every required postmortem resolved over a week ago is published."
        if count:
            oldest = self.owed_first[0].resolved_at.date()
            detail = f"oldest incident resolved {(self.s.today - oldest).days} days ago"
        return Headline(
            "owed",
            "Postmortems owed",
            f"{count:,}",
            detail,
            self.rows_url("owed"),
            "See which",
        )

    def cycle_headline(self) -> Headline:
        c = self.cycle
        if not c["published"]:
            return Headline(
                "cycle",
                "Median cycle time",
                "—",
                "No postmortems were published in this period.",
                self.rows_url("published"),
                "Published postmortems",
            )
        return Headline(
            "cycle",
            "Median cycle time",
            duration(c["median"]),
            f"resolved → published; 90th percentile {duration(c['p90'])}; "
            f"{percent(c['share_within'])} within 7 days ({c['within']} of {c['published']})",
            self.rows_url("published"),
            "See the postmortems",
        )

    # Figures -----------------------------------------------------------------------------

    def sections(self) -> list[Section]:
        f = self.figure
        return [
            Section(
                "Follow-through",
                [f("completion-month"), f("completion-team"), f("overdue-team")],
            ),
            Section("Load and slippage", [f("owners"), f("slippage-team")]),
            Section("What the items are", [f("priority-leverage"), f("no-prevention")]),
            Section("Postmortems", [f("cycle-month"), f("owed-list")]),
            Section(
                "Incidents",
                [f("severity-month"), f("response-month"), self.later("recurrence-month")],
            ),
        ]

    # Figures the page asks for after it has loaded (htmx), each from its own URL: finding
    # repeats means sorting a year of incidents by pattern and by service and factor, the
    # slowest figure by far (0.2-0.6 s org-wide at 20,000 incidents), so the rest of the page
    # does not wait for it. Without JavaScript the placeholder links to the figure's page.
    LATER = {"recurrence-month": "Recurring incidents, by month"}

    def later(self, key: str) -> Figure:
        url = f"{reverse('actions:dashboard-figure', args=[key])}?{self.s.query()}"
        return Figure(key, self.LATER[key], "", [], [], later_url=url)

    def figure(self, key: str) -> Figure | None:
        name = self.FIGURES.get(key)
        if not name:
            return None
        figure = getattr(self, name)()
        self._sort(figure)
        self._headers(figure)
        return figure

    def _headers(self, figure: Figure) -> None:
        """Column heads; a sortable one links to the page sorted by it (again: reversed)."""
        others = [(f"{k}_sort", v) for k, v in self.sorts.items() if k != figure.key]
        base = self.s.params() + others
        current, descending = figure.sort.lstrip("-"), figure.sort.startswith("-")
        figure.table_open = figure.key in self.sorts
        for column in figure.columns:
            head = {"label": column.label, "num": column.num, "href": "", "aria": ""}
            if column.key:
                if column.key == current:
                    head["aria"] = "descending" if descending else "ascending"
                    wanted = column.key if descending else f"-{column.key}"
                else:  # numbers biggest first, names A to Z
                    wanted = f"-{column.key}" if column.num else column.key
                query = urlencode([*base, (f"{figure.key}_sort", wanted)])
                head["href"] = f"?{query}#fig-{figure.key}"
            figure.headers.append(head)

    def _sort(self, figure: Figure) -> None:
        wanted = self.sorts.get(figure.key) or figure.sort
        keys = [c.key for c in figure.columns]
        name = wanted.lstrip("-")
        if not name or name not in keys:
            return
        index = keys.index(name)
        figure.sort = wanted
        present = [r for r in figure.rows if r[index].sort is not None]
        missing = [r for r in figure.rows if r[index].sort is None]
        present.sort(key=lambda r: r[index].sort, reverse=wanted.startswith("-"))
        figure.rows = present + missing  # rows without a value always last

    def month_names(self, months: list[date]) -> tuple[list[str], list[str]]:
        """Short chart labels and full names for a run of months."""
        years = {m.year for m in months}
        short = [f"{m:%b}" if len(years) == 1 else f"{m:%b %y}" for m in months]
        return short, [f"{m:%B %Y}" for m in months]

    def completion_month(self) -> Figure:
        rows = self.completion_months
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
        short, names = self.month_names([r["month"] for r in rows])
        for r, name in zip(rows, names, strict=True):
            month = f"{r['month']:%Y-%m}"
            figure.rows.append(
                [
                    Cell(month, name),
                    Cell(r["due"], link=self.rows_url("items-due", month=month), num=True),
                    Cell(
                        r["on_time"],
                        link=self.rows_url("items-due", month=month, result="on-time"),
                        num=True,
                    ),
                    Cell(_round(r["rate"]), percent(r["rate"]), num=True),
                    Cell(r["band"] or "", BAND_LABELS[r["band"]]),
                ]
            )
        rated = [(n, r) for n, r in zip(names, rows, strict=True) if r["rate"] is not None]
        figure.finding = _trend_finding(rated)
        figure.chart = charts.columns(
            categories=short,
            names=names,
            series=[Series("rate", "Done on time", charts.BLUE)],
            values={"rate": [None if r["rate"] is None else r["rate"] * 100 for r in rows]},
            unit=charts.PERCENT,
            category_label="month due",
            top=100,
            references=REFERENCES,
            colours=[charts.BAND_COLOURS[r["band"]] for r in rows],
            legend=charts.BAND_LEGEND,
            hrefs=[self.rows_url("items-due", month=f"{r['month']:%Y-%m}") for r in rows],
        )
        return figure

    def completion_team(self) -> Figure:
        overdue = {r["team_pk"]: r["overdue"] for r in self.open_teams}
        columns = [
            Column("Team", "team"),
            Column("Due", "due", num=True),
            Column("Done on time", num=True),
            Column("Rate", "rate", num=True, unit="share 0-1"),
            Column("Health"),
            Column("Previous period", num=True, unit="share 0-1"),
            Column("Change (points)", "change", num=True),
            Column("Overdue now", "overdue", num=True),
        ]
        figure = Figure(
            "completion-team",
            "Completion by due date, by team",
            "",
            columns,
            [],
            empty="No action items came due in this period or the one before.",
            sort="change",
        )
        rows = self.completion_teams
        if not rows:
            figure.finding = "No items came due in this period or the one before"
            return figure
        for r in rows:
            change = None if r["change"] is None else round(r["change"] * 100)
            late = overdue.get(r["team_pk"], 0)
            figure.rows.append(
                [
                    Cell(
                        r["team_name"],
                        link=self.scoped_url(f"team:{r['team_slug']}"),
                        sort=r["team_name"].lower(),
                    ),
                    Cell(
                        r["due"],
                        link=self.rows_url("items-due", team=r["team_slug"]) if r["due"] else "",
                        num=True,
                        sort=r["due"],
                    ),
                    Cell(
                        r["on_time"],
                        link=self.rows_url("items-due", team=r["team_slug"], result="on-time")
                        if r["on_time"]
                        else "",
                        num=True,
                    ),
                    Cell(_round(r["rate"]), percent(r["rate"]), num=True, sort=r["rate"]),
                    Cell(r["band"] or "", BAND_LABELS[r["band"]]),
                    Cell(_round(r["prev_rate"]), percent(r["prev_rate"]), num=True),
                    Cell(change, _signed(change), num=True, sort=change),
                    Cell(
                        late,
                        link=self.list_url(team=r["team_slug"], overdue="on") if late else "",
                        num=True,
                        sort=late,
                    ),
                ]
            )
        figure.finding = _team_finding(rows)
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
                hrefs=[self.rows_url("items-due", team=r["team_slug"]) for r in chart_rows],
            )
        return figure

    def overdue_team(self) -> Figure:
        rows = [r for r in self.open_teams if r["open"]]
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
                        link=self.list_url(team=r["team_slug"], overdue="on")
                        if r["overdue"]
                        else "",
                        num=True,
                        sort=r["overdue"],
                    ),
                    Cell(
                        r["open"],
                        link=self.list_url(team=r["team_slug"], status=OPEN_STATUSES),
                        num=True,
                        sort=r["open"],
                    ),
                    Cell(
                        _iso(r["oldest_due"]),
                        _iso(r["oldest_due"]) or "—",
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
            hrefs=[self.list_url(team=r["team_slug"], overdue="on") for r in chart_rows],
        )
        return figure

    def owners(self) -> Figure:
        rows = self.open_owners
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
        for r in rows:
            name = person(r["first_name"], r["last_name"], r["username"])
            # The list's owner filter only offers active people; an inactive owner's count
            # has no list to link to (and says so).
            active = r["active"]
            figure.rows.append(
                [
                    Cell(name if active else f"{name} (inactive)", sort=name.lower()),
                    Cell(
                        r["overdue"],
                        link=partial(self.list_url, owner=r["username"], overdue="on")
                        if active and r["overdue"]
                        else "",
                        num=True,
                        sort=r["overdue"],
                    ),
                    Cell(
                        r["open"],
                        link=partial(self.list_url, owner=r["username"], status=OPEN_STATUSES)
                        if active
                        else "",
                        num=True,
                        sort=r["open"],
                    ),
                    Cell(
                        _iso(r["oldest_due"]),
                        _iso(r["oldest_due"]) or "—",
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
        )
        return figure

    def slippage_team(self) -> Figure:
        # Slippage reads the judged period's due items from the completion grid; its
        # due-date changes are those recorded in the whole period.
        rows = metrics.slippage_by_team(self.period, self.scope, self.viewer, grid=self.grid)
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
                        link=self.rows_url("items-moved", team=r["team_slug"])
                        if r["changes"]
                        else "",
                        num=True,
                        sort=r["changes"],
                    ),
                    Cell(
                        moved,
                        link=self.rows_url("items-moved", team=r["team_slug"]) if moved else "",
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
                        _round(share),
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
                hrefs=[self.rows_url("items-moved", team=r["team_slug"]) for r in chart_rows],
            )
        return figure

    def priority_leverage(self) -> Figure:
        rows = metrics.items_by_priority_and_leverage(self.period, self.scope, self.viewer)
        levers = list(ActionItem.Leverage)
        columns = [Column("Priority")]
        columns += [Column(lever.label, num=True) for lever in levers]
        columns += [
            Column("Created", num=True),
            Column("Open now", num=True),
            Column("Done", num=True),
            Column("Won't do", num=True),
        ]
        figure = Figure(
            "priority-leverage",
            "Items created, by priority and leverage",
            "",
            columns,
            [],
            empty="No action items were created in this period.",
        )
        if not rows:
            figure.finding = "No action items were created in this period"
            return figure
        cells = {(r["priority"], r["leverage"]): r for r in rows}
        totals = {lever: 0 for lever in levers}
        chart_values = {lever.value: [] for lever in levers}
        for priority in ActionItem.Priority:
            mine = [r for r in rows if r["priority"] == priority]
            line = [Cell(priority.label)]
            for lever in levers:
                n = cells.get((priority.value, lever.value), {}).get("created", 0)
                totals[lever] += n
                chart_values[lever.value].append(n)
                href = (
                    self.rows_url("items-created", priority=priority.value, leverage=lever.value)
                    if n
                    else ""
                )
                line.append(Cell(n, link=href, num=True))
            for name in ("created", "open", "done", "dropped"):
                n = sum(r[name] for r in mine)
                extra = {"status": name} if name != "created" else {}
                href = self.rows_url("items-created", priority=priority.value, **extra)
                line.append(Cell(n, link=href if n else "", num=True))
            figure.rows.append(line)
        created = sum(totals.values())
        prevention = totals[ActionItem.Leverage.PREVENTION]
        figure.finding = (
            f"{prevention / created:.0%} of the {created:,} items created are prevention"
            if created
            else "No action items were created in this period"
        )
        colours = {
            "prevention": charts.GREEN,
            "detection": charts.BLUE,
            "mitigation": charts.ORANGE,
        }
        figure.chart = charts.bars(
            rows=[p.label for p in ActionItem.Priority],
            series=[Series(lever.value, lever.label, colours[lever.value]) for lever in levers],
            values=chart_values,
            unit=charts.count_unit("items created"),
            category_label="priority",
        )
        return figure

    def no_prevention(self) -> Figure:
        coverage = metrics.prevention_coverage(self.period, self.scope, self.viewer)
        published, without = coverage["published"], coverage["without_prevention"]
        queryset = (
            metrics.postmortems_without_prevention(self.period, self.scope, self.viewer)
            .select_related("incident", "incident__team")
            .order_by("-published_at", "pk")
        )
        figure = Figure(
            "no-prevention",
            "Published postmortems with no prevention item",
            "",
            [Column("Incident"), Column("Title"), Column("Team"), Column("Published")],
            [],
            empty="No postmortems were published in this period."
            if not published
            else "Every postmortem published in this period has a prevention item.",
            limit=LIST_LIMIT,
            wide=True,
        )
        if not published:
            figure.finding = "No postmortems were published in this period"
            return figure
        figure.finding = (
            f"{without} of {published} postmortems published have no prevention item"
            if without
            else f"All {published} postmortems published have a prevention item"
        )
        rows = queryset if self._full else queryset[:LIST_LIMIT]
        for pm in rows:
            incident = pm.incident
            figure.rows.append(
                [
                    Cell(incident.reference, link=pm.get_absolute_url, mono=True),
                    Cell(incident.title),
                    Cell(incident.team.name),
                    Cell(_iso(pm.published_at.date()), mono=True),
                ]
            )
        if without > LIST_LIMIT:
            figure.more = (f"All {without}", self.rows_url("no-prevention"))
        return figure

    def cycle_month(self) -> Figure:
        rows = metrics.cycle_times_by_month(self.period, self.scope, self.viewer)
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
        c = self.cycle
        if not c["published"]:
            figure.finding = "No postmortems were published in this period"
            return figure
        short, names = self.month_names([r["month"] for r in rows])
        for r, name in zip(rows, names, strict=True):
            month = f"{r['month']:%Y-%m}"
            figure.rows.append(
                [
                    Cell(month, name),
                    Cell(
                        r["published"],
                        link=self.rows_url("published", month=month) if r["published"] else "",
                        num=True,
                    ),
                    Cell(_hours(r["median"]), duration(r["median"]), num=True),
                    Cell(_hours(r["p90"]), duration(r["p90"]), num=True),
                    Cell(
                        _round(r["share_within"]),
                        f"{percent(r['share_within'])} ({r['within']})" if r["published"] else "—",
                        num=True,
                    ),
                ]
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
            categories=short,
            names=names,
            series=[Series("median", "Median", charts.BLUE)],
            values={"median": [_in(r["median"], seconds) for r in rows]},
            markers=(
                Series("p90", "90th percentile", charts.VERMILLION),
                [_in(r["p90"], seconds) for r in rows],
            ),
            unit=unit,
            category_label="month published",
            references=[(7 * 86400 / seconds, "7-day target")],
            hrefs=[self.rows_url("published", month=f"{r['month']:%Y-%m}") for r in rows],
        )
        return figure

    def owed_list(self) -> Figure:
        count = self.owed_count
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
        incidents = self.owed if self._full else self.owed_first
        for incident in incidents:
            resolved = incident.resolved_at.date()
            figure.rows.append(
                [
                    Cell(incident.reference, link=incident.get_absolute_url, mono=True),
                    Cell(incident.title),
                    Cell(incident.team.name),
                    Cell(f"SEV{incident.severity}", mono=True),
                    Cell(_iso(resolved), mono=True),
                    Cell((self.s.today - resolved).days, num=True),
                ]
            )
        oldest = (self.s.today - self.owed_first[0].resolved_at.date()).days
        figure.finding = (
            f"{count} postmortem{'s are' if count != 1 else ' is'} owed; the oldest incident "
            f"was resolved {oldest} days ago"
        )
        if count > LIST_LIMIT:
            figure.more = (f"All {count}", self.rows_url("owed"))
        return figure

    @cached_property
    def severity_rows(self) -> list[dict]:
        return metrics.incidents_by_severity_by_month(self.period, self.scope, self.viewer)

    def severity_month(self) -> Figure:
        rows = self.severity_rows
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
        short, names = self.month_names([r["month"] for r in rows])
        for r, name in zip(rows, names, strict=True):
            month = f"{r['month']:%Y-%m}"
            line = [Cell(month, name)]
            for sev, level in zip(Severity.values, levels, strict=True):
                href = self.rows_url("incidents", month=month, severity=sev) if r[level] else ""
                line.append(Cell(r[level], link=href, num=True))
            href = self.rows_url("incidents", month=month) if r["total"] else ""
            line.append(Cell(r["total"], link=href, num=True))
            figure.rows.append(line)
        busiest_name, busiest = max(zip(names, rows, strict=True), key=lambda p: p[1]["total"])
        sev1 = sum(r["SEV1"] for r in rows)
        figure.finding = f"{total:,} incident{'s' if total != 1 else ''}, {sev1:,} SEV1" + (
            f"; the most in {busiest_name} ({busiest['total']})" if len(rows) > 1 else ""
        )
        colours = {"SEV1": charts.VERMILLION, "SEV2": charts.ORANGE, "SEV3": charts.SKY}
        figure.chart = charts.columns(
            categories=short,
            names=names,
            series=[Series(level, level, colours[level]) for level in levels],
            values={level: [r[level] for r in rows] for level in levels},
            unit=charts.count_unit("incidents"),
            category_label="month started",
            hrefs=[self.rows_url("incidents", month=f"{r['month']:%Y-%m}") for r in rows],
        )
        return figure

    def response_month(self) -> Figure:
        rows = metrics.response_times(self.period, self.scope, self.viewer, by_month=True)
        overall = metrics.response_times(self.period, self.scope, self.viewer)
        counts = {r["month"]: r["total"] for r in self.severity_rows}
        phases = [("detect", "detect"), ("mitigate", "mitigate"), ("resolve", "resolve")]
        columns = [Column("Month"), Column("Incidents", num=True)]
        columns += [
            Column(f"Median time to {label}", num=True, unit="minutes") for _, label in phases
        ]
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
        short, names = self.month_names([r["month"] for r in rows])
        for r, name in zip(rows, names, strict=True):
            month = f"{r['month']:%Y-%m}"
            n = counts.get(r["month"], 0)
            line = [
                Cell(month, name),
                Cell(n, link=self.rows_url("incidents", month=month) if n else "", num=True),
            ]
            line += [Cell(_minutes(r[key]), duration(r[key]), num=True) for key, _ in phases]
            figure.rows.append(line)
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
                        categories=short,
                        names=names,
                        series=[Series(key, f"Median time to {label}", charts.BLUE)],
                        values={key: [_in(v, seconds) for v in values]},
                        unit=unit,
                        category_label="month started",
                        width=360,
                        height=220,
                    ),
                    f"{figure.key}-{key}",
                )
            )
        return figure

    def recurrence_month(self) -> Figure:
        rows = metrics.recurrence_by_month(self.period, self.scope, self.viewer)
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
        short, names = self.month_names([r["month"] for r in rows])
        for r, name in zip(rows, names, strict=True):
            month = f"{r['month']:%Y-%m}"
            figure.rows.append(
                [
                    Cell(month, name),
                    Cell(
                        r["repeats"],
                        link=self.rows_url("repeats", month=month) if r["repeats"] else "",
                        num=True,
                    ),
                    Cell(
                        r["same_pattern"],
                        link=self.rows_url("repeats", month=month, why="pattern")
                        if r["same_pattern"]
                        else "",
                        num=True,
                    ),
                    Cell(
                        r["after_fix"],
                        link=self.rows_url("repeats", month=month, why="after-fix")
                        if r["after_fix"]
                        else "",
                        num=True,
                    ),
                ]
            )
        fixed = sum(r["after_fix"] for r in rows)
        figure.finding = (
            f"{repeats:,} incident{'s' if repeats != 1 else ''} repeated an earlier one; "
            f"{fixed:,} after a prevention item was marked done"
        )
        figure.more = ("All repeat incidents", self.rows_url("repeats"))
        figure.chart = charts.columns(
            categories=short,
            names=names,
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
            hrefs=[self.rows_url("repeats", month=f"{r['month']:%Y-%m}") for r in rows],
        )
        return figure

    # The CSV of a list figure has every row; the page only the first few.
    _full = False

    def full(self) -> Dashboard:
        self._full = True
        return self


def _round(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)


def _signed(points: int | None) -> str:
    return "—" if points is None else f"{points:+d}" if points else "0"


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _in(value: timedelta | None, seconds: float) -> float | None:
    return None if value is None else value.total_seconds() / seconds


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


def _minutes(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 1)


def _trend_finding(rated: list[tuple[str, dict]]) -> str:
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


def _team_finding(rows: list[dict]) -> str:
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
