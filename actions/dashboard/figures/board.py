"""The dashboard of one period and scope for one viewer: the metrics it reads (each at most
once), the links its numbers carry, and its figures in sections. Each figure is built by a
function in a module of its family (completion.py, open_items.py, ...) from this board."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from operator import itemgetter
from urllib.parse import urlencode

from django.urls import reverse

from incidents import permissions

from ... import metrics
from ..params import Selection
from . import completion, headlines, incident_trends, item_mix, open_items, publishing, slippage
from .shapes import LIST_LIMIT, Figure, Headline, Section

# Each figure's key (its anchor, CSV and URL name) and the function that builds it.
FIGURES = {
    "completion-month": completion.completion_month,
    "completion-team": completion.completion_team,
    "overdue-team": open_items.overdue_team,
    "owners": open_items.owners,
    "priority-leverage": item_mix.priority_leverage,
    "no-prevention": item_mix.no_prevention,
    "cycle-month": publishing.cycle_month,
    "owed-list": publishing.owed_list,
    "severity-month": incident_trends.severity_month,
    "response-month": incident_trends.response_month,
    "recurrence-month": incident_trends.recurrence_month,
    "slippage-team": slippage.slippage_team,
}


# Figures that name people: shown only to who may see counts per person.
PER_PERSON = {"owners"}


class Dashboard:
    """The figures of one period and scope for one viewer; each metric runs at most once."""

    # How many rows a figure builds: the dashboard the first few of each table and list (see
    # shown()), a figure's own page every row of its table (whole()), the CSV every row of
    # every figure, lists included (full()).
    every_row = False
    whole_tables = False

    def __init__(self, selection: Selection, viewer, local_today: date, sorts=None):
        self.s = selection
        self.viewer = viewer
        # Overdue uses the viewer's local day, like the action item list the counts link to.
        self.local_today = local_today
        self.sorts = sorts or {}
        self.period = selection.period
        self.scope = selection.scope
        self._rows_paths: dict[str, str] = {}

    # Links -------------------------------------------------------------------------------

    def list_url(self, *, team: str | None = None, **params) -> str:
        """The action item list with exactly the filters it understands."""
        base, encoded = self._list_filter
        more = []
        if team and not any(name == "team" for name, _ in base):
            more.append(("team", team))
        for name, value in params.items():
            values = value if isinstance(value, list) else [value]
            more += [(name, str(v)) for v in values]
        # The filter's own part is encoded once: an owners table links hundreds of counts.
        query = "&".join(part for part in (encoded, urlencode(more)) if part)
        return f"{self.list_path}?{query}"

    @cached_property
    def _list_filter(self) -> tuple[list, str]:
        pairs = self.s.list_filter()
        return pairs, urlencode(pairs)

    @cached_property
    def list_path(self) -> str:
        return reverse("actions:list")  # once: an owners table links thousands of counts

    def rows_url(self, kind: str, **extra) -> str:
        return f"{self._rows_path(kind)}?{self.s.query(**extra)}"

    def _rows_path(self, kind: str) -> str:
        # Reversed once per kind: a page links hundreds of counts to a few lists.
        if kind not in self._rows_paths:
            self._rows_paths[kind] = reverse("actions:dashboard-rows", args=[kind])
        return self._rows_paths[kind]

    def scoped_url(self, scope_key: str) -> str:
        """The dashboard of the same period for another scope (a team's row links to its own)."""
        return f"{self._unscoped_url}&{urlencode([('scope', scope_key)])}"

    @cached_property
    def _unscoped_url(self) -> str:
        params = [(k, v) for k, v in self.s.params() if k != "scope"]
        return f"{reverse('actions:dashboard')}?{urlencode(params)}"

    def figure_url(self, key: str, **extra) -> str:
        """The figure's own URL: the htmx fragment, or for a plain request a page of its own."""
        return f"{reverse('actions:dashboard-figure', args=[key])}?{self.s.query(**extra)}"

    # Metrics, each computed once ---------------------------------------------------------

    @cached_property
    def judged(self):
        return self.s.judged

    @cached_property
    def sums(self) -> metrics.CompletionSums:
        """Items due in the judged period and the one before, per team and per month: the
        one read behind completion (headline, by month, by team) and slippage's due items."""
        if not self.judged:
            return metrics.CompletionSums([], [])
        return metrics.completion_sums(self.judged, self.scope, self.viewer)

    @cached_property
    def team_sums(self) -> metrics.CompletionSums:
        """The teams' half of `sums` (slippage's), read alone where the page's sums are not
        (the slippage figure's own request)."""
        if "sums" in self.__dict__ or not self.judged:
            return self.sums
        return metrics.completion_sums(self.judged, self.scope, self.viewer, months=False)

    @cached_property
    def completion(self) -> dict:
        """completion_by_due_date, summed from the months (a test holds them equal)."""
        figures = {
            "due": sum(r["due"] for r in self.sums.months),
            "on_time": sum(r["on_time"] for r in self.sums.months),
        }
        rate = figures["on_time"] / figures["due"] if figures["due"] else None
        return figures | {"rate": rate, "band": metrics.health_band(rate)}

    @cached_property
    def completion_teams(self) -> list[dict]:
        if not self.judged:
            return []
        return metrics.completion_by_team(self.judged, self.scope, self.viewer, sums=self.sums)

    @cached_property
    def completion_months(self) -> list[dict]:
        if not self.judged:
            return []
        return metrics.completion_by_month(self.judged, self.scope, self.viewer, sums=self.sums)

    @cached_property
    def open_grid(self) -> list[dict]:
        # Per owner only where the owners table is shown; per team that is tens of rows,
        # where per owner it is thousands org-wide.
        return metrics.open_items_grid(
            self.scope, self.viewer, self.local_today, owners=self.shows_owners
        )

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
        return metrics.postmortems_owed_count(self.s.today, self.scope, self.viewer)

    @cached_property
    def owed_first(self) -> list:
        return list(self.owed[:LIST_LIMIT])

    @cached_property
    def postmortems(self) -> dict:
        """Cycle times (overall, by month) and prevention coverage, from one query."""
        return metrics.postmortem_figures(self.period, self.scope, self.viewer)

    @cached_property
    def cycle(self) -> dict:
        return self.postmortems["cycle"]

    @cached_property
    def incidents(self) -> dict:
        """Incidents by severity and response times (overall, by month), from one query."""
        return metrics.incident_figures(self.period, self.scope, self.viewer)

    @cached_property
    def severity_rows(self) -> list[dict]:
        return self.incidents["severity"]

    # Headline figures --------------------------------------------------------------------

    def headlines(self) -> list[Headline]:
        return [
            headlines.completion_headline(self),
            headlines.overdue_headline(self),
            headlines.owed_headline(self),
            headlines.cycle_headline(self),
        ]

    # Figures -----------------------------------------------------------------------------

    def sections(self) -> list[Section]:
        f, later = self.figure, self.later
        return [
            Section(
                "Follow-through",
                [f("completion-month"), f("completion-team"), f("overdue-team")],
            ),
            Section(
                "Load and slippage",
                [fig for fig in (later("owners"), later("slippage-team")) if fig is not None],
            ),
            Section("What the items are", [later("priority-leverage"), later("no-prevention")]),
            Section("Postmortems", [f("cycle-month"), f("owed-list")]),
            Section(
                "Incidents",
                [later("severity-month"), later("response-month"), later("recurrence-month")],
            ),
        ]

    # Figures the page asks for after it has loaded (htmx), each from its own URL, so the
    # headline numbers and the first figures show without waiting for the rest: each of
    # these reads its own facts (slippage its due-date changes, the mix its items, the
    # incident trends a period of incidents; finding repeats, the slowest, means sorting a
    # year of incidents by pattern and by service and factor). The page's own figures are
    # those made of what the headlines already read. Without JavaScript the placeholder
    # links to the figure's page.
    LATER = {
        "owners": "Open and overdue items by owner, now",
        "slippage-team": "Due-date slippage by team",
        "priority-leverage": "Items created, by priority and leverage",
        "no-prevention": "Published postmortems with no prevention item",
        "severity-month": "Incidents by severity, by month",
        "response-month": "Time to detect, mitigate and resolve (median), by month",
        "recurrence-month": "Recurring incidents, by month",
    }

    def later(self, key: str) -> Figure | None:
        if key in PER_PERSON and not self.shows_owners:
            return None
        # The page's table sorts travel with it: the fragment's sort links keep them.
        sorts = {f"{k}_sort": v for k, v in self.sorts.items()}
        return Figure(key, self.LATER[key], "", [], [], later_url=self.figure_url(key, **sorts))

    @cached_property
    def shows_owners(self) -> bool:
        """Counts per person are for the scope team's managers and admins (a service or the
        organisation spans teams: admins only)."""
        return permissions.can(self.viewer, "view_owner_counts", self.scope.team)

    def figure(self, key: str) -> Figure | None:
        build = FIGURES.get(key)
        if not build or (key in PER_PERSON and not self.shows_owners):
            return None
        figure = build(self)
        if figure.hidden_count:
            # Every row, in the order the table has here, on the figure's own page.
            figure.all_url = self.figure_url(key, **{f"{key}_sort": figure.sort})
            figure.more = (f"All {figure.total_text} {figure.noun}", figure.all_url)
        self._headers(figure)
        return figure

    def shown(self, figure: Figure, rows: list[dict]) -> list[dict]:
        """The metric rows a sortable table shows, in its sort (the `<figure>_sort` asked for,
        else the figure's own): every row on the figure's own page and in the CSV, else the
        first `figure.limit`. Sorting the rows before any cell is made means a table of 200
        teams builds the cells, links and formatted values of the 15 it shows, and those are
        the first 15 of the whole table (the worst teams, by default)."""
        sorts = {c.key: c.by for c in figure.columns if c.key}
        wanted = self.sorts.get(figure.key, "")
        if wanted.lstrip("-") not in sorts:
            wanted = figure.sort
        figure.sort = wanted
        figure.row_count = len(rows)
        by = sorts[wanted.lstrip("-")]
        keyed = [(by(r), r) for r in rows]
        present = [pair for pair in keyed if pair[0] is not None]
        present.sort(key=itemgetter(0), reverse=wanted.startswith("-"))  # stable: ties keep
        missing = [r for key, r in keyed if key is None]  # rows without a value always last
        ordered = [r for _, r in present] + missing
        if self.whole_tables or figure.limit is None:
            return ordered
        return ordered[: figure.limit]

    def _headers(self, figure: Figure) -> None:
        """Column heads; a sortable one links to the page sorted by it (again: reversed)."""
        figure.table_open = figure.key in self.sorts
        others = [(f"{k}_sort", v) for k, v in self.sorts.items() if k != figure.key]
        base = urlencode(self.s.params() + others) if figure.sortable else ""  # once a table
        current, descending = figure.sort.lstrip("-"), figure.sort.startswith("-")
        for column in figure.columns:
            head = {"label": column.label, "num": column.num, "href": "", "aria": ""}
            if column.key:
                if column.key == current:
                    head["aria"] = "descending" if descending else "ascending"
                    wanted = column.key if descending else f"-{column.key}"
                else:  # numbers biggest first, names A to Z
                    wanted = f"-{column.key}" if column.num else column.key
                query = urlencode([(f"{figure.key}_sort", wanted)])
                head["href"] = f"?{base}&{query}#fig-{figure.key}"
            figure.headers.append(head)

    def whole(self) -> Dashboard:
        """Every row of each table (a figure's own page)."""
        self.whole_tables = True
        return self

    def full(self) -> Dashboard:
        """Every row of every figure, lists too (the CSV)."""
        self.every_row = self.whole_tables = True
        return self
