"""What the document, the editor and its panels show: context builders shared by the views.

Views of every panel re-render the whole editor when a form fails without JavaScript, so the
builders live here, apart from the views, and no view module imports another.
"""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404

from incidents import permissions

from ..checks import chain_warnings, section_findings
from ..forms import FactorForm, PublishForm, ReviewRequestForm
from ..models import Postmortem, SectionRevision
from ..related import suggest_related
from ..services import can_publish, changed_since, publish_problems


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


def system_names(incident) -> list[str]:
    return [s.name for s in incident.services.all()]


def document_context(postmortem: Postmortem, user) -> dict:
    incident = postmortem.incident
    factors = list(postmortem.factors.all())
    grouped: dict[str, list] = {}
    for factor in factors:
        grouped.setdefault(factor.get_category_display(), []).append(factor)
    return {
        "postmortem": postmortem,
        "incident": incident,
        "reviewers": list(postmortem.reviewers.order_by("username")),
        "sections": [
            (field, label, getattr(postmortem, field)) for field, label in Postmortem.SECTIONS
        ],
        "events": list(incident.timeline.all()),
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


def section_context(postmortem: Postmortem, section: str, revision, names=(), **extra) -> dict:
    text = getattr(postmortem, section)
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
            "findings": section_findings(text, names),
        },
        **extra,
    }


def factors_context(postmortem, names, form=None, editing=None, edit_form=None) -> dict:
    rows = [
        {
            "factor": f,
            "warnings": chain_warnings(f.whys, names),
            "findings": section_findings(f.description, names),
        }
        for f in postmortem.factors.all()
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


def review_context(request, postmortem: Postmortem) -> dict:
    numbers = postmortem.latest_numbers()
    latest_by_reviewer = {}
    for approval in postmortem.approvals.select_related("reviewer"):
        latest_by_reviewer.setdefault(approval.reviewer_id, approval)
    reviewers = []
    for reviewer in postmortem.reviewers.order_by("username"):
        approval = latest_by_reviewer.get(reviewer.pk)
        changed = changed_since(approval, numbers) if approval else []
        reviewers.append(
            {
                "user": reviewer,
                "approval": approval,
                "changed": [Postmortem.SECTION_LABELS[s] for s in changed],
            }
        )
    comments: dict[str, list] = {}
    for comment in postmortem.comments.select_related("author"):
        comments.setdefault(comment.section, []).append(comment)
    return {
        "review_reviewers": reviewers,
        "is_reviewer": any(r["user"].pk == request.user.pk for r in reviewers),
        "can_publish": can_publish(postmortem, request.user),
        "publish_problems": publish_problems(postmortem),
        "review_form": ReviewRequestForm(initial={"reviewers": [r["user"].pk for r in reviewers]}),
        "publish_form": PublishForm(),
        "comments": comments,
    }


def _related(incident, user) -> list:
    return list(incident.related.visible_to(user).order_by("-started_at"))


def related_context(request, postmortem: Postmortem, related: list | None = None) -> dict:
    incident = postmortem.incident
    return {
        "postmortem": postmortem,
        "incident": incident,
        "related": _related(incident, request.user) if related is None else related,
        "suggestions": suggest_related(incident, request.user),
    }


def edit_context(request, postmortem: Postmortem) -> dict:
    """The whole editor. Its action items panel comes from the `action_items` template tags of
    the actions app, which reads `item_form`, `editing_item` and `item_edit_form` from here
    when an actions view re-renders the page with a failed form."""
    names = system_names(postmortem.incident)
    states = section_states(postmortem)
    sections = [
        section_context(postmortem, field, states[field], names)["s"]
        for field in Postmortem.SECTION_FIELDS
    ]
    review = review_context(request, postmortem)
    for section in sections:
        section["comments"] = review["comments"].get(section["field"], [])
    document = document_context(postmortem, request.user)
    return {
        **document,
        **factors_context(postmortem, names),
        **review,
        **related_context(request, postmortem, related=document["related"]),
        "edit_sections": sections,
    }
