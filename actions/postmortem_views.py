"""Action items on postmortem pages: the editor's items panel, capture in a review meeting,
and the Markdown export and import of a whole document with its items.

These views sit in `actions`, the top domain app, because they need the postmortem and its
items together; postmortems' own pages reach them only through URLs and the `action_items`
template tags (README, "Layering").
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import permissions
from incidents.forms import show_conflict
from incidents.models import Incident, Team
from incidents.services import EditConflict
from postmortems.forms import MarkdownImportForm
from postmortems.models import Postmortem
from postmortems.views.contexts import edit_context, postmortem_for
from postmortems.views.meetings import meeting_for, save_capture

from . import markdown, meeting_items, services
from .forms import ActionItemForm
from .markdown.save import existing_content
from .postmortem_items import added_member_notice, items_panel_context, membership_offered

User = get_user_model()


# --- The editor's action items panel ---------------------------------------------------------


def _items_response(request, postmortem, status=200, **kwargs):
    context = items_panel_context(postmortem, user=request.user, **kwargs)
    if request.htmx:
        return render(request, "actions/postmortem_items.html", context, status=status)
    if status == 200 and request.method == "POST":
        return redirect(reverse("postmortems:edit", args=[postmortem.incident.number]) + "#actions")
    # Without JavaScript a failed form, or the edit form opened by its link, re-renders the
    # whole editor; the panel tag reads the form from this context.
    page = {**edit_context(request, postmortem), **context}
    return render(request, "postmortems/postmortem_edit.html", page, status=status)


@require_POST
def item_add(request, number: int):
    postmortem = postmortem_for(request, number)
    offer = membership_offered(request.user, postmortem.incident)
    form = ActionItemForm(request.POST, offer_membership=offer)
    if form.is_valid():
        try:
            item = services.create_action_item(
                postmortem=postmortem,
                by=request.user,
                add_member=form.cleaned_data.get("add_member", False),
                **form.item_fields(),
            )
        except ValidationError as err:
            form.add_error(None, err)
        else:
            if notice := added_member_notice(item):
                messages.info(request, notice)
            if not request.htmx:
                messages.success(request, "Action item added.")
            return _items_response(request, postmortem)
    # The form with its errors is for who may send it (the service refused the others).
    permissions.require(request.user, "add_action_item", postmortem)
    return _items_response(request, postmortem, status=422, form=form)


@require_http_methods(["GET", "POST"])
def item_edit(request, number: int, pk: int):
    postmortem = postmortem_for(request, number)
    item = get_object_or_404(postmortem.action_items.select_related("owner"), pk=pk)
    # The form is not offered to whoever may not save it (the service refuses the save too).
    permissions.require(request.user, "change_action_item", item)
    offer = membership_offered(request.user, postmortem.incident)
    form = ActionItemForm(request.POST or None, instance=item, offer_membership=offer)
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            # The form saved its values onto the instance while validating; update from a
            # fresh copy so the service sees what changed.
            saved = services.update_action_item(
                item=postmortem.action_items.get(pk=pk),
                by=request.user,
                reason=form.cleaned_data.get("reason", ""),
                version=form.cleaned_data.get("loaded_version"),
                add_member=form.cleaned_data.get("add_member", False),
                **form.item_fields(),
            )
        except ValidationError as err:
            form.add_error(None, err)
        except EditConflict as conflict:
            show_conflict(form, conflict, "action item")
            status = 409
        else:
            if notice := added_member_notice(saved):
                messages.info(request, notice)
            if not request.htmx:
                messages.success(request, "Action item saved.")
            return _items_response(request, postmortem)
    return _items_response(request, postmortem, status=status, editing=item.pk, edit_form=form)


# --- Capture in a review meeting --------------------------------------------------------------


@require_POST
def meeting_item(request, number: int, pk: int):
    meeting = meeting_for(request, number, pk)
    permissions.require(request.user, "add_action_item", meeting.postmortem)  # before the form
    form = ActionItemForm(request.POST, auto_id="ai_%s")
    return save_capture(
        request,
        meeting,
        "item",
        form,
        lambda _data: meeting_items.capture_item(
            meeting=meeting, by=request.user, **form.item_fields()
        ),
        "item_form",
    )


# --- Markdown export and import ---------------------------------------------------------------


@require_GET
def markdown_export(request, number: int):
    postmortem = postmortem_for(request, number)
    response = HttpResponse(
        markdown.export_postmortem(postmortem, reader=request.user),
        content_type="text/markdown; charset=utf-8",
    )
    disposition = "inline" if request.GET.get("view") else "attachment"
    filename = markdown.export_filename(postmortem)
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
def markdown_import(request, number: int):
    incident = get_object_or_404(Incident.objects.visible_to(request.user), number=number)
    permissions.require(request.user, "edit", incident)  # the import writes the document
    postmortem = incident.postmortem_or_none
    form = MarkdownImportForm(request.POST or None, request.FILES or None)
    context = {"incident": incident, "postmortem": postmortem, "form": form}
    if postmortem:
        context["existing"] = existing_content(postmortem)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 422
        else:
            users = User.objects.filter(is_active=True)
            result = markdown.parse_postmortem_markdown(
                form.cleaned_data["text"],
                users=list(users),
                tz=timezone.get_current_timezone(),
                day=form.cleaned_data["incident_date"],
                team_names=Team.objects.values_list("name", flat=True),
            )
            rule = form.cleaned_data["default_due"]
            default_due = markdown.due_rule(rule, today=timezone.localdate()) if rule else None
            fallback = form.cleaned_data["owner_fallback"]
            context.update(
                result=result,
                problems=markdown.action_item_problems(
                    result, owner_fallback=fallback, default_due=default_due
                ),
                sections_found=[
                    Postmortem.SECTION_LABELS.get(name, name) for name in result.sections
                ],
            )
            if request.POST.get("confirm"):
                try:
                    with transaction.atomic():
                        outcome = markdown.import_into_incident(
                            result,
                            incident=incident,
                            user=request.user,
                            by=request.user,
                            force=form.cleaned_data["force"],
                            owner_fallback=fallback,
                            default_due=default_due,
                        )
                except ValidationError as err:
                    form.add_error(None, err)
                    status = 422
                else:
                    messages.success(
                        request,
                        f"Imported: {outcome.events_created} timeline events, "
                        f"{outcome.factors_created} factors, {outcome.action_items_created} "
                        "action items.",
                    )
                    return redirect("postmortems:edit", number=incident.number)
    return render(request, "actions/markdown_import.html", context, status=status)
