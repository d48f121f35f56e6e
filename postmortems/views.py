from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from incidents.paging import paginate, query_without_page

from .models import Postmortem


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


@require_GET
def postmortem_detail(request, number: int):
    postmortem = get_object_or_404(
        Postmortem.objects.visible_to(request.user).select_related(
            "incident", "incident__team", "author"
        ),
        incident__number=number,
    )
    incident = postmortem.incident
    context = {
        "postmortem": postmortem,
        "incident": incident,
        "sections": [(label, getattr(postmortem, field)) for field, label in Postmortem.SECTIONS],
        "events": incident.timeline.all(),
        "factors": postmortem.factors.all(),
        "items": postmortem.action_items.select_related("owner"),
    }
    return render(request, "postmortems/postmortem_detail.html", context)
