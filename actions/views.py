from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.paging import paginate, query_without_page
from postmortems.models import Postmortem

from . import services
from .filters import ActionItemFilter
from .forms import ActionItemForm, BulkForm, DueDateForm, StatusForm, hints_for
from .models import ActionItem, Tracker, managed_teams_of, teams_of, ticket_link


def _decorate(items, user, team_ids, trackers):
    """Per-row facts the template needs, computed in Python so rows cost no queries."""
    for item in items:
        item.link = ticket_link(item, trackers)
        item.changeable = item.can_be_changed_by(user, team_ids)
    return items


def _row_context(request, item, *, status_form=None):
    team_ids = teams_of(request.user)
    _decorate([item], request.user, team_ids, list(Tracker.objects.all()))
    return {
        "item": item,
        "status_form": status_form,
        "can_bulk": bool(request.user.is_superuser or managed_teams_of(request.user)),
        "statuses": ActionItem.Status.choices,
    }


def _render_list(request, queryset, title: str, *, view: str):
    filters = ActionItemFilter(request.GET, queryset=queryset)
    page = paginate(request, filters.qs)
    team_ids = teams_of(request.user)
    _decorate(page.object_list, request.user, team_ids, list(Tracker.objects.all()))
    template = "actions/actionitem_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    can_bulk = request.user.is_superuser or bool(managed_teams_of(request.user))
    context = {
        "filters": filters,
        "page": page,
        "query": query_without_page(request),
        "title": title,
        "view": view,
        "mine": view == "mine",
        "can_bulk": can_bulk,
        "bulk_form": BulkForm() if can_bulk else None,
        "statuses": ActionItem.Status.choices,
        "today": timezone.localdate(),
    }
    return render(request, template, context)


def _visible(request):
    return ActionItem.objects.visible_to(request.user)


@require_GET
def my_actions(request):
    items = _visible(request).filter(owner=request.user).for_list()
    return _render_list(request, items, "My action items", view="mine")


@require_GET
def team_actions(request):
    items = _visible(request).of_teams(teams_of(request.user)).for_list()
    return _render_list(request, items, "My teams' action items", view="team")


@require_GET
def action_list(request):
    return _render_list(request, _visible(request).for_list(), "All action items", view="all")


def _item(request, pk: int) -> ActionItem:
    return get_object_or_404(_visible(request).for_list(), pk=pk)


def _changeable_item(request, pk: int) -> ActionItem:
    item = _item(request, pk)
    if not item.can_be_changed_by(request.user, teams_of(request.user)):
        raise PermissionDenied("Only the owner, the incident's team and admins change this item.")
    return item


def _detail_context(request, item, **forms):
    events = item.events.select_related("by", "from_owner", "to_owner")
    slips = [e for e in events if e.kind == "due_date"]
    context = _row_context(request, item)
    context.update(
        events=events,
        slip_count=len(slips),
        slip_days=sum(e.slip_days or 0 for e in slips),
        status_form=forms.get("status_form")
        or StatusForm(initial={"status": item.status, "reason": item.reason}),
        due_form=forms.get("due_form") or DueDateForm(initial={"due_on": item.due_on}),
    )
    return context


@require_GET
def action_detail(request, pk: int):
    item = _item(request, pk)
    return render(request, "actions/actionitem_detail.html", _detail_context(request, item))


@require_POST
def action_status(request, pk: int):
    """Inline status change: from a list row (htmx returns the row) or the item page."""
    item = _changeable_item(request, pk)
    form = StatusForm(request.POST)
    in_row = request.htmx and request.POST.get("context") == "row"
    if form.is_valid():
        try:
            services.change_status(
                item=item,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as err:
            _attach(form, err)
    if in_row:
        item = _item(request, pk)
        bound = form if form.errors else None
        context = _row_context(request, item, status_form=bound)
        status = 422 if form.errors else 200
        return render(request, "actions/actionitem_list.html#row", context, status=status)
    if form.errors:
        context = _detail_context(request, item, status_form=form)
        return render(request, "actions/actionitem_detail.html", context, status=422)
    messages.success(request, f"Status is now {item.get_status_display()}.")
    return redirect(item)


def _attach(form, err: ValidationError) -> None:
    if hasattr(err, "error_dict"):
        for field, errors in err.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, err)


@require_POST
def action_due(request, pk: int):
    item = _changeable_item(request, pk)
    form = DueDateForm(request.POST)
    if form.is_valid():
        try:
            services.change_due_date(item=item, by=request.user, **form.cleaned_data)
        except ValidationError as err:
            _attach(form, err)
    if form.errors:
        context = _detail_context(request, item, due_form=form)
        return render(request, "actions/actionitem_detail.html", context, status=422)
    messages.success(request, f"Due date moved to {item.due_on:%Y-%m-%d}; the history keeps why.")
    return redirect(item)


@require_http_methods(["GET", "POST"])
def action_done(request, pk: int):
    """The reminder email's "mark done" link: a GET only asks; the button POSTs."""
    item = _changeable_item(request, pk)
    if request.method == "POST":
        services.change_status(item=item, status=ActionItem.Status.DONE, by=request.user)
        messages.success(request, f"Marked done: {item.title}")
        return redirect(item)
    return render(request, "actions/actionitem_done.html", {"item": item})


def _can_add_to(user, postmortem: Postmortem) -> bool:
    return (
        user.is_superuser
        or postmortem.author_id == user.pk
        or postmortem.incident.team_id in teams_of(user)
    )


@require_http_methods(["GET", "POST"])
def action_create(request, number: int):
    postmortem = get_object_or_404(
        Postmortem.objects.visible_to(request.user).select_related("incident"),
        incident__number=number,
    )
    if not _can_add_to(request.user, postmortem):
        raise PermissionDenied("Only the incident's team, the author and admins add items.")
    form = ActionItemForm(request.POST or None, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            item = services.create_action_item(
                postmortem=postmortem, by=request.user, **form.cleaned_data
            )
        except ValidationError as err:
            _attach(form, err)
        else:
            messages.success(request, f"Action item added to {postmortem.incident.reference}.")
            return redirect(item)
    context = {"form": form, "postmortem": postmortem, "hints": hints_for(form)}
    status = 422 if form.errors else 200
    return render(request, "actions/actionitem_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def action_edit(request, pk: int):
    item = _changeable_item(request, pk)
    form = ActionItemForm(request.POST or None, instance=ActionItem.objects.get(pk=item.pk))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.update_action_item(item=item, by=request.user, **data)
        except ValidationError as err:
            _attach(form, err)
        else:
            messages.success(request, "Action item saved.")
            return redirect(item)
    context = {"form": form, "item": item, "postmortem": item.postmortem, "hints": hints_for(form)}
    status = 422 if form.errors else 200
    return render(request, "actions/actionitem_form.html", context, status=status)


@require_POST
def bulk_change(request):
    """Managers reassign or move the due date of several items at once, with one reason."""
    managed = managed_teams_of(request.user)
    allowed = _visible(request).for_list()
    if not request.user.is_superuser:
        allowed = allowed.filter(postmortem__incident__team_id__in=managed)
    form = BulkForm(request.POST, queryset=allowed)
    back = request.POST.get("next") or "actions:list"
    if not url_is_local(back):
        back = "actions:list"
    if not (request.user.is_superuser or managed):
        raise PermissionDenied("Bulk changes are for team managers.")
    if not form.is_valid():
        messages.error(request, "Nothing changed: " + _errors_text(form))
        return redirect(back)
    data = form.cleaned_data
    items = list(data["items"])
    try:
        if data["action"] == "reassign":
            count = services.bulk_reassign(
                items=items, owner=data["owner"], reason=data["reason"], by=request.user
            )
            what = f"reassigned to {data['owner'].get_full_name() or data['owner'].username}"
        else:
            count = services.bulk_change_due_date(
                items=items, due_on=data["due_on"], reason=data["reason"], by=request.user
            )
            what = f"moved to {data['due_on']:%Y-%m-%d}"
    except ValidationError as err:
        messages.error(request, "Nothing changed: " + " ".join(err.messages))
        return redirect(back)
    messages.success(request, f"{count} of {len(items)} item(s) {what}.")
    return redirect(back)


def url_is_local(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


def _errors_text(form) -> str:
    return " ".join(" ".join(errors) for errors in form.errors.values())
