"""The list, the read-only document, the editor and its sections, and section history."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Incident
from incidents.paging import paginate, query_without_page
from incidents.sorting import Column, Sorting

from .. import services
from ..forms import SectionForm
from ..models import Postmortem
from .contexts import (
    document_context,
    edit_context,
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
    postmortems = Postmortem.objects.visible_to(request.user).select_related(
        "incident", "incident__team", "author"
    )
    status = request.GET.get("status")
    if status in Postmortem.Status.values:
        postmortems = postmortems.filter(status=status)
    sorting = Sorting(request, POSTMORTEM_COLUMNS, default="-started")
    page = paginate(request, sorting.order(postmortems))
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


@require_POST
def postmortem_start(request, number: int):
    incident = get_object_or_404(Incident.objects.visible_to(request.user), number=number)
    existed = incident.postmortem_or_none is not None
    postmortem = services.start_postmortem(incident=incident, by=request.user)
    if not existed:
        messages.success(
            request, f"Postmortem started for {incident.reference}. Sections save as you type."
        )
    return redirect("postmortems:edit", number=postmortem.incident.number)


@require_GET
def postmortem_detail(request, number: int):
    postmortem = postmortem_for(request, number)
    context = document_context(postmortem, request.user)
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


@require_GET
def postmortem_edit(request, number: int):
    postmortem = postmortem_for(request, number)
    return render(request, "postmortems/postmortem_edit.html", edit_context(request, postmortem))


@require_POST
def section_save(request, number: int, section: str):
    postmortem = postmortem_for(request, number)
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
            by=request.user,
        )
    except services.SectionConflict as conflict:
        theirs = conflict.theirs
        theirs_text = getattr(Postmortem.objects.only(section).get(pk=postmortem.pk), section)
        context = section_context(
            postmortem,
            section,
            theirs,
            system_names(postmortem.incident),
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
        page = {**edit_context(request, postmortem), **context}
        page["edit_sections"] = [context["s"]]
        return render(request, "postmortems/postmortem_edit.html", page, status=409)
    if request.htmx:
        return render(
            request,
            "postmortems/postmortem_edit.html#section-saved",
            section_context(postmortem, section, revision, system_names(postmortem.incident)),
        )
    messages.success(request, f"{Postmortem.SECTION_LABELS[section]} saved.")
    return redirect(reverse("postmortems:edit", args=[number]) + f"#s-{section}")


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
    new = services.restore_revision(revision=revision, by=request.user)
    messages.success(
        request,
        f"{revision.label}: revision {revision.number} restored as revision {new.number}.",
    )
    return redirect(reverse("postmortems:history", args=[number]) + f"?section={revision.section}")
