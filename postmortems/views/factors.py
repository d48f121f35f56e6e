"""Contributing factors, inline in the editor: add, edit and delete over htmx."""

from copy import copy

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from incidents.forms import show_conflict
from incidents.services import EditConflict

from .. import services
from ..forms import FactorForm
from .contexts import edit_context, editable_postmortem_for, factors_context, system_names


def _factors_response(request, postmortem, status=200, **kwargs):
    context = factors_context(postmortem, system_names(postmortem.incident), **kwargs)
    if request.htmx:
        return render(request, "postmortems/postmortem_edit.html#factors", context, status=status)
    if status == 200 and request.method == "POST":
        return redirect(reverse("postmortems:edit", args=[postmortem.incident.number]) + "#factors")
    # Without JavaScript the edit link, or a failed form, opens the whole editor with it.
    page = {**edit_context(request, postmortem), **context}
    return render(request, "postmortems/postmortem_edit.html", page, status=status)


def _factor_fields(form) -> dict:
    return {name: form.cleaned_data[name] for name in ("category", "description", "whys")}


@require_POST
def factor_add(request, number: int):
    postmortem = editable_postmortem_for(request, number)
    form = FactorForm(request.POST)
    if not form.is_valid():
        return _factors_response(request, postmortem, status=422, form=form)
    services.add_factor(postmortem=postmortem, by=request.user, **_factor_fields(form))
    if not request.htmx:
        messages.success(request, "Contributing factor added.")
    return _factors_response(request, postmortem)


@require_http_methods(["GET", "POST"])
def factor_edit(request, number: int, pk: int):
    postmortem = editable_postmortem_for(request, number)
    factor = get_object_or_404(postmortem.factors, pk=pk)
    # The form gets its own copy: validating writes the typed values onto its instance.
    form = FactorForm(request.POST or None, instance=copy(factor))
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            services.update_factor(
                factor=factor,
                by=request.user,
                version=form.cleaned_data.get("loaded_version"),
                **_factor_fields(form),
            )
        except EditConflict as conflict:
            show_conflict(form, conflict, "contributing factor")
            status = 409
        else:
            if not request.htmx:
                messages.success(request, "Contributing factor saved.")
            return _factors_response(request, postmortem)
    return _factors_response(request, postmortem, status=status, editing=factor.pk, edit_form=form)


@require_POST
def factor_delete(request, number: int, pk: int):
    postmortem = editable_postmortem_for(request, number)
    services.delete_factor(factor=get_object_or_404(postmortem.factors, pk=pk), by=request.user)
    if not request.htmx:
        messages.success(request, "Contributing factor deleted.")
    return _factors_response(request, postmortem)
