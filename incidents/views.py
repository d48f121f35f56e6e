from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import services
from .filters import IncidentFilter
from .forms import IncidentForm, TimelineEventForm
from .models import Incident, TimelineEvent
from .paging import paginate, query_without_page


@require_GET
def home(request):
    return redirect("actions:mine")


@require_GET
def incident_list(request):
    incidents = Incident.objects.visible_to(request.user).for_list()
    filters = IncidentFilter(request.GET, queryset=incidents)
    page = paginate(request, filters.qs)
    template = "incidents/incident_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    context = {"filters": filters, "page": page, "query": query_without_page(request)}
    return render(request, template, context)


def _visible_incident(request, number: int) -> Incident:
    return get_object_or_404(Incident.objects.visible_to(request.user), number=number)


@require_GET
def incident_detail(request, number: int):
    incident = get_object_or_404(
        Incident.objects.visible_to(request.user).select_related("team", "commander"),
        number=number,
    )
    context = {
        "incident": incident,
        "services": incident.services.all(),
        "events": incident.timeline.select_related("author"),
        "event_form": TimelineEventForm(initial={"occurred_at": incident.started_at}),
        "postmortem": getattr(incident, "postmortem", None) if _has_postmortem(incident) else None,
    }
    return render(request, "incidents/incident_detail.html", context)


def _has_postmortem(incident: Incident) -> bool:
    from postmortems.models import Postmortem

    try:
        return incident.postmortem is not None
    except Postmortem.DoesNotExist:
        return False


@require_http_methods(["GET", "POST"])
def incident_create(request):
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("services", "members")}
        incident = services.create_incident(
            created_by=request.user,
            services=form.cleaned_data["services"],
            members=form.cleaned_data["members"],
            **data,
        )
        messages.success(request, f"{incident.reference} opened.")
        return redirect(incident)
    return render(request, "incidents/incident_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def incident_edit(request, number: int):
    incident = _visible_incident(request, number)
    form = IncidentForm(request.POST or None, instance=incident)
    loaded = request.POST.get("loaded_version")
    if request.method == "POST" and form.is_valid():
        if loaded != _version(incident):
            form.add_error(
                None,
                "Someone else saved this incident while you were editing. Your changes are "
                "still in the form below; reload the page in another tab to see theirs, then "
                "save again.",
            )
        else:
            services.update_incident(
                incident=form.save(commit=False),
                services=form.cleaned_data["services"],
                members=form.cleaned_data["members"],
            )
            messages.success(request, f"{incident.reference} saved.")
            return redirect(incident)
    version = loaded if request.method == "POST" else _version(incident)
    context = {"form": form, "incident": incident, "version": version}
    return render(request, "incidents/incident_form.html", context)


def _version(obj) -> str:
    """A token that changes on every save, to spot edits that crossed."""
    fresh = type(obj).objects.filter(pk=obj.pk).values_list("updated_at", flat=True).first()
    return fresh.isoformat() if fresh else ""


# --- Timeline: inline add / edit / delete via htmx ----------------------------------------


def _event(request, number: int, pk: int) -> TimelineEvent:
    return get_object_or_404(
        TimelineEvent.objects.visible_to(request.user).select_related("incident", "author"),
        incident__number=number,
        pk=pk,
    )


def _timeline_response(request, incident: Incident, form=None, status=200):
    context = {
        "incident": incident,
        "events": incident.timeline.select_related("author"),
        "event_form": form or TimelineEventForm(initial={"occurred_at": incident.started_at}),
    }
    return render(request, "incidents/incident_detail.html#timeline", context, status=status)


@require_POST
def timeline_add(request, number: int):
    incident = _visible_incident(request, number)
    form = TimelineEventForm(request.POST)
    if form.is_valid():
        services.add_timeline_event(
            incident=incident, author=request.user, **form.cleaned_data
        )
        if not request.htmx:
            messages.success(request, "Timeline event added.")
            return redirect(incident)
        return _timeline_response(request, incident)
    if not request.htmx:
        messages.error(request, "The event was not added: " + _errors_text(form))
        return redirect(incident)
    return _timeline_response(request, incident, form=form, status=422)


@require_http_methods(["GET", "POST"])
def timeline_edit(request, number: int, pk: int):
    event = _event(request, number, pk)
    form = TimelineEventForm(request.POST or None, instance=event)
    if request.method == "POST":
        loaded = request.POST.get("loaded_version")
        if form.is_valid():
            if loaded != _version(event):
                form.add_error(None, "Someone else changed this event meanwhile; your text is kept.")
            else:
                form.save()
                if request.htmx:
                    return _timeline_response(request, event.incident)
                return redirect(event.incident)
        context = {"event": event, "form": form, "version": loaded, "incident": event.incident}
        return render(request, "incidents/timeline_event_form.html", context, status=422)
    context = {"event": event, "form": form, "version": _version(event), "incident": event.incident}
    template = "incidents/timeline_event_form.html"
    if request.htmx:
        template += "#event-edit"
    return render(request, template, context)


@require_POST
def timeline_delete(request, number: int, pk: int):
    event = _event(request, number, pk)
    incident = event.incident
    event.delete()
    if request.htmx:
        return _timeline_response(request, incident)
    messages.success(request, "Timeline event deleted.")
    return redirect(incident)


def _errors_text(form) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())




@login_not_required
@require_GET
def healthz(request):
    """For load balancers and compose health checks: the app answers and the database too."""
    Incident.objects.exists()
    return HttpResponse("ok", content_type="text/plain")
