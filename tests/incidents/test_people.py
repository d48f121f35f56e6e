import pytest
from django import forms
from django.urls import reverse

from incidents.people import SUGGESTIONS, UserChoiceField, UserMultipleChoiceField

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


def test_the_box_embeds_no_users_and_points_at_the_suggestions(django_assert_num_queries):
    UserFactory.create_batch(30)
    form = OwnerForm()
    with django_assert_num_queries(0):
        html = str(form["owner"]) + str(form["reviewers"])
    assert "<select" not in html and "<option" not in html
    assert 'list="id_owner-people"' in html and '<datalist id="id_owner-people"></datalist>' in html
    assert f'data-people-url="{reverse("incidents:people")}"' in html
    assert 'data-people="one"' in html and 'data-people="many"' in html


def test_suggestions_match_the_start_of_a_username_or_name_of_active_users(client):
    UserFactory(username="dana", first_name="Dana", last_name="Scully")
    UserFactory(username="mulder", first_name="Fox", last_name="Danaher")
    UserFactory(username="danny", is_active=False)
    UserFactory(username="adan", first_name="Ada", last_name="Nash")
    # Named here: a random factory name ("Daniel") would be suggested too.
    client.force_login(UserFactory(username="viewer", first_name="Vic", last_name="Ewer"))
    response = client.get(reverse("incidents:people"), {"q": "@DAN"})
    assert response.status_code == 200
    assert response.json() == {
        "people": [
            {"username": "dana", "name": "Dana Scully"},
            {"username": "mulder", "name": "Fox Danaher"},
        ]
    }


def test_suggestions_are_few_whatever_the_size_of_the_organisation(
    client, django_assert_num_queries
):
    UserFactory.create_batch(SUGGESTIONS + 5, first_name="Sam")
    client.force_login(UserFactory())
    with django_assert_num_queries(4):  # session, user, their profile (timezone); the people
        response = client.get(reverse("incidents:people"), {"q": "sa"})
    assert len(response.json()["people"]) == SUGGESTIONS
    assert client.get(reverse("incidents:people"), {"q": " "}).json() == {"people": []}


def test_suggestions_need_a_signed_in_person(client):
    UserFactory(username="dana")
    response = client.get(reverse("incidents:people"), {"q": "dan"})
    assert response.status_code == 302 and "dana" not in response.content.decode()


def test_a_saved_owner_is_shown_by_username():
    dana = UserFactory(username="dana")
    form = OwnerForm(initial={"owner": dana.pk, "reviewers": [dana.pk]})
    assert 'value="dana"' in str(form["owner"])
    assert 'value="dana"' in str(form["reviewers"])
