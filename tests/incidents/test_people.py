import pytest
from django import forms

from incidents.people import UserChoiceField, UserMultipleChoiceField

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


class OwnerForm(forms.Form):
    owner = UserChoiceField()
    reviewers = UserMultipleChoiceField(required=False)


def test_a_person_is_typed_as_a_username_with_or_without_at_and_any_case():
    dana = UserFactory(username="dana")
    for typed in ("dana", "@dana", "Dana", " dana "):
        form = OwnerForm({"owner": typed})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["owner"] == dana


def test_an_unknown_or_inactive_person_gets_a_clear_error():
    UserFactory(username="gone", is_active=False)
    for typed in ("nobody", "gone"):
        form = OwnerForm({"owner": typed})
        assert not form.is_valid()
        assert form.errors["owner"] == [
            f"No active user is called “{typed}”. Type a username, e.g. alice."
        ]


def test_several_people_separated_by_commas_or_spaces():
    a, b, c = UserFactory(username="ana"), UserFactory(username="ben"), UserFactory(username="cy")
    form = OwnerForm({"owner": "ana", "reviewers": "@ben, cy  ana"})
    assert form.is_valid(), form.errors
    assert set(form.cleaned_data["reviewers"]) == {a, b, c}


def test_the_box_suggests_every_active_user_without_a_select(django_assert_num_queries):
    UserFactory.create_batch(30)
    UserFactory(username="hidden", is_active=False)
    form = OwnerForm()
    with django_assert_num_queries(1):
        html = str(form["owner"])
    assert "<select" not in html
    assert html.count("<option") == 30 and "hidden" not in html
    assert 'list="id_owner-people"' in html and '<datalist id="id_owner-people">' in html


def test_a_saved_owner_is_shown_by_username():
    dana = UserFactory(username="dana")
    form = OwnerForm(initial={"owner": dana.pk, "reviewers": [dana.pk]})
    assert 'value="dana"' in str(form["owner"])
    assert 'value="dana"' in str(form["reviewers"])
