"""The lists behind the dashboard's numbers: for each figure whose rows the action item list
cannot express exactly (a period in UTC days, a month, "done on time"), the very QuerySet the
number was counted from, narrowed by the same team / month / severity the link carried."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from incidents.models import (
    REPEAT_AFTER_FIX,
    REPEAT_CAUSE,
    REPEAT_PATTERN,
    Incident,
    Severity,
)

from .. import metrics
from ..metrics import Period
from ..models import ActionItem
from .params import Selection

RESULTS = {"on-time": "done on time", "late": "done late", "not-done": "not done"}
STATUSES = {"open": "open now", "done": "done", "dropped": "won't do"}
WHY = {
    "pattern": "same pattern label",
    "after-fix": "after a prevention item was done",
    "other": "not after a prevention item was done",
}


@dataclass
class Rows:
    kind: str  # "items", "incidents" or "postmortems": which table to draw
    title: str
    queryset: QuerySet | list
    narrowed: list[str]  # what the link narrowed the figure to, for the heading
    extra: str = ""  # "moved", "repeats", "owed", "published": extra columns
    load: Callable[[list], list] | None = None  # turns a page of `queryset` into rows
    count: int | None = None  # how many rows `queryset` has, when counted more cheaply


def _repeats(page: list[Incident]) -> list[Incident]:
    """A page of metrics.repeats, each incident carrying its flags by name."""
    for incident in page:
        bits = incident.repeat_bits
        incident.same_pattern = bool(bits & REPEAT_PATTERN)
        incident.same_cause = bool(bits & REPEAT_CAUSE)
        incident.after_fix = bool(bits & REPEAT_AFTER_FIX)
    return page


def _month(value: str, period: Period) -> Period:
    """The part of `period` in the month `YYYY-MM`; 404 for anything else."""
    try:
        month = Period.month(value)
    except (ValueError, TypeError) as err:
        raise Http404("No such month.") from err
    start, end = max(month.start, period.start), min(month.end, period.end)
    if start > end:
        raise Http404("That month is outside the period.")
    return Period(start, end)


def _choice(value: str, choices) -> str:
    if value not in choices:
        raise Http404("No such filter value.")
    return value


def _team(queryset: QuerySet, slug: str, path: str) -> QuerySet:
    return queryset.filter(**{f"{path}team__slug": slug})


def build(kind: str, selection: Selection, viewer, get) -> Rows:
    """The rows behind one figure, for the query string `get` (period and scope included)."""
    scope, period = selection.scope, selection.period
    narrowed = []

    def span(label: str, p: Period) -> str:
        return f"{label} {p.start:%d %b %Y} – {p.end:%d %b %Y}"

    if kind == "items-due":
        judged = selection.judged
        if judged is None:
            raise Http404("Nothing in this period has come due yet.")
        if get.get("month"):
            judged = _month(get["month"], judged)
        qs = metrics.items_due(judged, scope, viewer)
        if get.get("team"):
            qs = _team(qs, get["team"], "postmortem__incident__")
            narrowed.append(f"team {get['team']}")
        result = get.get("result")
        if result:
            _choice(result, RESULTS)
            on_time = metrics._on_time()
            late = Q(status=ActionItem.Status.DONE) & ~on_time
            qs = qs.filter({"on-time": on_time, "late": late}.get(result) or ~Q(status="done"))
            narrowed.append(RESULTS[result])
        return Rows("items", span("Items due", judged), _items(qs, "due_on"), narrowed)

    if kind == "items-created":
        qs = metrics.items_created(period, scope, viewer)
        if get.get("priority"):
            priority = _choice(get["priority"], [str(p) for p in ActionItem.Priority.values])
            qs = qs.filter(priority=int(priority))
            narrowed.append(ActionItem.Priority(int(priority)).label)
        if get.get("leverage"):
            qs = qs.filter(leverage=_choice(get["leverage"], ActionItem.Leverage.values))
            narrowed.append(ActionItem.Leverage(get["leverage"]).label.lower())
        if get.get("status"):
            status = _choice(get["status"], STATUSES)
            qs = qs.filter(
                status__in={
                    "open": ActionItem.OPEN_STATUSES,
                    "done": [ActionItem.Status.DONE],
                    "dropped": [ActionItem.Status.WONT_DO],
                }[status]
            )
            narrowed.append(STATUSES[status])
        return Rows("items", span("Items created", period), _items(qs, "created_at"), narrowed)

    if kind == "items-moved":
        qs = metrics.items_moved(period, scope, viewer)
        if get.get("team"):
            qs = _team(qs, get["team"], "postmortem__incident__")
            narrowed.append(f"team {get['team']}")
        title = span("Items whose due date moved", period)
        return Rows("items", title, _items(qs, "-slipped"), narrowed, extra="moved")

    if kind == "owed":
        qs = metrics.postmortems_owed(selection.today, scope, viewer)
        title = f"Postmortems owed on {selection.today:%d %b %Y}"
        return Rows("incidents", title, qs, narrowed, extra="owed")

    if kind in ("published", "no-prevention"):
        p = _month(get["month"], period) if get.get("month") else period
        if kind == "published":
            qs = metrics.cycle_time_postmortems(p, scope, viewer)
            title = span("Postmortems published", p)
        else:
            qs = metrics.postmortems_without_prevention(p, scope, viewer)
            title = span("Postmortems published with no prevention item", p)
        qs = qs.select_related("incident", "incident__team").order_by("published_at", "pk")
        return Rows("postmortems", title, qs, narrowed, extra=kind)

    if kind == "incidents":
        p = _month(get["month"], period) if get.get("month") else period
        qs = metrics.incidents_started(p, scope, viewer).select_related("team")
        if get.get("severity"):
            severity = _choice(get["severity"], [str(s) for s in Severity.values])
            qs = qs.filter(severity=int(severity))
            narrowed.append(f"SEV{severity}")
        title = span("Incidents started", p)
        return Rows("incidents", title, qs.order_by("started_at", "pk"), narrowed, extra=kind)

    if kind == "repeats":
        p = _month(get["month"], period) if get.get("month") else period
        why = _choice(get["why"], WHY) if get.get("why") else ""
        if why:
            narrowed.append(WHY[why])
        only = why.replace("-", "_")
        judged = metrics.judged_for(p, scope, viewer)  # read once for the rows and the count
        qs = metrics.repeats(p, scope, viewer, only, judged=judged)
        count = metrics.repeats_count(p, scope, viewer, only, judged=judged)  # as the figure
        title = span("Repeat incidents started", p)
        return Rows("incidents", title, qs, narrowed, extra=kind, load=_repeats, count=count)

    raise Http404("No such list.")


def _items(qs: QuerySet, order: str) -> QuerySet:
    related = ("owner", "postmortem__incident", "postmortem__incident__team")
    return qs.select_related(*related).order_by(order, "pk")
