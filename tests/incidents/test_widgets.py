"""Filter controls written in Python match what Django's widget templates write."""

import re

import pytest
from django import forms
from django.core.cache import cache
from django.urls import reverse

from actions.forms import ActionItemForm
from incidents.forms import TimelineEventForm
from incidents.widgets import FormSelect, QuickCheckboxes, QuickSelect
from postmortems.forms import FactorForm
from postmortems.meeting_forms import NoteForm

from ..factories import ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db

CHOICES = [("", "Any"), ("a", "Alpha & <Beta>"), ("b", "Bravo")]


def _squash(html) -> str:
    return re.sub(r"\s+", " ", str(html)).replace("> <", "><").strip()


def _attrs(tag: str) -> set[str]:
    return set(re.findall(r'\s([\w-]+(?:="[^"]*")?)', tag))


def test_a_quick_select_writes_what_django_writes():
    class Plain(forms.Form):
        pick = forms.ChoiceField(choices=CHOICES, required=False, help_text="Which one")

    class Quick(forms.Form):
        pick = forms.ChoiceField(
            choices=CHOICES, required=False, help_text="Which one", widget=QuickSelect
        )

    for data in [{"pick": "a"}, {}, {"pick": "nonsense"}]:
        plain, quick = _squash(Plain(data)["pick"]), _squash(Quick(data)["pick"])
        plain_open, quick_open = plain.split(">", 1)[0], quick.split(">", 1)[0]
        assert _attrs(plain_open) == _attrs(quick_open)
        assert plain.split(">", 1)[1] == quick.split(">", 1)[1], data


def test_quick_tick_boxes_write_what_django_writes():
    choices = [(1, "SEV1"), (2, "SEV2")]

    class Plain(forms.Form):
        sev = forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple)

    class Quick(forms.Form):
        sev = forms.MultipleChoiceField(choices=choices, widget=QuickCheckboxes)

    plain, quick = Plain({"sev": ["2"]})["sev"], Quick({"sev": ["2"]})["sev"]
    assert [_squash(c.tag()) for c in plain] == [_squash(c.tag()) for c in quick]
    assert 'value="2" id="id_sev_1" checked' in quick[1].tag()


def test_filter_selects_list_teams_and_services_as_they_are_now(client, user):
    client.force_login(user)
    TeamFactory(name="Payments", slug="payments")
    body = client.get(reverse("incidents:list"), {"team": "payments"}).content.decode()
    assert '<option value="payments" selected>Payments</option>' in body
    ServiceFactory(name="Ledger", slug="ledger")  # a new service shows on the next page
    body = client.get(reverse("actions:list")).content.decode()
    assert '<option value="ledger">Ledger</option>' in body
    assert '<option value="payments">Payments</option>' in body


@pytest.mark.parametrize(
    "data", [{"pick": "a"}, {"pick": "2"}, {}, {"pick": "nonsense"}, {"pick": ""}]
)
@pytest.mark.parametrize("required", [True, False])
def test_a_form_select_writes_byte_for_byte_what_django_writes(data, required):
    choices = [("", "---------"), ("a", 'Alpha & <Beta> "quoted"'), (2, "Two"), ("a", "Again")]

    def form(widget):
        class Picker(forms.Form):
            pick = forms.ChoiceField(
                choices=choices, required=required, help_text="Which one", widget=widget
            )

        return Picker(data or None, initial={"pick": 2})

    plain = form(forms.Select(attrs={"class": "wide", "data-x": None, "disabled": False}))
    quick = form(FormSelect(attrs={"class": "wide", "data-x": None, "disabled": False}))
    assert str(quick["pick"]) == str(plain["pick"])


def test_a_form_select_with_option_groups_is_written_by_django():
    choices = [("Fruit", [("a", "Apple")]), ("b", "Bean")]

    class Plain(forms.Form):
        pick = forms.ChoiceField(choices=choices)

    class Quick(forms.Form):
        pick = forms.ChoiceField(choices=choices, widget=FormSelect)

    assert str(Quick({"pick": "a"})["pick"]) == str(Plain({"pick": "a"})["pick"])


def test_the_capture_and_add_forms_use_form_selects():
    for form, names in [
        (TimelineEventForm(), ["phase", "source"]),
        (FactorForm(), ["category"]),
        (NoteForm(), ["kind", "section"]),
        (ActionItemForm(), ["priority", "leverage"]),
    ]:
        for name in names:
            assert isinstance(form.fields[name].widget, FormSelect), name
            django_select = forms.Select(choices=form.fields[name].choices)
            django_select.attrs = form.fields[name].widget.attrs
            bound = form[name]
            assert str(bound) == bound.as_widget(widget=django_select), name


def _filter_option_queries(captured) -> list[str]:
    """The queries listing teams or services as (slug, name) options."""
    return [q["sql"] for q in captured.captured_queries if '"slug" AS "slug"' in q["sql"]]


def test_filter_options_are_read_once_then_come_from_the_cache(
    client, user, django_assert_max_num_queries
):
    TeamFactory(name="Payments", slug="payments")
    client.force_login(user)
    with django_assert_max_num_queries(50) as first:
        client.get(reverse("incidents:list"))
    assert len(_filter_option_queries(first)) == 2
    with django_assert_max_num_queries(50) as second:
        body = client.get(reverse("actions:list")).content.decode()
    assert '<option value="payments">Payments</option>' in body
    assert _filter_option_queries(second) == []


def test_a_renamed_or_deleted_team_or_service_shows_on_the_next_page(client, user):
    team = TeamFactory(name="Payments", slug="payments")
    service = ServiceFactory(name="Ledger", slug="ledger", team=team)
    client.force_login(user)
    assert "Ledger" in client.get(reverse("incidents:list")).content.decode()
    team.name = "Billing & Payments"
    team.save()
    service.delete()
    body = client.get(reverse("incidents:list")).content.decode()
    assert '<option value="payments">Billing &amp; Payments</option>' in body
    assert "Ledger" not in body


def test_options_cached_while_a_change_was_uncommitted_are_forgotten_at_commit(
    client, user, django_capture_on_commit_callbacks
):
    team = TeamFactory(name="Payments", slug="payments")
    client.force_login(user)
    with django_capture_on_commit_callbacks() as callbacks:
        team.name = "Billing"
        team.save()
        # A page in another transaction still reads the old name and caches it.
        cache.set("filter-options:incidents.team:slug:name", [("payments", "payments", "Payments")])
    assert "Payments</option>" in client.get(reverse("incidents:list")).content.decode()
    for callback in callbacks:
        callback()
    body = client.get(reverse("incidents:list")).content.decode()
    assert '<option value="payments">Billing</option>' in body
