from copy import copy
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from . import permissions, services
from .filter_panel import filter_fields
from .filters import IncidentFilter
from .forms import IncidentForm, PreferencesForm, TimelineEventForm, show_conflict
from .list_rows import incident_rows
from .middleware import render_bad_request
from .models import Incident, Profile, TimelineEvent
from .paging import paginate_list, query_without_page
from .row_urls import row_url
from .sorting import Column, Sorting


@require_GET
def home(request):
    return redirect("actions:mine")


# Each ordering has an index (Incident.Meta.indexes); team and duration are not sortable, as
# neither could be read from an index.
INCIDENT_COLUMNS = [
    Column("ref", "Ref", ("number",), descending_first=True),
    Column("severity", "Severity", ("severity", "-started_at", "-pk")),
    Column("title", "Title", ("title", "pk")),
    Column("status", "Status", ("status", "-started_at", "-pk")),
    Column("started", "Started", ("started_at", "pk"), descending_first=True),
]


@require_GET
def incident_list(request):
    incidents = Incident.objects.visible_to(request.user).for_list()
    filters = IncidentFilter(request.GET, queryset=incidents)
    sorting = Sorting(request, INCIDENT_COLUMNS, default="-started")
    rows = sorting.order(filters.qs)
    # Counted in the list's order: the order's index (and the visibility test on the row
    # itself) lets the database stop at the count's limit without reading the rest.
    page = paginate_list(request, rows, counted=rows)
    template = "incidents/incident_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    context = {
        "filters": filters,
        "filter_fields": partial(filter_fields, filters),  # called by the full page only
        "page": page,
        "rows": incident_rows(page.object_list),
        "query": query_without_page(request),
        "sorting": sorting,
        "heads": sorting.headers(),
    }
    return render(request, template, context)


def _visible_incident(request, number: int) -> Incident:
    return get_object_or_404(Incident.objects.visible_to(request.user), number=number)


@require_GET
def incident_detail(request, number: int):
    incident = get_object_or_404(
        Incident.objects.visible_to(request.user).select_related("team", "commander"),
        number=number,
    )
    return _detail_response(request, incident)


def _detail_response(request, incident: Incident, form=None, status=200):
    context = {
        **_timeline_context(incident, form),
        "services": incident.services.all(),
        "postmortem": incident.postmortem_or_none,
    }
    return render(request, "incidents/incident_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def incident_create(request):
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        incident = services.create_incident(by=request.user, **form.cleaned_data)
        messages.success(request, f"{incident.reference} opened.")
        return redirect(incident)
    permissions.require(request.user, "open_incident")  # the form is for who may send it
    return render(request, "incidents/incident_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def incident_edit(request, number: int):
    incident = _visible_incident(request, number)
    # The form gets its own copy: validating writes the typed values onto its instance.
    form = IncidentForm(
        request.POST or None,
        instance=copy(incident),
        may_change_privacy=permissions.can(request.user, "change_privacy", incident),
    )
    version = posted_version(request) if request.method == "POST" else incident.version
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            services.update_incident(
                incident=incident, by=request.user, version=version, **form.cleaned_data
            )
        except services.EditConflict as conflict:
            # The typed form stays as it is, with the version it was loaded at, so saving again
            # conflicts again until the editor has looked at the other change.
            show_conflict(form, conflict, "incident", replace=False)
            status = 409
        else:
            messages.success(request, f"{incident.reference} saved.")
            return redirect(incident)
    permissions.require(request.user, "edit", incident)
    context = {"form": form, "incident": incident, "version": version}
    return render(request, "incidents/incident_form.html", context, status=status)


def posted_version(request) -> int:
    """The version the editor loaded; a missing or garbled one never matches a row."""
    try:
        return int(request.POST.get("loaded_version", ""))
    except ValueError:
        return 0


# --- Timeline: inline add / edit / delete via htmx ----------------------------------------


def _event(request, number: int, pk: int) -> TimelineEvent:
    return get_object_or_404(
        TimelineEvent.objects.visible_to(request.user).select_related("incident", "author"),
        incident__number=number,
        pk=pk,
    )


def _timeline_context(incident: Incident, form=None) -> dict:
    """What the timeline partial needs, on the full page and after each htmx change.

    A new event starts at the latest one's time: a timeline is written in order, so the next
    entry is near the last, not back at the incident's start.
    """
    latest = incident.timeline.order_by("-occurred_at").values_list("occurred_at", flat=True)
    start = latest.first() or incident.started_at
    events = list(incident.timeline.for_table())  # no author: no join, no User per row
    edit_url = row_url("incidents:timeline-edit", incident.number)
    delete_url = row_url("incidents:timeline-delete", incident.number)
    for event in events:
        event.edit_url, event.delete_url = edit_url(event.pk), delete_url(event.pk)
    return {
        "incident": incident,
        "events": events,
        "event_form": form or TimelineEventForm(initial={"occurred_at": start}),
    }


def _timeline_response(request, incident: Incident, form=None, status=200):
    context = _timeline_context(incident, form)
    return render(request, "incidents/incident_detail.html#timeline", context, status=status)


@require_POST
def timeline_add(request, number: int):
    incident = _visible_incident(request, number)
    form = TimelineEventForm(request.POST)
    if form.is_valid():
        services.add_timeline_event(incident=incident, by=request.user, **form.cleaned_data)
        if not request.htmx:
            messages.success(request, "Timeline event added.")
            return redirect(incident)
        return _timeline_response(request, incident)
    permissions.require(request.user, "edit", incident)
    if not request.htmx:
        # Without JavaScript the whole page comes back with the typed event and its errors.
        return _detail_response(request, incident, form=form, status=422)
    return _timeline_response(request, incident, form=form, status=422)


@require_http_methods(["GET", "POST"])
def timeline_edit(request, number: int, pk: int):
    event = _event(request, number, pk)
    # Its own ids, so the inline edit row never clashes with the add form on the same page.
    form = TimelineEventForm(request.POST or None, instance=copy(event), auto_id=f"ev{event.pk}_%s")
    version = posted_version(request) if request.method == "POST" else event.version
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            services.update_timeline_event(
                event=event, by=request.user, version=version, **form.cleaned_data
            )
        except TimelineEvent.DoesNotExist:
            raise Http404("This timeline event was deleted meanwhile.") from None
        except services.EditConflict as conflict:
            show_conflict(form, conflict, "timeline event")
            version = conflict.current.version  # saving again now knowingly replaces theirs
            status = 409
        else:
            if request.htmx:
                return _timeline_response(request, event.incident)
            messages.success(request, "Timeline event saved.")
            return redirect(event.incident)
    permissions.require(request.user, "edit", event)
    context = {"event": event, "form": form, "version": version, "incident": event.incident}
    template = "incidents/timeline_event_form.html"
    if request.htmx:
        response = render(request, template + "#event-row", context, status=status)
        return retarget(reswap(response, "outerHTML"), f"#event-{event.pk}")
    return render(request, template, context, status=status)


@require_POST
def timeline_delete(request, number: int, pk: int):
    event = _event(request, number, pk)
    incident = event.incident
    services.delete_timeline_event(event=event, by=request.user)
    if request.htmx:
        return _timeline_response(request, incident)
    messages.success(request, "Timeline event deleted.")
    return redirect(incident)


@login_not_required
def bad_request(request, exception=None):
    """Django's 400 handler: an oversized request is explained (413), with its limit."""
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_000_000
        return render_bad_request(
            request,
            f"What you sent is larger than Debrief accepts ({limit:.1f} MB), so nothing was saved.",
            status=413,
            hint="Go back to the form: your browser still holds what you typed. Shorten it, or "
            "move long logs to a file and link to it, then save again.",
        )
    return render_bad_request(request, "Debrief could not read this request; nothing was saved.")


@require_http_methods(["GET", "POST"])
def preferences(request):
    profile = Profile.objects.filter(user=request.user).first() or Profile(user=request.user)
    form = PreferencesForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.save_preferences(user=request.user, by=request.user, **form.cleaned_data)
        messages.success(request, "Preferences saved.")
        return redirect("incidents:preferences")
    return render(request, "incidents/preferences.html", {"form": form})
