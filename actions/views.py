from datetime import date
from functools import partial
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import permissions
from incidents.filter_panel import filter_fields
from incidents.forms import show_conflict
from incidents.models import Team
from incidents.paging import paginate_list, query_without_page
from incidents.row_urls import row_url
from incidents.services import EditConflict
from incidents.sorting import Column, Sorting
from postmortems.models import Postmortem

from . import services
from .filters import ActionItemFilter
from .forms import ActionItemForm, BulkForm, DueDateForm, StatusForm, hints_for
from .list_rows import item_row, item_rows
from .models import ActionItem, Tracker, ticket_link
from .postmortem_items import added_member_notice, membership_offered
from .quality import action_item_hints

User = get_user_model()


def _decorate(items, user, trackers):
    """Per-row facts the template needs; the policy reads the user's teams and private
    memberships once, so rows cost no queries."""
    can_bulk = permissions.can(user, "bulk_change_action_items")
    # One reverse per link kind, not three per row.
    detail, status = row_url("actions:detail"), row_url("actions:status")
    incident = row_url("incidents:detail")
    for item in items:
        item.url, item.status_url = detail(item.pk), status(item.pk)
        item.incident_url = incident(item.postmortem.incident.number)
        item.link = ticket_link(item, trackers)
        item.changeable = permissions.can(user, "change_action_item", item)
        item.bulk_changeable = can_bulk and permissions.can(user, "bulk_change_action_item", item)
    return items


def _row_context(request, item, *, status_form=None):
    _decorate([item], request.user, list(Tracker.objects.all()))
    return {
        "item": item,
        "status_form": status_form,
        "can_bulk": permissions.can(request.user, "bulk_change_action_items"),
        "statuses": ActionItem.Status.choices,
    }


# Column sorts of the item lists; each ordering has an index (ActionItem.Meta.indexes).
ITEM_COLUMNS = [
    Column("title", "Action", ("title", "pk")),
    Column("due", "Due", ("due_on", "priority", "pk")),
    Column("priority", "Priority", ("priority", "due_on", "pk")),
    Column("status", "Status", ("status", "due_on", "pk")),
]


def _render_list(request, items, title: str, *, view: str, data=None, teams=None):
    """`items`: the view's rows before the read rule, which is applied here twice: as
    `visible_to` for the page's rows (the planner walks the list's index) and as `listed_for`
    for the capped count (no join to incidents); both give the same rows."""
    filters = ActionItemFilter(data if data is not None else request.GET, queryset=items)
    sorting = Sorting(request, ITEM_COLUMNS, default="due")
    items = filters.qs
    if teams is not None:
        items = items.of_teams(teams)  # once, for the rows and the count
    rows = items.visible_to(request.user)
    # Counted unordered: the database stops at the count's limit in whatever order it finds
    # the rows cheapest, instead of following the list's order to get there.
    counted = items.listed_for(request.user).order_by()
    page = paginate_list(request, sorting.order(rows), counted=counted)
    _decorate(page.object_list, request.user, list(Tracker.objects.all()))
    template = "actions/actionitem_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    can_bulk = permissions.can(request.user, "bulk_change_action_items")
    draft_form, ticked = _bulk_draft(request) if can_bulk else (None, set())
    # The token only where a row has a status form, as {% csrf_token %} asked for it.
    changeable = any(item.changeable for item in page.object_list)
    rows = item_rows(
        page.object_list,
        csrf_token=get_token(request) if changeable else "",
        can_bulk=can_bulk,
        ticked=ticked,
    )
    context = {
        "filters": filters,
        # Called by the full page only; "mine" has no owner filter (the owner is the viewer).
        "filter_fields": partial(filter_fields, filters, skip=("owner",) if view == "mine" else ()),
        "page": page,
        "rows": rows,
        "query": query_without_page(request),
        "sorting": sorting,
        "heads": sorting.headers(),
        "title": title,
        "view": view,
        "mine": view == "mine",
        "can_bulk": can_bulk,
        "bulk_form": (draft_form or BulkForm()) if can_bulk else None,
        "ticked": ticked,
        "finished_hidden": data is not None,
        "every_status": urlencode([("status", value) for value in ActionItem.Status.values]),
    }
    return render(request, template, context)


def _visible(request):
    return ActionItem.objects.visible_to(request.user)


@require_GET
def my_actions(request):
    items = ActionItem.objects.filter(owner=request.user).for_list_rows()
    data = None
    if not set(request.GET) - {"sort", "page"}:
        # A fresh visit (or a re-sort of one) shows what is still to do; the ticked status
        # boxes say so, and ticking others (or "Show finished items too") brings the rest back.
        data = request.GET.copy()
        data.setlist("status", list(ActionItem.OPEN_STATUSES))
    return _render_list(request, items, "My action items", view="mine", data=data)


@require_GET
def team_actions(request):
    teams = permissions.team_ids(request.user)
    items = ActionItem.objects.for_list_rows()
    return _render_list(request, items, "My teams' action items", view="team", teams=teams)


@require_GET
def action_list(request):
    return _render_list(request, ActionItem.objects.for_list_rows(), "All action items", view="all")


def _item(request, pk: int) -> ActionItem:
    return get_object_or_404(_visible(request).for_list(), pk=pk)


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
    item = _item(request, pk)
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
    if form.errors:
        _may_change(request, item)  # the form with its errors is for who may send it
    if in_row:
        item = _item(request, pk)
        bound = form if form.errors else None
        _decorate([item], request.user, list(Tracker.objects.all()))
        row = item_row(
            item,
            csrf_token=get_token(request),
            can_bulk=permissions.can(request.user, "bulk_change_action_items"),
            status_form=bound,
        )
        return HttpResponse(row, status=422 if form.errors else 200)
    if form.errors:
        context = _detail_context(request, item, status_form=form)
        return render(request, "actions/actionitem_detail.html", context, status=422)
    messages.success(request, f"Status is now {item.get_status_display()}.")
    return redirect(item)


def _may_change(request, item) -> None:
    """Forms that change an item are shown only to who may send them (services decide)."""
    permissions.require(request.user, "change_action_item", item)


def _attach(form, err: ValidationError) -> None:
    if hasattr(err, "error_dict"):
        for field, errors in err.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, err)


@require_POST
def action_due(request, pk: int):
    item = _item(request, pk)
    form = DueDateForm(request.POST)
    if form.is_valid():
        try:
            services.change_due_date(item=item, by=request.user, **form.cleaned_data)
        except ValidationError as err:
            _attach(form, err)
    if form.errors:
        _may_change(request, item)
        context = _detail_context(request, item, due_form=form)
        return render(request, "actions/actionitem_detail.html", context, status=422)
    messages.success(request, f"Due date moved to {item.due_on:%Y-%m-%d}; the history keeps why.")
    return redirect(item)


@require_http_methods(["GET", "POST"])
def action_done(request, pk: int):
    """The reminder email's "mark done" link: a GET only asks; the button POSTs."""
    item = _item(request, pk)
    if request.method == "POST":
        services.change_status(item=item, status=ActionItem.Status.DONE, by=request.user)
        messages.success(request, f"Marked done: {item.title}")
        return redirect(item)
    _may_change(request, item)
    return render(request, "actions/actionitem_done.html", {"item": item})


@require_http_methods(["GET", "POST"])
def action_create(request, number: int):
    postmortem = get_object_or_404(
        Postmortem.objects.visible_to(request.user).select_related("incident"),
        incident__number=number,
    )
    offer = membership_offered(request.user, postmortem.incident)
    form = ActionItemForm(
        request.POST or None, initial={"owner": request.user}, offer_membership=offer
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = services.create_action_item(
                postmortem=postmortem, by=request.user, **form.cleaned_data
            )
        except ValidationError as err:
            _attach(form, err)
        else:
            if notice := added_member_notice(item):
                messages.info(request, notice)
            messages.success(request, f"Action item added to {postmortem.incident.reference}.")
            return redirect(item)
    permissions.require(request.user, "add_action_item", postmortem)  # the form is for who may
    context = {"form": form, "postmortem": postmortem, "hints": hints_for(form)}
    status = 422 if form.errors else 200
    return render(request, "actions/actionitem_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def action_edit(request, pk: int):
    item = _item(request, pk)
    offer = membership_offered(request.user, item.postmortem.incident)
    form = ActionItemForm(
        request.POST or None,
        instance=ActionItem.objects.get(pk=item.pk),
        offer_membership=offer,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["version"] = data.pop("loaded_version", None)
        try:
            saved = services.update_action_item(item=item, by=request.user, **data)
        except ValidationError as err:
            _attach(form, err)
        except EditConflict as conflict:
            show_conflict(form, conflict, "action item")
            status = 409
        else:
            if notice := added_member_notice(saved):
                messages.info(request, notice)
            messages.success(request, "Action item saved.")
            return redirect(item)
    _may_change(request, item)
    context = {"form": form, "item": item, "postmortem": item.postmortem, "hints": hints_for(form)}
    if form.errors and status == 200:
        status = 422
    return render(request, "actions/actionitem_form.html", context, status=status)


@require_POST
def bulk_change(request):
    """Managers reassign or move the due date of several items at once, with one reason."""
    form = BulkForm(request.POST, queryset=_visible(request).for_list())
    back = request.POST.get("next") or "actions:list"
    if not url_is_local(back):
        back = "actions:list"
    if not form.is_valid():
        permissions.require(request.user, "bulk_change_action_items")  # then say what is wrong
        return _refused_bulk(request, back, _errors_text(form))
    data = form.cleaned_data
    items = list(data["items"])
    try:
        if data["action"] == "status":
            count = services.bulk_change_status(
                items=items, status=data["status"], reason=data["reason"], by=request.user
            )
            what = f"set to {ActionItem.Status(data['status']).label.lower()}"
        elif data["action"] == "reassign":
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
        return _refused_bulk(request, back, " ".join(err.messages))
    messages.success(request, f"{count} of {len(items)} item(s) {what}.")
    return redirect(back)


# The fields of a refused bulk change kept for the list it returns to (ticks included).
BULK_DRAFT = "bulk_draft"
BULK_FIELDS = ("action", "status", "owner", "due_on", "reason")


def _refused_bulk(request, back: str, problem: str):
    """Back to the list with the ticked rows and everything typed still there."""
    draft = {name: request.POST.get(name, "") for name in BULK_FIELDS}
    draft["items"] = request.POST.getlist("items")
    request.session[BULK_DRAFT] = draft
    messages.error(request, "Nothing changed: " + problem)
    return redirect(back)


def _bulk_draft(request) -> tuple[BulkForm | None, set[str]]:
    """The refused bulk change, bound again so its fields show what was typed and what is
    wrong, and the rows that were ticked."""
    draft = request.session.pop(BULK_DRAFT, None)
    if not draft:
        return None, set()
    data = QueryDict(mutable=True)
    for name in BULK_FIELDS:
        data[name] = draft.get(name, "")
    data.setlist("items", draft.get("items", []))
    form = BulkForm(data, queryset=_visible(request).for_list())
    form.is_valid()  # fills form.errors for the page
    return form, set(data.getlist("items"))


def url_is_local(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


def _errors_text(form) -> str:
    return " ".join(" ".join(errors) for errors in form.errors.values())


def _typed(data, name: str) -> str:
    """A field of an item form, whatever prefix the page gave the form."""
    for key, value in data.items():
        if key == name or key.endswith("-" + name):
            return value.strip()
    return ""


@require_POST
def item_hints(request):
    """The quality hints for what is typed in an item form, before it is saved (htmx)."""
    owner_text = _typed(request.POST, "owner").lstrip("@")
    owner = User.objects.filter(username=owner_text, is_active=True).first() if owner_text else None
    try:
        due_on = date.fromisoformat(_typed(request.POST, "due_on"))
    except ValueError:
        due_on = None
    title = _typed(request.POST, "title")
    hints = []
    if title:
        hints = action_item_hints(
            title=title,
            description=_typed(request.POST, "description"),
            owner=owner,
            owner_text="" if owner else owner_text,
            due_on=due_on,
            ticket_key=_typed(request.POST, "ticket_key") or _typed(request.POST, "ticket_url"),
            team_names=Team.objects.values_list("name", flat=True),
        )
    return render(request, "actions/includes/live_hints.html", {"hints": hints})
