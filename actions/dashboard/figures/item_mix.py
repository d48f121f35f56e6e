"""What the items are: by priority and leverage, and reviews with no prevention item."""

from __future__ import annotations

from ... import metrics
from ...models import ActionItem
from .. import charts
from ..charts import Series
from .shapes import LIST_LIMIT, Cell, Column, Figure, iso_day


def priority_leverage(board) -> Figure:
    rows = metrics.items_by_priority_and_leverage(board.period, board.scope, board.viewer)
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
                board.rows_url("items-created", priority=priority.value, leverage=lever.value)
                if n
                else ""
            )
            line.append(Cell(n, link=href, num=True))
        for name in ("created", "open", "done", "dropped"):
            n = sum(r[name] for r in mine)
            extra = {"status": name} if name != "created" else {}
            href = board.rows_url("items-created", priority=priority.value, **extra)
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
        segment_hrefs={
            lever.value: [
                board.rows_url("items-created", priority=p.value, leverage=lever.value)
                for p in ActionItem.Priority
            ]
            for lever in levers
        },
    )
    return figure


def no_prevention(board) -> Figure:
    coverage = board.postmortems["coverage"]
    published, without = coverage["published"], coverage["without_prevention"]
    queryset = (
        metrics.postmortems_without_prevention(board.period, board.scope, board.viewer)
        .select_related("incident", "incident__team")
        # What the rows show, not the postmortems' Markdown (10 ms of 13 for 90 days).
        .only(
            "published_at",
            "incident__number",
            "incident__title",
            "incident__team__name",
        )
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
    rows = queryset if board.every_row else queryset[:LIST_LIMIT]
    for pm in rows:
        incident = pm.incident
        figure.rows.append(
            [
                Cell(incident.reference, link=pm.get_absolute_url, mono=True),
                Cell(incident.title),
                Cell(incident.team.name),
                Cell(iso_day(pm.published_at.date()), mono=True),
            ]
        )
    if without > LIST_LIMIT:
        figure.more = (f"All {without}", board.rows_url("no-prevention"))
    return figure
