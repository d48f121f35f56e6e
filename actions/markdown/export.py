"""Write a postmortem as one Markdown file, in the layout teams keep in their repositories.

The output reads back through `parse_postmortem_markdown` to the same document; the test suite
holds the two to that. All times are UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils.text import slugify

from actions.models import ActionItem
from incidents.models import TimelineEvent, visible_incident_q
from postmortems.models import ContributingFactor, Postmortem

# Filenames stay short enough to read in a directory listing.
MAX_SLUG = 60


def export_filename(postmortem: Postmortem) -> str:
    """`2026-03-26-checkout-outage.md`: the start date (UTC) and the title as a slug."""
    incident = postmortem.incident
    slug = slugify(incident.title)[:MAX_SLUG].rstrip("-")
    if len(slugify(incident.title)) > MAX_SLUG and "-" in slug:
        slug = slug.rsplit("-", 1)[0]  # do not cut a word in half
    slug = slug or incident.reference.lower()
    return f"{_utc(incident.started_at):%Y-%m-%d}-{slug}.md"


def export_postmortem(postmortem: Postmortem, *, reader) -> str:
    """The whole document as Markdown: header, every section (even empty), tables for rows.

    `reader` is who downloads it: related incidents they may not see are left out, as on the
    page. None is the console operator, who sees everything.
    """
    incident = postmortem.incident
    parts = [f"# {_one_line(incident.title)}", _header(postmortem)]
    texts = dict(_section_texts(postmortem))
    headings = dict(Postmortem.SECTIONS)
    for name in ("summary", "impact"):
        parts.append(_section(headings[name], texts[name]))
    parts.append(_section("Timeline", _timeline(incident)))
    parts.append(_section(headings["root_cause"], texts["root_cause"]))
    parts.append(_section("Contributing factors", _factors(postmortem)))
    for name in ("detection", "went_well", "went_poorly", "lessons"):
        parts.append(_section(headings[name], texts[name]))
    parts.append(_section("Action items", _action_items(postmortem)))
    parts.append(_section("Related incidents", _related(incident, reader)))
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _section_texts(postmortem: Postmortem):
    for name, _ in Postmortem.SECTIONS:
        text = (getattr(postmortem, name) or "").replace("\r\n", "\n").replace("\r", "\n")
        yield name, text.strip("\n")


def _section(heading: str, body: str) -> str:
    return f"## {heading}\n\n{body}" if body else f"## {heading}"


# --- Header ----------------------------------------------------------------------------------


def _header(postmortem: Postmortem) -> str:
    incident = postmortem.incident
    lines = [
        ("Severity", incident.get_severity_display()),
        ("Date", f"{_utc(incident.started_at):%Y-%m-%d}"),
        ("Duration", format_duration(incident.started_at, incident.resolved_at)),
        ("Status", postmortem.get_status_display()),
    ]
    if postmortem.author:
        lines.append(("Author", _handle(postmortem.author)))
    reviewers = sorted(postmortem.reviewers.all(), key=lambda user: user.username)
    if reviewers:
        lines.append(("Reviewers", ", ".join(_handle(user) for user in reviewers)))
    lines.append(("Incident", incident.reference))
    # Two trailing spaces keep one item per line when the file is rendered.
    return "\n".join(f"**{key}:** {value}  " for key, value in lines)


def format_duration(start: datetime, end: datetime | None) -> str:
    """`14:02–16:16 UTC (2 h 14 m)`, with dates when the incident crosses midnight (UTC)."""
    start = _utc(start)
    if end is None:
        return f"{_clock(start)} UTC – ongoing"
    end = _utc(end)
    if start.date() == end.date():
        span = f"{_clock(start)}–{_clock(end)}"
    else:
        span = f"{start:%Y-%m-%d} {_clock(start)}–{end:%Y-%m-%d} {_clock(end)}"
    return f"{span} UTC ({format_length(end - start)})"


def format_length(length: timedelta) -> str:
    minutes = int(length.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} m" if hours else f"{minutes} m"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _clock(moment: datetime) -> str:
    # Seconds only when someone recorded them, so hand-typed times stay readable.
    return f"{moment:%H:%M:%S}" if moment.second else f"{moment:%H:%M}"


def _handle(user) -> str:
    return f"@{user.username}"


# --- Tables and lists ------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text made safe for one table cell: pipes escaped, line breaks as <br>."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    return text.replace("|", "\\|").replace("\n", "<br>")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _timeline(incident) -> str:
    events = list(incident.timeline.all())
    if not events:
        return ""
    day = _utc(incident.started_at).date()
    # Dates on every row as soon as one event falls on another day, so no row is misread.
    dated = any(_utc(event.occurred_at).date() != day for event in events)
    rows = [
        [
            _event_time(_utc(event.occurred_at), dated),
            event.get_phase_display(),
            event.text,
            _source(event),
        ]
        for event in events
    ]
    return _table(["Time (UTC)", "Phase", "Event", "Source"], rows)


def _event_time(moment: datetime, dated: bool) -> str:
    return f"{moment:%Y-%m-%d} {_clock(moment)}" if dated else _clock(moment)


def _source(event: TimelineEvent) -> str:
    return f"{event.source}: {event.source_detail}" if event.source_detail else event.source


def _factors(postmortem: Postmortem) -> str:
    factors = list(postmortem.factors.all())
    groups = []
    for category, label in ContributingFactor.Category.choices:
        chosen = [factor for factor in factors if factor.category == category]
        if chosen:
            bullets = "\n".join(_factor(factor) for factor in chosen)
            groups.append(f"### {label}\n\n{bullets}")
    return "\n\n".join(groups)


def _factor(factor: ContributingFactor) -> str:
    lines = _bullet(factor.description, 0)
    lines += _why_lines(factor.whys or [], 1)
    return "\n".join(lines)


def _why_lines(whys: list, depth: int) -> list[str]:
    lines = []
    for why in whys:
        text = why.get("text", "") if isinstance(why, dict) else str(why)
        lines += _bullet(text, depth)
        if isinstance(why, dict):
            lines += _why_lines(why.get("children") or [], depth + 1)
    return lines


def _bullet(text: str, depth: int) -> list[str]:
    indent = "  " * depth
    first, *rest = (text or "").replace("\r\n", "\n").strip().split("\n")
    return [f"{indent}- {first}"] + [f"{indent}  {line}" for line in rest]


def _action_items(postmortem: Postmortem) -> str:
    items = postmortem.action_items.select_related("owner").order_by("created_at", "pk")
    rows = [
        [
            str(number),
            item.title,
            _handle(item.owner),
            item.due_on.isoformat(),
            item.priority_code,
            _status(item),
            _ticket(item),
        ]
        for number, item in enumerate(items, start=1)
    ]
    if not rows:
        return ""
    headers = ["#", "Action", "Owner", "Due", "Priority", "Status", "Ticket"]
    return _table(headers, rows)


def _status(item: ActionItem) -> str:
    label = item.get_status_display()
    return f"{label}: {item.reason.strip()}" if item.reason.strip() else label


def _ticket(item: ActionItem) -> str:
    if item.ticket_key and item.ticket_url:
        return f"[{item.ticket_key}]({item.ticket_url})"
    return item.ticket_key or item.ticket_url


def _related(incident, reader) -> str:
    related = incident.related.order_by("number")
    if reader is not None:
        related = related.filter(visible_incident_q(reader))
    return "\n".join(f"- {other.reference}: {_one_line(other.title)}" for other in related)


def _one_line(text: str) -> str:
    return " ".join((text or "").split())
