import re
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from actions import services as action_services
from actions.forms import ActionItemForm
from actions.quality import action_item_hints, postmortem_item_hints
from incidents.models import Incident, Team, TimelineEvent
from incidents.paging import paginate, query_without_page
from incidents.services import add_timeline_event
from incidents.timeline_paste import parse_timeline

from . import markdown_io, services
from .checks import chain_warnings, section_findings
from .forms import (
    CommentForm,
    FactorForm,
    MarkdownImportForm,
    PublishForm,
    ReviewRequestForm,
    SectionForm,
    TimelinePasteForm,
)
from .models import Postmortem, SectionRevision
from .related import earlier_open_items, suggest_related
from .services_import import existing_content

User = get_user_model()

ACTION_FIELDS = (
    "title",
    "description",
    "owner",
    "due_on",
    "priority",
    "leverage",
    "ticket_key",
    "ticket_url",
)


@require_GET
def postmortem_list(request):
    postmortems = (
        Postmortem.objects.visible_to(request.user)
        .select_related("incident", "incident__team", "author")
        .order_by("-incident__started_at", "-pk")
    )
    status = request.GET.get("status")
    if status in Postmortem.Status.values:
        postmortems = postmortems.filter(status=status)
    page = paginate(request, postmortems)
    context = {
        "page": page,
        "status": status,
        "statuses": Postmortem.Status.choices,
        "query": query_without_page(request),
    }
    return render(request, "postmortems/postmortem_list.html", context)


def _postmortem(request, number: int) -> Postmortem:
    """The postmortem of a visible incident, or 404 (private incidents never reveal themselves)."""
    return get_object_or_404(
        Postmortem.objects.visible_to(request.user).select_related(
            "incident", "incident__team", "incident__commander", "author", "published_by"
        ),
        incident__number=number,
    )


@require_POST
def postmortem_start(request, number: int):
    incident = get_object_or_404(Incident.objects.visible_to(request.user), number=number)
    existed = incident.postmortem_or_none is not None
    postmortem = services.start_postmortem(incident=incident, started_by=request.user)
    if not existed:
        messages.success(
            request, f"Postmortem started for {incident.reference}. Sections save as you type."
        )
    return redirect("postmortems:edit", number=postmortem.incident.number)


def _document_context(postmortem: Postmortem, user) -> dict:
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
        "items": list(postmortem.action_items.select_related("owner")),
        "services": list(incident.services.all()),
        "related": list(incident.related.visible_to(user).order_by("-started_at")),
    }


@require_GET
def postmortem_detail(request, number: int):
    postmortem = _postmortem(request, number)
    context = _document_context(postmortem, request.user)
    approvals = list(postmortem.approvals.select_related("reviewer"))
    if approvals and postmortem.is_published:
        numbers = postmortem.latest_numbers()
        latest = approvals[0]
        context["approval"] = latest
        context["changed_since_approval"] = [
            Postmortem.SECTION_LABELS[s] for s in services.changed_since(latest, numbers)
        ]
    context["approvals"] = approvals
    return render(request, "postmortems/postmortem_detail.html", context)


def _section_states(postmortem: Postmortem) -> dict[str, SectionRevision | None]:
    numbers = postmortem.latest_numbers()
    wanted = Q(pk__in=[])
    for section, number in numbers.items():
        if number:
            wanted |= Q(section=section, number=number)
    newest = {r.section: r for r in postmortem.revisions.filter(wanted).select_related("author")}
    return {section: newest.get(section) for section in numbers}


def _section_context(postmortem: Postmortem, section: str, revision, names=(), **extra) -> dict:
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


def _edit_context(request, postmortem: Postmortem) -> dict:
    names = _system_names(postmortem.incident)
    states = _section_states(postmortem)
    sections = [
        _section_context(postmortem, field, states[field], names)["s"]
        for field in Postmortem.SECTION_FIELDS
    ]
    review = _review_context(request, postmortem)
    for section in sections:
        section["comments"] = review["comments"].get(section["field"], [])
    return {
        **_document_context(postmortem, request.user),
        **_factors_context(postmortem, names),
        **_items_context(postmortem),
        **review,
        **_related_context(request, postmortem),
        "edit_sections": sections,
    }


@require_GET
def postmortem_edit(request, number: int):
    postmortem = _postmortem(request, number)
    return render(request, "postmortems/postmortem_edit.html", _edit_context(request, postmortem))


@require_POST
def section_save(request, number: int, section: str):
    postmortem = _postmortem(request, number)
    if section not in Postmortem.SECTION_LABELS:
        raise Http404("No such section.")
    form = SectionForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "postmortems/postmortem_edit.html#section-invalid",
            {"section": section, "form": form},
            status=422,
        )
    mine = form.cleaned_data["text"].replace("\r\n", "\n")
    try:
        revision = services.save_section(
            postmortem=postmortem,
            section=section,
            text=mine,
            base=form.cleaned_data["base"],
            author=request.user,
        )
    except services.SectionConflict as conflict:
        theirs = conflict.theirs
        theirs_text = getattr(Postmortem.objects.only(section).get(pk=postmortem.pk), section)
        context = _section_context(
            postmortem,
            section,
            theirs,
            _system_names(postmortem.incident),
            conflict={
                "theirs": theirs,
                "theirs_text": theirs_text,
                "mine": mine,
                "merged": services.merge_texts(theirs_text, mine),
            },
        )
        if request.htmx:
            return render(
                request, "postmortems/postmortem_edit.html#section-conflict", context, status=422
            )
        page = {**_edit_context(request, postmortem), **context}
        page["edit_sections"] = [context["s"]]
        return render(request, "postmortems/postmortem_edit.html", page, status=409)
    if request.htmx:
        return render(
            request,
            "postmortems/postmortem_edit.html#section-saved",
            _section_context(postmortem, section, revision, _system_names(postmortem.incident)),
        )
    messages.success(request, f"{Postmortem.SECTION_LABELS[section]} saved.")
    return redirect(reverse("postmortems:edit", args=[number]) + f"#s-{section}")


@require_GET
def postmortem_history(request, number: int):
    postmortem = _postmortem(request, number)
    section = request.GET.get("section")
    if section not in Postmortem.SECTION_LABELS:
        section = None
    entries = services.history(postmortem, section)
    page = paginate(request, entries)
    context = {
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "page": page,
        "section": section,
        "sections": Postmortem.SECTIONS,
        "query": query_without_page(request),
    }
    return render(request, "postmortems/postmortem_history.html", context)


@require_POST
def revision_restore(request, number: int, pk: int):
    postmortem = _postmortem(request, number)
    revision = get_object_or_404(postmortem.revisions, pk=pk)
    new = services.restore_revision(revision=revision, author=request.user)
    messages.success(
        request,
        f"{revision.label}: revision {revision.number} restored as revision {new.number}.",
    )
    return redirect(reverse("postmortems:history", args=[number]) + f"?section={revision.section}")


# --- Contributing factors: inline add / edit / delete via htmx -------------------------------


def _system_names(incident) -> list[str]:
    return [s.name for s in incident.services.all()]


def _factor_rows(postmortem: Postmortem, names) -> list[dict]:
    return [
        {
            "factor": f,
            "warnings": chain_warnings(f.whys, names),
            "findings": section_findings(f.description, names),
        }
        for f in postmortem.factors.all()
    ]


def _factors_context(postmortem, names, form=None, editing=None, edit_form=None) -> dict:
    rows = _factor_rows(postmortem, names)
    return {
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "factor_rows": rows,
        "factor_form": form or FactorForm(),
        "editing": editing,
        "edit_form": edit_form,
        "categories_used": sorted({r["factor"].get_category_display() for r in rows}),
    }


def _factors_response(request, postmortem, status=200, **kwargs):
    names = _system_names(postmortem.incident)
    context = _factors_context(postmortem, names, **kwargs)
    if request.htmx:
        return render(request, "postmortems/postmortem_edit.html#factors", context, status=status)
    if status == 200:
        return redirect(reverse("postmortems:edit", args=[postmortem.incident.number]) + "#factors")
    page = {**_edit_context(request, postmortem), **context}
    return render(request, "postmortems/postmortem_edit.html", page, status=status)


@require_POST
def factor_add(request, number: int):
    postmortem = _postmortem(request, number)
    form = FactorForm(request.POST)
    if not form.is_valid():
        return _factors_response(request, postmortem, status=422, form=form)
    services.add_factor(
        postmortem=postmortem,
        category=form.cleaned_data["category"],
        description=form.cleaned_data["description"],
        whys=form.cleaned_data["whys"],
    )
    if not request.htmx:
        messages.success(request, "Contributing factor added.")
    return _factors_response(request, postmortem)


@require_http_methods(["GET", "POST"])
def factor_edit(request, number: int, pk: int):
    postmortem = _postmortem(request, number)
    factor = get_object_or_404(postmortem.factors, pk=pk)
    form = FactorForm(request.POST or None, instance=factor)
    if request.method == "POST" and form.is_valid():
        services.update_factor(
            factor=factor,
            category=form.cleaned_data["category"],
            description=form.cleaned_data["description"],
            whys=form.cleaned_data["whys"],
        )
        if not request.htmx:
            messages.success(request, "Contributing factor saved.")
        return _factors_response(request, postmortem)
    status = 422 if request.method == "POST" else 200
    return _factors_response(request, postmortem, status=status, editing=factor.pk, edit_form=form)


@require_POST
def factor_delete(request, number: int, pk: int):
    postmortem = _postmortem(request, number)
    get_object_or_404(postmortem.factors, pk=pk).delete()
    if not request.htmx:
        messages.success(request, "Contributing factor deleted.")
    return _factors_response(request, postmortem)


# --- Action items inline, through the action-items app's own services and form -------------


def _item_rows(postmortem: Postmortem) -> tuple[list[dict], list]:
    items = list(postmortem.action_items.select_related("owner"))
    teams = list(Team.objects.values_list("name", flat=True))
    rows = [
        {
            "item": item,
            "hints": action_item_hints(
                title=item.title,
                description=item.description,
                owner=item.owner,
                due_on=item.due_on,
                ticket_key=item.ticket_key,
                team_names=teams,
            ),
            "findings": section_findings(item.title),
        }
        for item in items
    ]
    return rows, postmortem_item_hints(items)


def _items_context(postmortem, form=None, editing=None, edit_form=None) -> dict:
    rows, set_hints = _item_rows(postmortem)
    return {
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "item_rows": rows,
        "set_hints": set_hints,
        "item_form": form or ActionItemForm(),
        "editing_item": editing,
        "item_edit_form": edit_form,
    }


def _items_response(request, postmortem, status=200, **kwargs):
    context = _items_context(postmortem, **kwargs)
    if request.htmx:
        return render(request, "postmortems/postmortem_edit.html#actions", context, status=status)
    if status == 200:
        return redirect(reverse("postmortems:edit", args=[postmortem.incident.number]) + "#actions")
    page = {**_edit_context(request, postmortem), **context}
    return render(request, "postmortems/postmortem_edit.html", page, status=status)


def _item_fields(cleaned: dict) -> dict:
    return {name: cleaned[name] for name in ACTION_FIELDS if name in cleaned}


@require_POST
def item_add(request, number: int):
    postmortem = _postmortem(request, number)
    form = ActionItemForm(request.POST)
    if form.is_valid():
        try:
            action_services.create_action_item(
                postmortem=postmortem, by=request.user, **_item_fields(form.cleaned_data)
            )
        except ValidationError as err:
            form.add_error(None, err)
        else:
            if not request.htmx:
                messages.success(request, "Action item added.")
            return _items_response(request, postmortem)
    return _items_response(request, postmortem, status=422, form=form)


@require_http_methods(["GET", "POST"])
def item_edit(request, number: int, pk: int):
    postmortem = _postmortem(request, number)
    item = get_object_or_404(postmortem.action_items.select_related("owner"), pk=pk)
    form = ActionItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {k: v for k, v in _item_fields(data).items() if k not in ("owner", "due_on")}
        try:
            # The form saved its values onto the instance while validating; update from a
            # fresh copy so the service sees what changed.
            action_services.update_action_item(
                item=postmortem.action_items.get(pk=pk),
                by=request.user,
                reason=data.get("reason", ""),
                owner=data["owner"],
                due_on=data["due_on"],
                **fields,
            )
        except ValidationError as err:
            form.add_error(None, err)
        else:
            if not request.htmx:
                messages.success(request, "Action item saved.")
            return _items_response(request, postmortem)
    status = 422 if request.method == "POST" else 200
    return _items_response(request, postmortem, status=status, editing=item.pk, edit_form=form)


# --- Review workflow: reviewers, comments, approvals, publishing -----------------------------


def _review_context(request, postmortem: Postmortem) -> dict:
    numbers = postmortem.latest_numbers()
    latest_by_reviewer = {}
    for approval in postmortem.approvals.select_related("reviewer"):
        latest_by_reviewer.setdefault(approval.reviewer_id, approval)
    reviewers = []
    for reviewer in postmortem.reviewers.order_by("username"):
        approval = latest_by_reviewer.get(reviewer.pk)
        changed = services.changed_since(approval, numbers) if approval else []
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
        "can_publish": services.can_publish(postmortem, request.user),
        "publish_problems": services.publish_problems(postmortem),
        "review_form": ReviewRequestForm(initial={"reviewers": [r["user"].pk for r in reviewers]}),
        "publish_form": PublishForm(),
        "comments": comments,
    }


def _back_to_review(number: int, anchor: str = "review"):
    return redirect(reverse("postmortems:edit", args=[number]) + f"#{anchor}")


def _error_message(err: ValidationError) -> str:
    return " ".join(err.messages)


@require_POST
def review_request(request, number: int):
    postmortem = _postmortem(request, number)
    form = ReviewRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reviewers"]))
        return _back_to_review(number)
    try:
        services.request_review(
            postmortem=postmortem,
            reviewers=list(form.cleaned_data["reviewers"]),
            requested_by=request.user,
        )
    except ValidationError as err:
        messages.error(request, _error_message(err))
    else:
        messages.success(request, "Sent for review; the reviewers have been emailed a link.")
    return _back_to_review(number)


@require_POST
def approve(request, number: int):
    postmortem = _postmortem(request, number)
    try:
        approval = services.approve_postmortem(
            postmortem=postmortem, reviewer=request.user, note=request.POST.get("note", "")
        )
    except ValidationError as err:
        messages.error(request, _error_message(err))
    else:
        messages.success(request, f"You approved version {approval.version}.")
    return _back_to_review(number)


@require_POST
def publish(request, number: int):
    postmortem = _postmortem(request, number)
    form = PublishForm(request.POST)
    form.is_valid()
    try:
        services.publish_postmortem(
            postmortem=postmortem,
            published_by=request.user,
            override_reason=form.cleaned_data.get("override_reason", ""),
        )
    except ValidationError as err:
        messages.error(request, _error_message(err))
        return _back_to_review(number)
    messages.success(request, "Published. Everyone who can see the incident can read it now.")
    return redirect(postmortem)


@require_POST
def comment_add(request, number: int):
    postmortem = _postmortem(request, number)
    form = CommentForm(request.POST)
    section = request.POST.get("section", "")
    anchor = f"s-{section}" if section in Postmortem.SECTION_LABELS else "review"
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return _back_to_review(number, anchor)
    services.add_comment(
        postmortem=postmortem,
        section=form.cleaned_data["section"],
        author=request.user,
        text=form.cleaned_data["text"],
    )
    messages.success(request, "Comment added.")
    return _back_to_review(number, anchor)


# --- Timeline paste import: preview first, nothing saved until confirmed --------------------


def _preview_paste(incident, form) -> dict:
    day, zone = form.cleaned_data["day"], ZoneInfo(form.cleaned_data["zone"])
    parsed = parse_timeline(form.cleaned_data["text"], day=day, tz=zone)
    existing = set(incident.timeline.values_list("occurred_at", "text"))
    now = timezone.now()
    rows, skipped = [], []
    for event in parsed.events:
        if event.occurred_at > now:
            skipped.append((event.line_no, event.text, "is in the future — check the day"))
        elif (event.occurred_at, event.text) in existing:
            skipped.append((event.line_no, event.text, "is already on the timeline"))
        else:
            rows.append(event)
    return {"events": rows, "unreadable": parsed.unreadable, "skipped": skipped}


@require_http_methods(["GET", "POST"])
def timeline_paste(request, number: int):
    incident = get_object_or_404(Incident.objects.visible_to(request.user), number=number)
    viewer_zone = timezone.get_current_timezone_name()
    initial = {"day": timezone.localtime(incident.started_at).date(), "zone": viewer_zone}
    form = TimelinePasteForm(request.POST or None, initial=initial, viewer_zone=viewer_zone)
    context = {"incident": incident, "form": form, "postmortem": incident.postmortem_or_none}
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 422
        else:
            preview = _preview_paste(incident, form)
            if request.POST.get("confirm") and preview["events"]:
                with transaction.atomic():
                    for event in preview["events"]:
                        add_timeline_event(
                            incident=incident,
                            author=request.user,
                            occurred_at=event.occurred_at,
                            text=event.text,
                            source=event.source,
                            source_detail=event.source_detail,
                            phase=event.phase,
                            origin=TimelineEvent.Origin.PASTE,
                        )
                count = len(preview["events"])
                messages.success(
                    request, f"{count} timeline event{'s' if count != 1 else ''} added."
                )
                target = incident.get_absolute_url() + "#timeline"
                if request.htmx:
                    return HttpResponseClientRedirect(target)
                return redirect(target)
            context["preview"] = preview
    template = "postmortems/timeline_paste.html"
    if request.htmx and request.method == "POST":
        template += "#paste-preview"
    return render(request, template, context, status=status)


# --- Markdown export and import ---------------------------------------------------------------


@require_GET
def markdown_export(request, number: int):
    postmortem = _postmortem(request, number)
    response = HttpResponse(
        markdown_io.export_postmortem(postmortem), content_type="text/markdown; charset=utf-8"
    )
    disposition = "inline" if request.GET.get("view") else "attachment"
    filename = markdown_io.export_filename(postmortem)
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
def markdown_import(request, number: int):
    incident = get_object_or_404(Incident.objects.visible_to(request.user), number=number)
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
            result = markdown_io.parse_postmortem_markdown(
                form.cleaned_data["text"], users=list(users), tz=timezone.get_current_timezone()
            )
            rule = form.cleaned_data["default_due"]
            default_due = markdown_io.due_rule(rule, today=timezone.localdate()) if rule else None
            fallback = form.cleaned_data["owner_fallback"]
            context.update(
                result=result,
                problems=markdown_io.action_item_problems(
                    result, owner_fallback=fallback, default_due=default_due
                ),
                sections_found=[
                    Postmortem.SECTION_LABELS.get(name, name) for name in result.sections
                ],
            )
            if request.POST.get("confirm"):
                try:
                    with transaction.atomic():
                        outcome = markdown_io.import_into_incident(
                            result,
                            incident=incident,
                            user=request.user,
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
    return render(request, "postmortems/markdown_import.html", context, status=status)


# --- Related incidents: link by hand, suggestions, earlier unfinished fixes ----------------


def _related_context(request, postmortem: Postmortem) -> dict:
    incident = postmortem.incident
    return {
        "postmortem": postmortem,
        "incident": incident,
        "related": list(incident.related.visible_to(request.user).order_by("-started_at")),
        "suggestions": suggest_related(incident, request.user),
        "earlier_items": earlier_open_items(incident, request.user),
    }


def _related_response(request, postmortem):
    if request.htmx:
        context = _related_context(request, postmortem)
        return render(request, "postmortems/postmortem_edit.html#related", context)
    return redirect(reverse("postmortems:edit", args=[postmortem.incident.number]) + "#related")


_REFERENCE = re.compile(r"^\s*(?:INC-?)?(\d+)\s*$", re.IGNORECASE)


@require_POST
def related_add(request, number: int):
    postmortem = _postmortem(request, number)
    found = _REFERENCE.match(request.POST.get("reference", ""))
    other = (
        Incident.objects.visible_to(request.user).filter(number=int(found.group(1))).first()
        if found
        else None
    )
    if other is None:
        messages.error(request, "No incident with that reference; use the form INC-1042.")
    elif other.pk == postmortem.incident_id:
        messages.error(request, "An incident cannot be related to itself.")
    else:
        postmortem.incident.related.add(other)
        messages.success(request, f"Linked {other.reference}.")
    return _related_response(request, postmortem)


@require_POST
def related_remove(request, number: int, other: int):
    postmortem = _postmortem(request, number)
    linked = get_object_or_404(postmortem.incident.related.visible_to(request.user), number=other)
    postmortem.incident.related.remove(linked)
    messages.success(request, f"Unlinked {linked.reference}.")
    return _related_response(request, postmortem)
