"""The list, the read-only document, the editor and its sections, and section history."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import permissions
from incidents.models import Incident
from incidents.paging import paginate, paginate_list, query_without_page
from incidents.row_urls import row_url
from incidents.sorting import Column, Sorting

from .. import services
from ..forms import AuthorsForm, SectionForm
from ..models import Postmortem
from .contexts import (
    detail_context,
    edit_context,
    editable_postmortem_for,
    editor_postmortem_for,
    postmortem_for,
    section_context,
    system_names,
)

# Column sorts; "started" (the incident's start, newest first) is the default order and has no
# header. Status and published use Postmortem.Meta.indexes.
POSTMORTEM_COLUMNS = [
    Column("started", "Started", ("incident__started_at", "pk"), descending_first=True),
    Column("status", "Status", ("status", "published_at", "pk")),
    Column("published", "Published", ("published_at", "pk"), descending_first=True),
]


@require_GET
def postmortem_list(request):
    postmortems = Postmortem.objects.for_list()
    status = request.GET.get("status")
    if status in Postmortem.Status.values:
        postmortems = postmortems.filter(status=status)
    sorting = Sorting(request, POSTMORTEM_COLUMNS, default="-started")
    # The same rows twice: read through visible_to, counted through listed_for (no join), and
    # unordered, so the count stops at its limit instead of sorting every postmortem first.
    rows = sorting.order(postmortems.visible_to(request.user))
    page = paginate_list(request, rows, counted=postmortems.listed_for(request.user).order_by())
    detail = row_url("postmortems:detail")
    for postmortem in page.object_list:
        postmortem.url = detail(postmortem.incident.number)
    template = "postmortems/postmortem_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    context = {
        "page": page,
        "status": status,
        "statuses": Postmortem.Status.choices,
        "query": query_without_page(request),
        "sorting": sorting,
        "heads": sorting.headers(),
    }
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def postmortem_start(request, number: int):
    """The start form: who leads the writing (the person starting it unless they name someone)."""
    incident = get_object_or_404(Incident.objects.visible_to(request.user), number=number)
    # Asked first, so whoever may not start one learns nothing more from this route.
    permissions.require(request.user, "edit", incident)
    if incident.postmortem_or_none is not None:
        return redirect("postmortems:edit", number=incident.number)
    if request.method == "GET":
        form = AuthorsForm(initial={"author": request.user.get_username()})
        return render(request, "postmortems/postmortem_start.html", _start(incident, form))
    data = request.POST.copy()
    data.setdefault("author", request.user.get_username())  # a one-click start leads itself
    form = AuthorsForm(data)
    if form.is_valid():
        try:
            services.start_postmortem(
                incident=incident,
                by=request.user,
                author=form.cleaned_data["author"],
                co_authors=list(form.cleaned_data["co_authors"]),
            )
        except ValidationError as err:
            form.add_error(None, err)
        else:
            messages.success(
                request, f"Postmortem started for {incident.reference}. Sections save as you type."
            )
            return redirect("postmortems:edit", number=incident.number)
    return render(request, "postmortems/postmortem_start.html", _start(incident, form), status=422)


def _start(incident, form) -> dict:
    return {"incident": incident, "form": form}


@require_GET
def postmortem_detail(request, number: int):
    postmortem = postmortem_for(request, number)
    return render(
        request, "postmortems/postmortem_detail.html", detail_context(request, postmortem)
    )


@require_GET
def postmortem_edit(request, number: int):
    postmortem = editor_postmortem_for(request, number)
    return render(request, "postmortems/postmortem_edit.html", edit_context(request, postmortem))


@require_POST
def section_save(request, number: int, section: str):
    postmortem = editable_postmortem_for(request, number)
    if section not in Postmortem.SECTION_LABELS:
        raise Http404("No such section.")
    form = SectionForm(request.POST)
    if not form.is_valid():
        if not request.htmx:
            # Without JavaScript the whole editor comes back, the section holding the typed text.
            page = edit_context(request, postmortem)
            for s in page["edit_sections"]:
                if s["field"] == section:
                    s["text"] = request.POST.get("text", "")
            why = form.errors.get("text") or ["the page is out of date; reload it."]
            messages.error(request, f"{Postmortem.SECTION_LABELS[section]} not saved: {why[0]}")
            return render(request, "postmortems/postmortem_edit.html", page, status=422)
        return render(
            request,
            "postmortems/postmortem_edit.html#section-invalid",
            {"section": section, "form": form},
            status=422,
        )
    mine = form.cleaned_data["text"].replace("\r\n", "\n")
    base = form.cleaned_data["base"]
    try:
        revision = services.save_section(
            postmortem=postmortem,
            section=section,
            text=mine,
            base=base,
            by=request.user,
            merge=True,
        )
    except services.SectionTooLarge as refused:
        return _too_large(request, postmortem, section, mine, refused)
    except services.SectionConflict as conflict:
        context = section_context(
            postmortem,
            section,
            conflict.theirs,
            system_names(postmortem.incident),
            conflict={
                "theirs": conflict.theirs,
                "theirs_text": conflict.theirs_text,
                "mine": mine,
                "parts": conflict.merge.parts() if conflict.merge else [],
                "count": len(conflict.merge.conflicts) if conflict.merge else 0,
            },
        )
        if request.htmx:
            return render(
                request, "postmortems/postmortem_edit.html#section-conflict", context, status=422
            )
        page = {**edit_context(request, postmortem), **context}
        page["edit_sections"] = [context["s"]]
        return render(request, "postmortems/postmortem_edit.html", page, status=409)
    # Someone else's changes were merged in: the editor replaces its text with the result.
    merged = revision is not None and (revision.text != mine or revision.number > base + 1)
    if request.htmx:
        context = section_context(
            postmortem, section, revision, system_names(postmortem.incident), merged=merged
        )
        return render(request, "postmortems/postmortem_edit.html#section-saved", context)
    if merged:
        messages.success(
            request,
            f"{Postmortem.SECTION_LABELS[section]} saved, combined with changes saved "
            "meanwhile by someone else.",
        )
    else:
        messages.success(request, f"{Postmortem.SECTION_LABELS[section]} saved.")
    return redirect(reverse("postmortems:edit", args=[number]) + f"#s-{section}")


def _too_large(request, postmortem, section, mine, refused):
    """Refused for size: say so beside the box and keep the typed text (in the browser's box
    with htmx; in the re-rendered editor without JavaScript)."""
    message = refused.messages[0]
    if request.htmx:
        response = render(
            request,
            "postmortems/postmortem_edit.html#section-too-large",
            {"s": {"field": section}, "message": message},
            status=422,
        )
        response["X-Debrief-Refused"] = "too-large"  # not a conflict: keep autosaving
        return response
    page = edit_context(request, postmortem)
    for s in page["edit_sections"]:
        if s["field"] == section:
            s.update(text=mine, error=message, findings=[])
    return render(request, "postmortems/postmortem_edit.html", page, status=422)


@require_GET
def postmortem_history(request, number: int):
    postmortem = postmortem_for(request, number)
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
    postmortem = postmortem_for(request, number)
    revision = get_object_or_404(postmortem.revisions, pk=pk)
    history = reverse("postmortems:history", args=[number]) + f"?section={revision.section}"
    try:
        new = services.restore_revision(revision=revision, by=request.user)
    except services.SectionTooLarge as refused:  # saved before the limit existed
        messages.error(request, refused.messages[0].replace("Your text is kept in the box.", ""))
        return redirect(history)
    messages.success(
        request,
        f"{revision.label}: revision {revision.number} restored as revision {new.number}.",
    )
    return redirect(history)
