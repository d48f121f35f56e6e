"""The editor's sections and their pieces, written in Python (postmortems/section_html.py)."""

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse

from .. import section_html

register = template.Library()


def _csrf_input(context) -> str:
    return CsrfTokenNode().render(context)


@register.simple_tag(takes_context=True)
def section_editor(context, s):
    return section_html.section_editor(
        s,
        incident=context["incident"],
        csrf_input=_csrf_input(context),
        max_bytes=context["section_max_bytes"],
        conflict=context.get("conflict"),
        merged=context.get("merged", False),
        remote=context.get("remote"),
    )


@register.simple_tag(takes_context=True)
def section_part(context, part: str):
    """One piece of the section in `s`, for the save responses and co-editing fragments;
    `oob` (a context variable) marks it to be swapped in place by id."""
    s, oob = context["s"], bool(context.get("oob"))
    if part == "base":
        html = section_html.base_input(s, oob=oob)
    elif part == "state":
        html = section_html.save_state(
            s,
            oob=oob,
            state_class=context.get("state_class", ""),
            text=context.get("state_text", ""),
        )
    elif part == "preview":
        html = section_html.preview(s, oob=oob)
    elif part == "findings":
        html = section_html.findings(s, oob=oob)
    elif part == "conflict":
        html = section_html.conflict_slot(
            s, oob=oob, conflict=context.get("conflict"), merged=context.get("merged", False)
        )
    elif part == "remote":
        html = section_html.remote_slot(s, oob=oob, remote=context.get("remote"))
    else:
        raise template.TemplateSyntaxError(f"No section part {part!r}.")
    return section_html.mark_safe(html)


@register.simple_tag(takes_context=True)
def review_comments(context, comments, field: str = "general"):
    url = reverse("postmortems:comment", args=[context["incident"].number])
    return section_html.mark_safe(
        section_html.comments(comments, field, comment_url=url, csrf_input=_csrf_input(context))
    )
