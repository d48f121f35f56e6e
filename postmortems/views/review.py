"""The review workflow: authors, reviewers, comments, approvals, publishing, reopening.

Reviewers act from the read-only document (the page their email links to) or the editor; each
form says which with a hidden `back`, and a failed form is shown again there with its text.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from incidents import permissions

from .. import services
from ..forms import (
    AuthorsForm,
    CommentForm,
    PublishForm,
    ReopenForm,
    RequestChangesForm,
    ReviewRequestForm,
)
from ..models import Postmortem
from .contexts import detail_context, edit_context, editable_postmortem_for, postmortem_for


def _from_document(request) -> bool:
    return request.POST.get("back") == "document"


def _back(request, number: int, anchor: str = "review"):
    name = "postmortems:detail" if _from_document(request) else "postmortems:edit"
    return redirect(reverse(name, args=[number]) + f"#{anchor}")


def _again(request, postmortem: Postmortem, message: str, **forms):
    """The page the form came from, with the failed form and its typed text (422)."""
    messages.error(request, message)
    if _from_document(request):
        context = detail_context(request, postmortem, **forms)
        return render(request, "postmortems/postmortem_detail.html", context, status=422)
    context = edit_context(request, postmortem, **forms)
    return render(request, "postmortems/postmortem_edit.html", context, status=422)


def _error_message(err: ValidationError) -> str:
    return " ".join(err.messages)


def _locked(request, postmortem: Postmortem):
    """A review change on a published postmortem: refused, never a silent reopening."""
    context = {"postmortem": postmortem, "incident": postmortem.incident}
    context["message"] = services.PublishedLocked.message
    return render(request, "postmortems/review_refused.html", context, status=409)


@require_POST
def authors_change(request, number: int):
    postmortem = postmortem_for(request, number)
    permissions.require(request.user, "change_authors", postmortem)  # before the form's errors
    form = AuthorsForm(request.POST)
    if not form.is_valid():
        return _again(request, postmortem, "Check the authors.", authors_form=form)
    try:
        dropped = services.set_authors(
            postmortem=postmortem,
            author=form.cleaned_data["author"],
            co_authors=list(form.cleaned_data["co_authors"]),
            by=request.user,
        )
    except ValidationError as err:
        form.add_error(None, err)
        return _again(request, postmortem, _error_message(err), authors_form=form)
    note = "Authors saved."
    if dropped:
        names = ", ".join(u.get_full_name() or u.get_username() for u in dropped)
        note += f" {names} no longer review{'s' if len(dropped) == 1 else ''}: authors do not "
        note += "review their own work."
    messages.success(request, note)
    return _back(request, number)


@require_POST
def review_request(request, number: int):
    postmortem = editable_postmortem_for(request, number)
    form = ReviewRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reviewers"]))
        return _back(request, number)
    try:
        services.request_review(
            postmortem=postmortem, reviewers=list(form.cleaned_data["reviewers"]), by=request.user
        )
    except services.PublishedLocked:
        return _locked(request, postmortem)
    except ValidationError as err:
        messages.error(request, _error_message(err))
    else:
        messages.success(request, "Sent for review; the reviewers have been emailed a link.")
    return _back(request, number)


@require_POST
def approve(request, number: int):
    postmortem = postmortem_for(request, number)
    try:
        services.approve_postmortem(
            postmortem=postmortem, by=request.user, note=request.POST.get("note", "")
        )
    except ValidationError as err:
        messages.error(request, _error_message(err))
    else:
        messages.success(
            request,
            "You approved the postmortem as it reads now. If it changes, you'll be asked "
            "to look again.",
        )
    return _back(request, number)


@require_POST
def request_changes(request, number: int):
    postmortem = postmortem_for(request, number)
    permissions.require(request.user, "approve", postmortem)  # before the form's errors
    form = RequestChangesForm(request.POST)
    if not form.is_valid():
        return _again(request, postmortem, " ".join(form.errors["text"]), changes_form=form)
    try:
        services.request_changes(
            postmortem=postmortem, by=request.user, text=form.cleaned_data["text"]
        )
    except ValidationError as err:
        return _again(request, postmortem, _error_message(err), changes_form=form)
    messages.success(request, "Changes requested; the authors see your note in the review.")
    return _back(request, number)


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
        return _again(request, postmortem, _error_message(err), publish_form=form)
    messages.success(request, "Published. Everyone who can see the incident can read it now.")
    return redirect(postmortem)


@require_POST
def reopen(request, number: int):
    postmortem = postmortem_for(request, number)
    permissions.require(request.user, "reopen", postmortem)  # before the form's errors
    form = ReopenForm(request.POST)
    if not form.is_valid():
        message = " ".join(e for errs in form.errors.values() for e in errs)
        return _again(request, postmortem, message, reopen_form=form)
    try:
        services.reopen_postmortem(
            postmortem=postmortem,
            by=request.user,
            reason=form.cleaned_data["reason"],
            to_status=form.cleaned_data["to_status"],
        )
    except ValidationError as err:
        return _again(request, postmortem, _error_message(err), reopen_form=form)
    messages.success(request, "Reopened; the reviewers have been emailed your reason.")
    return _back(request, number)


@require_POST
def comment_add(request, number: int):
    postmortem = postmortem_for(request, number)
    permissions.require(request.user, "comment", postmortem)  # before the form's errors
    form = CommentForm(request.POST)
    section = request.POST.get("section", "")
    anchor = f"s-{section}" if section in Postmortem.SECTION_LABELS else "review"
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return _back(request, number, anchor)
    services.add_comment(
        postmortem=postmortem,
        section=form.cleaned_data["section"],
        by=request.user,
        text=form.cleaned_data["text"],
    )
    messages.success(request, "Comment added.")
    return _back(request, number, anchor)
