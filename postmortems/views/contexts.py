"""What the document, the editor and its panels show: context builders shared by the views.

Views of every panel re-render the whole editor when a form fails without JavaScript, so the
builders live here, apart from the views, and no view module imports another.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import reverse

from incidents import permissions

from ..approvals import approval_state
from ..checks import chain_warnings, people_names, section_findings, stored_findings
from ..forms import (
    AuthorsForm,
    FactorForm,
    PublishForm,
    ReopenForm,
    RequestChangesForm,
    ReviewRequestForm,
)
from ..markdown import render_markdown_many
from ..models import Postmortem, SectionRevision
from ..related import suggest_related
from ..services import can_publish, publish_problems

MARGIN_FINDINGS = 20


def postmortem_for(request, number: int) -> Postmortem:
    """The postmortem of a visible incident, or 404 (private incidents never reveal themselves)."""
    return get_object_or_404(
        Postmortem.objects.visible_to(request.user).select_related(
            "incident", "incident__team", "incident__commander", "author", "published_by"
        ),
        incident__number=number,
    )


def editable_postmortem_for(request, number: int) -> Postmortem:
    """The postmortem, for a view that changes it: 404 when invisible, 403 for who may read it
    but not edit it (before any form is read, so a refused person never sees form errors)."""
    postmortem = postmortem_for(request, number)
    permissions.require(request.user, "edit", postmortem)
    return postmortem


def editor_postmortem_for(request, number: int) -> Postmortem:
    """The postmortem, for the editor and what it loads: who may save it, and its assigned
    reviewers (their approve button and comments live there; the review email links there)."""
    postmortem = postmortem_for(request, number)
    if not postmortem.reviewers.filter(pk=request.user.pk).exists():
        permissions.require(request.user, "edit", postmortem)
    return postmortem


def system_names(incident) -> list[str]:
    return [s.name for s in incident.services.all()]


def document_context(postmortem: Postmortem, user) -> dict:
    incident = postmortem.incident
    factors = list(postmortem.factors.all())
    grouped: dict[str, list] = {}
    for factor in factors:
        grouped.setdefault(factor.get_category_display(), []).append(factor)
    co_authors = list(postmortem.co_authors.order_by("username"))
    postmortem.knowing_co_authors(co_authors)  # the review box asks who the authors are
    return {
        "postmortem": postmortem,
        "incident": incident,
        "reviewers": list(postmortem.reviewers.order_by("username")),
        "co_authors": co_authors,
        "sections": [
            (field, label, getattr(postmortem, field)) for field, label in Postmortem.SECTIONS
        ],
        "events": list(incident.timeline.for_table()),
        "factors": factors,
        "factor_groups": sorted(grouped.items()),
        # The reverse relation of actions.ActionItem: read here without importing actions.
        "items": list(postmortem.action_items.select_related("owner")),
        "services": list(incident.services.all()),
        "related": _related(incident, user),
    }


def section_states(postmortem: Postmortem) -> dict[str, SectionRevision | None]:
    numbers = postmortem.latest_numbers()
    wanted = Q(pk__in=[])
    for section, number in numbers.items():
        if number:
            wanted |= Q(section=section, number=number)
    newest = {r.section: r for r in postmortem.revisions.filter(wanted).select_related("author")}
    return {section: newest.get(section) for section in numbers}


def section_context(
    postmortem: Postmortem, section: str, revision, names=(), findings=None, **extra
) -> dict:
    """`findings`: the section's stored wording findings when the caller has read them."""
    text = getattr(postmortem, section)
    if findings is None:
        (findings,) = stored_findings([text], names, people_names)
    return {
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "s": {
            "field": section,
            "label": Postmortem.SECTION_LABELS[section],
            "prompt": Postmortem.PROMPTS[section],
            "text": text,
            "revision": revision,
            "number": revision.number if revision else 0,
            # A margin of hundreds of notes helps nobody; the first ones show the pattern.
            "findings": findings[:MARGIN_FINDINGS],
            "findings_hidden": max(0, len(findings) - MARGIN_FINDINGS),
        },
        **extra,
    }


def factors_context(
    postmortem, names, form=None, editing=None, edit_form=None, factors=None
) -> dict:
    """`factors`: the postmortem's factors when the caller has read them."""
    rows = [
        {
            "factor": f,
            "warnings": chain_warnings(f.whys, names),
            "findings": section_findings(f.description, names),
        }
        for f in (postmortem.factors.all() if factors is None else factors)
    ]
    return {
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "factor_rows": rows,
        "factor_form": form or FactorForm(),
        "editing": editing,
        "edit_form": edit_form,
        "categories_used": sorted({r["factor"].get_category_display() for r in rows}),
    }


def review_context(
    request, postmortem: Postmortem, document: dict, numbers: dict | None = None, **forms
) -> dict:
    """The review box of the document page and the editor: approvals, who may do what next.

    `document`: the page's document context, whose reviewers and co-authors are reused;
    `numbers`: the sections' latest revision numbers when the page has read them.
    `forms` are bound forms that failed, shown again with their errors and typed text.
    """
    user = request.user
    all_comments = list(postmortem.comments.select_related("author"))
    reopenings = list(postmortem.reopenings.select_related("by")[:5])
    state = approval_state(
        postmortem,
        numbers=numbers,
        reviewers=document["reviewers"],
        comments=all_comments,
        reopenings=reopenings,
    )
    comments: dict[str, list] = {}
    for comment in all_comments:
        comments.setdefault(comment.section, []).append(comment)
    can_override = permissions.can(user, "publish_override", postmortem)
    problems = publish_problems(postmortem) if postmortem.status == "in_review" else []
    if postmortem.status == "in_review" and not state.met:
        problems.append(state.shortfall)
    return {
        "approvals": state,
        "review_reviewers": state.reviewers,
        "is_reviewer": permissions.can(user, "approve", postmortem),
        "can_publish": can_publish(postmortem, user),
        "can_override": can_override,
        "can_reopen": permissions.can(user, "reopen", postmortem),
        "can_send_for_review": permissions.can(user, "send_for_review", postmortem),
        "can_change_authors": permissions.can(user, "change_authors", postmortem),
        "publish_problems": problems,
        "review_form": forms.get("review_form")
        or ReviewRequestForm(initial={"reviewers": [r.user.pk for r in state.reviewers]}),
        "publish_form": forms.get("publish_form") or PublishForm(),
        "reopen_form": forms.get("reopen_form") or ReopenForm(),
        "changes_form": forms.get("changes_form") or RequestChangesForm(),
        # People as read (no query for their usernames); co-authors in id order, as before.
        "authors_form": forms.get("authors_form")
        or AuthorsForm(
            initial={
                "author": postmortem.author,
                "co_authors": sorted(document["co_authors"], key=lambda u: u.pk),
            }
        ),
        "reopenings": reopenings,
        "comments": comments,
    }


def detail_context(request, postmortem: Postmortem, **forms) -> dict:
    """The read-only document, with the review box reviewers act from (the emailed link)."""
    document = document_context(postmortem, request.user)
    # Each section with its HTML; the long sections' stored HTML is read in one query.
    htmls = render_markdown_many([text for _, _, text in document["sections"]])
    document["sections"] = [
        (*section, html) for section, html in zip(document["sections"], htmls, strict=True)
    ]
    return {**document, **review_context(request, postmortem, document, **forms)}


def _related(incident, user) -> list:
    return list(incident.related.visible_to(user).order_by("-started_at"))


def related_context(
    request, postmortem: Postmortem, related: list | None = None, document: dict | None = None
) -> dict:
    """The related-incidents panel. Its suggestions (look-alike incidents and earlier
    unfinished fixes) are asked for by the page once it has loaded (`suggestions_context`),
    unless the URL asks for them at once (`?suggestions=1`, the link shown without
    JavaScript). `document`: the editor's document context, whose services and factors the
    suggestions reuse instead of reading them again."""
    incident = postmortem.incident
    context = {
        "postmortem": postmortem,
        "incident": incident,
        "related": _related(incident, request.user) if related is None else related,
    }
    if request.method == "GET" and request.GET.get("suggestions"):
        return context | suggestions_context(request, postmortem, document)
    url = reverse("postmortems:related-suggestions", args=[incident.number])
    return context | {"suggestions_url": url}


def suggestions_context(request, postmortem: Postmortem, document: dict | None = None) -> dict:
    known = {}
    if document is not None:
        known = {
            "service_ids": [s.pk for s in document["services"]],
            "categories": {f.category for f in document["factors"]},
        }
    return {
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "suggestions": suggest_related(postmortem.incident, request.user, **known),
    }


def edit_context(request, postmortem: Postmortem, **forms) -> dict:
    """The whole editor. Its action items panel comes from the `action_items` template tags of
    the actions app, which reads `item_form`, `editing_item` and `item_edit_form` from here
    when an actions view re-renders the page with a failed form."""
    document = document_context(postmortem, request.user)
    names = [s.name for s in document["services"]]  # system_names, as already read
    states = section_states(postmortem)
    # Stored when each section was saved: rendering reads them, it does not check again.
    texts = [getattr(postmortem, field) for field in Postmortem.SECTION_FIELDS]
    # The directory is read only when a text was never checked (people_names is lazy here).
    findings = stored_findings(texts, names, people_names)
    previews = render_markdown_many(texts)  # the long sections' stored HTML in one query
    sections = [
        {**section_context(postmortem, field, states[field], names, found)["s"], "preview": html}
        for field, found, html in zip(Postmortem.SECTION_FIELDS, findings, previews, strict=True)
    ]
    numbers = {field: state.number if state else 0 for field, state in states.items()}
    review = review_context(request, postmortem, document, numbers, **forms)
    for section in sections:
        section["comments"] = review["comments"].get(section["field"], [])
    return {
        **document,
        **factors_context(postmortem, names, factors=document["factors"]),
        **review,
        **related_context(request, postmortem, related=document["related"], document=document),
        "edit_sections": sections,
        "section_max_bytes": settings.DEBRIEF_SECTION_MAX_BYTES,
    }
