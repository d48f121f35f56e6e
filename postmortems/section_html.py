"""The editor's section boxes, written in Python.

The editor shows seven sections, each a form with its save state, preview, wording findings
and review comments. Through templates that was about 60 variable lookups and seven includes a
section, 8-10 ms of the editor. These functions write the same markup (the save responses' and
the co-editing fragments' pieces included, so each piece is written in one place), and
tests/postmortems/test_section_html.py holds them equal to the templates they replaced.

A section's conflict and "someone else saved" notices are rare and rich: when there is one,
its template (includes/section_conflict.html, includes/section_remote.html) writes it.

`s` is the section's dict from postmortems.views.contexts.section_context.
"""

from __future__ import annotations

from html import escape

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe

from incidents.formatting import when_html

from .markdown import render_markdown

OOB = ' hx-swap-oob="true"'


def _oob(oob: bool) -> str:
    return OOB if oob else ""


def _name(user) -> str:
    """`user.get_full_name|default:user.username`, escaped."""
    return escape(user.get_full_name() or user.username)


def base_input(s: dict, *, oob: bool = False) -> str:
    """The revision the box was loaded at, sent back with each save."""
    field = escape(s["field"])
    return f'<input type="hidden" name="base" value="{s["number"]}" id="base-{field}"{_oob(oob)}>'


def save_state(s: dict, *, oob: bool = False, state_class: str = "", text: str = "") -> str:
    """ "Saved at 14:02 · version 3 by Ana", or what went wrong (`text`, with `state_class`)."""
    revision = s.get("revision")
    if text:
        shown = escape(str(text))
    elif revision:
        author = f" by {_name(revision.author)}" if revision.author else ""
        at = when_html(revision.created_at, "%H:%M")
        shown = f"Saved at {at} · version {revision.number}{author}"
    elif s.get("text"):
        shown = "Saved"
    else:
        shown = "Not written yet"
    kind = f" {escape(state_class)}" if state_class else ""
    return (
        f'<span class="save-state{kind}" id="state-{escape(s["field"])}" role="status" '
        f'aria-live="polite"{_oob(oob)}>{shown}</span>'
    )


def preview(s: dict, *, oob: bool = False) -> str:
    """The section as the document shows it: its stored rendering, else rendered now."""
    if s.get("preview"):
        body = f'<div class="md">{s["preview"]}</div>'
    elif s.get("text"):
        body = f'<div class="md">{render_markdown(s["text"])}</div>'
    else:
        body = f'<p class="muted">{escape(str(s["prompt"]))}</p>'
    return f'<div class="preview-body" id="preview-{escape(s["field"])}"{_oob(oob)}>{body}</div>'


def _part(finding, name: str) -> str:
    """A finding's field, escaped: stored findings are dicts, fresh ones `Finding`s."""
    value = finding.get(name) if isinstance(finding, dict) else getattr(finding, name, "")
    return escape(str(value or ""))


def findings(s: dict, *, oob: bool = False) -> str:
    """The margin of wording checks beside the box."""
    notes = []
    for f in s.get("findings") or ():
        suggestion = _part(f, "suggestion")
        tip = f'<p class="small"><strong>Try:</strong> {suggestion}</p>' if suggestion else ""
        notes.append(
            f'<div class="finding"><p><mark>{_part(f, "text")}</mark> '
            f'<span class="muted small">({_part(f, "rule")})</span></p>'
            f'<p class="small">{_part(f, "message")}</p>{tip}</div>'
        )
    hidden = s.get("findings_hidden") or 0
    if hidden:
        plural = "" if hidden == 1 else "s"
        notes.append(
            f'<p class="small muted">…and {hidden} more wording finding{plural} in this '
            "section.</p>"
        )
    label = escape(str(s["label"]))
    return (
        f'<aside class="margin" id="findings-{escape(s["field"])}" '
        f'aria-label="Wording checks for {label}"{_oob(oob)}>{"".join(notes)}</aside>'
    )


def conflict_slot(s: dict, *, oob: bool = False, conflict=None, merged: bool = False) -> str:
    """Where a refused save offers the two versions; empty unless there is one."""
    if conflict or merged:
        context = {"s": s, "oob": oob, "conflict": conflict, "merged": merged}
        return render_to_string("postmortems/includes/section_conflict.html", context)
    return f'<div id="conflict-{escape(s["field"])}" class="conflict-slot"{_oob(oob)}></div>'


def remote_slot(s: dict, *, oob: bool = False, remote=None) -> str:
    """Where someone else's save is announced; empty unless there is one."""
    if remote:
        context = {"s": s, "oob": oob, "remote": remote}
        return render_to_string("postmortems/includes/section_remote.html", context)
    return f'<div id="remote-{escape(s["field"])}" class="remote-slot"{_oob(oob)}></div>'


def comments(comments, field: str, *, comment_url: str, csrf_input: str) -> str:
    """Review comments on a section (or on the whole document, `field` "general"), with the
    box to add one."""
    shown = []
    for c in comments:
        asked = (
            '<strong class="warn-text">Changes requested</strong> · ' if c.requests_changes else ""
        )
        who = _name(c.author) if c.author else "someone"
        shown.append(
            f'<div class="comment"><p class="small muted">{asked}{who} · {when_html(c.created_at)}'
            f"</p>{linebreaks(c.text, autoescape=True)}</div>"
        )
    count = f" ({len(comments)})" if comments else ""
    what = "the whole document" if field == "general" else "this section"
    field = escape(field)
    return (
        f'<details class="comments"{" open" if comments else ""}>'
        f"<summary>Review comments{count}</summary>{''.join(shown)}"
        f'<form method="post" action="{comment_url}">{csrf_input}'
        f'<input type="hidden" name="section" value="{field}">'
        f'<label for="comment-{field}" class="visually-hidden">Comment on {what}</label>'
        f'<textarea id="comment-{field}" name="text" rows="2" placeholder="Comment on {what}…" '
        "required></textarea>"
        '<button class="btn small-btn" type="submit">Add comment</button></form></details>'
    )


def section_editor(
    s: dict,
    *,
    incident,
    csrf_input: str,
    max_bytes: int,
    conflict=None,
    merged: bool = False,
    remote=None,
) -> SafeString:
    """One section of the editor: its box and save bar, notices, preview, comments, margin."""
    field = escape(s["field"])
    save_url = reverse("postmortems:section", args=[incident.number, s["field"]])
    history_url = reverse("postmortems:history", args=[incident.number])
    comment_url = reverse("postmortems:comment", args=[incident.number])
    error = s.get("error")
    state = save_state(s, state_class="state-error", text=error) if error else save_state(s)
    invalid = ' aria-invalid="true"' if error else ""
    prompt = escape(str(s["prompt"]))
    links = {"comment_url": comment_url, "csrf_input": csrf_input}
    return mark_safe(
        f'<section class="pm-section" id="s-{field}" aria-labelledby="h-{field}">'
        '<div class="pm-main">'
        f'<h2 id="h-{field}"><label for="text-{field}">{escape(str(s["label"]))}</label> '
        f'<span class="here-badge" id="here-{field}" hidden></span></h2>'
        f'<form class="section-form" data-section="{field}" method="post" action="{save_url}" '
        f'hx-post="{save_url}" hx-trigger="pm:save" hx-swap="none" hx-sync="this:queue last" '
        f'hx-indicator="#progress">{csrf_input}{base_input(s)}'
        f'<textarea id="text-{field}" name="text" rows="6" placeholder="{prompt}" '
        f'data-max-bytes="{max_bytes}"{invalid} aria-describedby="state-{field} md-help">'
        f"{escape(s['text'] or '')}</textarea>"
        '<div class="section-bar"><button type="submit" class="btn small-btn">Save</button> '
        f'{state} <a class="small" href="{history_url}?section={field}">History</a></div>'
        "</form>"
        f"{conflict_slot(s, conflict=conflict, merged=merged)}{remote_slot(s, remote=remote)}"
        f'<details class="preview" open><summary>Preview</summary>{preview(s)}</details>'
        f"{comments(s.get('comments') or [], s['field'], **links)}"
        f"</div>{findings(s)}</section>"
    )
