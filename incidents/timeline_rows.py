"""The rows of long timeline tables, written in Python.

The busiest incidents have 160 events or more. Through the template engine each row cost a
dozen variable lookups, filters and tags: 40-60 ms per page on the incident page, the document,
the editor and the meeting presenter (and in every changed poll of the presenter). These
functions write the same markup, byte for byte, with one format string per row;
tests/incidents/test_timeline_rows.py renders the templates' former loops beside them.
Escaping uses the standard library's `html.escape`, which Django's `escape` wraps (without
its lazy-string check, a third of the rows' cost).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC
from html import escape

from django.template.defaultfilters import truncatechars
from django.utils.safestring import SafeString, mark_safe

from .formatting import utc_html, when_html
from .models import TimelineEvent

PHASES = {value: str(label) for value, label in TimelineEvent.Phase.choices}
SOURCES = {value: str(label) for value, label in TimelineEvent.Source.choices}


def _phase(event) -> str:
    return escape(PHASES.get(event.phase, event.phase))


def _source(event) -> str:
    return escape(SOURCES.get(event.source, event.source))


def _short(text: str, length: int) -> str:
    """`{{ text|truncatechars:length }}`, without building a Truncator for short texts (which
    it returns NFC-normalised and whole)."""
    normal = unicodedata.normalize("NFC", text)
    return normal if len(normal) <= length else truncatechars(text, length)


def _text(event) -> str:
    """`{{ text|linebreaksbr }}`."""
    text = event.text.replace("\r\n", "\n").replace("\r", "\n")
    return escape(text).replace("\n", "<br>")


def editable_rows(
    events: Iterable[TimelineEvent], *, may_edit: bool, csrf_input: str
) -> SafeString:
    """The incident page's rows: local times, and Edit and Delete for who may edit.

    Each event carries its `edit_url` and `delete_url` (incidents.views sets them);
    `csrf_input` is what `{% csrf_token %}` writes."""
    rows = []
    for event in events:
        pk = event.pk
        detail = ""
        if event.source_detail:
            detail = f'<br><span class="muted">{escape(event.source_detail)}</span>'
        actions = ""
        if may_edit:
            edit, delete = escape(event.edit_url), escape(event.delete_url)
            actions = (
                f'\n          <a href="{edit}"\n'
                f'             hx-get="{edit}" hx-target="#event-{pk}" '
                f'hx-swap="outerHTML">Edit</a>\n'
                f'          <form method="post" action="{delete}" class="inline"\n'
                f'                hx-post="{delete}" hx-target="#timeline" hx-swap="outerHTML"\n'
                f'                hx-confirm="Delete this timeline event?">\n'
                f"            {csrf_input}"
                f'<button type="submit" class="linklike danger">Delete</button>\n'
                f"          </form>"
            )
        rows.append(
            f'\n      <tr id="event-{pk}">\n'
            f'        <td class="mono nowrap">{when_html(event.occurred_at)}</td>\n'
            f'        <td><span class="phase phase-{escape(event.phase)}">'
            f"{_phase(event)}</span></td>\n"
            f"        <td>{_text(event)}</td>\n"
            f'        <td class="small">{_source(event)}{detail}</td>\n'
            f'        <td class="row-actions nowrap">{actions}\n'
            f"        </td>\n"
            f"      </tr>\n    "
        )
    return mark_safe("".join(rows))


def document_rows(events: Iterable[TimelineEvent], *, phase_rows: bool = True) -> SafeString:
    """The document's rows, in UTC. `phase_rows`: the read-only document's rows carry their
    phase as a class and show the source detail; the editor's show neither."""
    rows = []
    for event in events:
        time = utc_html(event.occurred_at, "%m-%d %H:%M")
        source = _source(event)
        if phase_rows:
            if event.source_detail:
                source += f" · {escape(event.source_detail)}"
            start = f'<tr class="phase-row phase-{escape(event.phase)}">'
        else:
            start = "<tr>"
        rows.append(
            f'{start}<td class="mono nowrap">{time}</td><td>{_phase(event)}</td>'
            f'<td>{_text(event)}</td><td class="small">{source}</td></tr>'
        )
    return mark_safe("".join(rows))


def presenter_rows(events: Iterable[TimelineEvent], *, fresh: set[int]) -> SafeString:
    """The meeting presenter's compact rows: UTC clock times, what is new since the viewer's
    last version marked, and a Correct link each (`event.correct_url`, set by the view)."""
    rows = []
    for event in events:
        pk = event.pk
        mark, tag = ("", "")
        if pk in fresh:
            mark, tag = (' class="fresh"', ' <span class="fresh-tag">new</span>')
        utc = event.occurred_at.astimezone(UTC)
        url = escape(event.correct_url)
        detail = f" · {escape(event.source_detail)}" if event.source_detail else ""
        label = escape(_short(event.text, 50))
        rows.append(
            f'<tr id="ev-{pk}"{mark}>\n'
            f'    <td class="mono nowrap"><time datetime="{utc.isoformat()}">'
            f"{utc.strftime('%H:%M')}</time></td>\n"
            f"    <td>{_phase(event)}</td>\n"
            f"    <td>{_text(event)}{tag}</td>\n"
            f'    <td class="src">{_source(event)}{detail}</td>\n'
            f'    <td><a class="btn small" href="{url}" hx-get="{url}" hx-target="#form-event" '
            f'hx-swap="outerHTML" data-open-slot="event" aria-label="Correct: {label}">'
            f"Correct</a></td>\n"
            f"  </tr>"
        )
    return mark_safe("".join(rows))
