"""The rows of the action item lists, written in Python: the lists' 50 rows and the one row an
inline status change sends back.

Through the template engine, a row (a status form with five options, a CSRF field, filters and
lookups in nine cells) cost about a millisecond; 50 of them were the largest part of the page.
One format string per row writes the same markup for a small part of that. Text is escaped
with the standard library's `html.escape`, which is what Django's `escape` calls.
"""

from __future__ import annotations

from functools import cache
from html import escape

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from incidents.formatting import status_pill

from .models import ActionItem

ROW = """
        <tr id="item-{pk}" class="{overdue_class}">
          {bulk}
          <td><a href="{url}">{title}</a>
            {reason}</td>
          <td>{owner}</td>
          <td class="mono nowrap">{due}{overdue_pill}</td>
          <td class="mono">{priority}</td>
          <td>{leverage}</td>
          <td class="status-cell">
            {status}
          </td>
          <td class="mono"><a href="{incident_url}">{reference}</a></td>
          <td class="mono">{ticket}</td>
        </tr>"""

STATUS_FORM = """
            <form class="status-form" method="post" action="{url}"
                  hx-post="{url}" hx-target="#item-{pk}" hx-swap="outerHTML"
                  hx-trigger="change from:find select, submit" hx-indicator="#progress">
              {csrf}<input type="hidden" name="context" value="row">
              <label class="visually-hidden" for="status-{pk}">Status of {title}</label>
              <select id="status-{pk}" name="status">
                {options}
              </select>
              {problem}
              <noscript><button class="btn small" type="submit">Save</button></noscript>
            </form>
            """

PROBLEM = """
              <label class="visually-hidden" for="reason-{pk}">Reason</label>
              <input id="reason-{pk}" name="reason" value="{reason}" placeholder="Why? (recorded)" aria-invalid="true" autofocus>
              <button class="btn small" type="submit">Save</button>
              {errors}
              """  # noqa: E501


@cache
def _status_options(selected: str | None) -> str:
    """The status <option>s with `selected` chosen; five statuses, so each set is built once."""
    return "".join(
        f'<option value="{escape(value)}"{" selected" if value == selected else ""}>'
        f"{escape(str(label))}</option>"
        for value, label in ActionItem.Status.choices
    )


_pill = cache(status_pill)


def item_rows(items, *, csrf_token: str, can_bulk: bool, ticked: set[str]) -> SafeString:
    """The <tr>s of a list page; `items` went through actions.views._decorate."""
    return SafeString(
        "".join(
            item_row(item, csrf_token=csrf_token, can_bulk=can_bulk, ticked=ticked)
            for item in items
        )
    )


def item_row(item, *, csrf_token: str, can_bulk: bool, ticked=(), status_form=None) -> str:
    """One row: the item's facts, and its status control for who may change it. After a
    refused inline change, `status_form` (bound, with errors) shows what was sent and why."""
    overdue = item.is_overdue()
    owner = item.owner
    bulk = ""
    if can_bulk:
        box = ""
        if item.bulk_changeable:
            checked = " checked" if str(item.pk) in ticked else ""
            box = (
                f'<input type="checkbox" name="items" value="{item.pk}" form="bulk" '
                f'aria-label="Select {escape(item.title)}"{checked}>'
            )
        bulk = f"<td>{box}</td>"
    reason = ""
    if item.reason:
        why = escape(Truncator(item.reason).chars(140))
        reason = f'<div class="decision small"><span class="muted">Why:</span> {why}</div>'
    if item.link:
        ticket = (
            f'<a href="{escape(item.link)}" rel="noopener noreferrer">'
            f"{escape(item.ticket_key or 'link')}</a>"
        )
    else:
        ticket = escape(item.ticket_key or "—")
    return ROW.format(
        pk=item.pk,
        overdue_class="is-overdue" if overdue else "",
        bulk=bulk,
        url=escape(item.url),
        title=escape(item.title),
        reason=reason,
        owner=escape(owner.get_full_name() or owner.username),
        due=item.due_on.isoformat(),
        overdue_pill=' <span class="pill pill-overdue">Overdue</span>' if overdue else "",
        priority=escape(item.priority_code),
        leverage=escape(str(item.get_leverage_display())),
        status=_status_cell(item, csrf_token, status_form),
        incident_url=escape(item.incident_url),
        reference=escape(item.postmortem.incident.reference),
        ticket=ticket,
    )


def _status_cell(item, csrf_token: str, status_form) -> str:
    if not item.changeable:
        return _pill(item.status, str(item.get_status_display()))
    if status_form is None:
        options, problem = _status_options(item.status), ""
    else:
        options = _status_options(status_form.data.get("status"))
        problem = _problem(item, status_form) if status_form.errors else ""
    return STATUS_FORM.format(
        url=escape(item.status_url),
        pk=item.pk,
        csrf=(f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'),
        title=escape(item.title),
        options=options,
        problem=problem,
    )


def _problem(item, status_form) -> str:
    errors = "".join(
        f'<p class="error" role="alert">{conditional_escape(error)}</p>'
        for field_errors in status_form.errors.values()
        for error in field_errors
    )
    return PROBLEM.format(
        pk=item.pk, reason=escape(status_form.data.get("reason") or ""), errors=errors
    )
