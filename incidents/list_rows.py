"""The incident list's rows, written in Python.

Through the template engine, 50 rows of eight cells (a lookup, tag or filter each) were the
largest part of the page's time. One format string per row writes the same markup for a small
part of that; incident_list.html keeps the table around them. Text is escaped with the standard
library's `html.escape`, which is what Django's `escape` calls, without its lazy-text wrapper;
badges and pills take few values, so each is built once.
"""

from __future__ import annotations

from functools import cache
from html import escape

from django.utils.html import format_html
from django.utils.safestring import SafeString

from .formatting import duration, severity_badge, status_pill, when_html
from .models import Incident, Requirement
from .row_urls import row_url

ROW = """
        <tr>
          <td class="mono"><a href="{url}">{reference}</a></td>
          <td>{severity}</td>
          <td class="wide"><a href="{url}">{title}</a>{private}</td>
          <td>{status}</td>
          <td>{team}</td>
          <td class="mono">{started}</td>
          <td class="num mono">{duration}</td>
          <td>{postmortem}</td>
        </tr>"""
PRIVATE = ' <span class="pill pill-private">Private</span>'
_badge = cache(severity_badge)
_pill = cache(status_pill)


def incident_rows(incidents: list[Incident]) -> SafeString:
    """The <tr>s of the incident list, one per incident (loaded by `for_list()`)."""
    detail, postmortem = row_url("incidents:detail"), row_url("postmortems:detail")
    return SafeString(
        "".join(
            _row(incident, detail(incident.number), postmortem(incident.number))
            for incident in incidents
        )
    )


def _row(incident: Incident, url: str, postmortem_url: str) -> str:
    return ROW.format(
        url=escape(url),
        reference=escape(incident.reference),
        severity=_badge(incident.severity),
        title=escape(incident.title),
        private=PRIVATE if incident.private else "",
        status=_pill(incident.status, incident.get_status_display()),
        team=escape(incident.team.name),
        started=when_html(incident.started_at),
        duration=escape(duration(incident.time_to_resolve)),
        postmortem=_postmortem_cell(incident, postmortem_url),
    )


def _postmortem_cell(incident: Incident, postmortem_url: str) -> str:
    """The postmortem's status, or what the policy asks for while there is none."""
    pm = incident.postmortem_or_none
    if pm:
        pill = _pill(pm.status, pm.get_status_display())
        return format_html('<a href="{}">{}</a>', postmortem_url, pill)
    reason = incident.postmortem_reason
    if incident.postmortem_requirement == Requirement.REQUIRED:
        return format_html('<span class="pill pill-owed" title="{}">Required</span>', reason)
    if incident.postmortem_requirement == Requirement.RECOMMENDED:
        return format_html(
            '<span class="pill pill-recommended" title="{}">Recommended</span>', reason
        )
    return format_html('<span class="muted" title="{}">Brief record</span>', reason)
