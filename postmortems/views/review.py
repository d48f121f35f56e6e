"""The review workflow: reviewers, comments, approvals, publishing."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from incidents import permissions

from .. import services
from ..forms import CommentForm, PublishForm, ReviewRequestForm
from ..models import Postmortem
from .contexts import editable_postmortem_for, postmortem_for


def _back_to_review(number: int, anchor: str = "review"):
    return redirect(reverse("postmortems:edit", args=[number]) + f"#{anchor}")


def _error_message(err: ValidationError) -> str:
    return " ".join(err.messages)


@require_POST
def review_request(request, number: int):
    postmortem = editable_postmortem_for(request, number)
    form = ReviewRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reviewers"]))
        return _back_to_review(number)
    try:
        services.request_review(
            postmortem=postmortem, reviewers=list(form.cleaned_data["reviewers"]), by=request.user
        )
    except ValidationError as err:
        messages.error(request, _error_message(err))
    else:
        messages.success(request, "Sent for review; the reviewers have been emailed a link.")
    return _back_to_review(number)


@require_POST
def approve(request, number: int):
    postmortem = postmortem_for(request, number)
    try:
        approval = services.approve_postmortem(
            postmortem=postmortem, by=request.user, note=request.POST.get("note", "")
        )
    except ValidationError as err:
        messages.error(request, _error_message(err))
    else:
        messages.success(request, f"You approved version {approval.version}.")
    return _back_to_review(number)


@require_POST
def publish(request, number: int):
    postmortem = postmortem_for(request, number)
    form = PublishForm(request.POST)
    form.is_valid()
    try:
        services.publish_postmortem(
            postmortem=postmortem,
            by=request.user,
            override_reason=form.cleaned_data.get("override_reason", ""),
        )
    except ValidationError as err:
        messages.error(request, _error_message(err))
        return _back_to_review(number)
    messages.success(request, "Published. Everyone who can see the incident can read it now.")
    return redirect(postmortem)


@require_POST
def comment_add(request, number: int):
    postmortem = postmortem_for(request, number)
    permissions.require(request.user, "comment", postmortem)  # before the form's errors
    form = CommentForm(request.POST)
    section = request.POST.get("section", "")
    anchor = f"s-{section}" if section in Postmortem.SECTION_LABELS else "review"
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return _back_to_review(number, anchor)
    services.add_comment(
        postmortem=postmortem,
        section=form.cleaned_data["section"],
        by=request.user,
        text=form.cleaned_data["text"],
    )
    messages.success(request, "Comment added.")
    return _back_to_review(number, anchor)
