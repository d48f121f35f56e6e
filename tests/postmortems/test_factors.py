import pytest
from django.urls import reverse

from postmortems.checks import chain_warnings, parse_whys, whys_outline
from postmortems.models import ContributingFactor

from ..factories import ContributingFactorFactory, IncidentFactory, PostmortemFactory, on_team

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}

OUTLINE = """Why did the deploy skip the canary?
  - the pipeline let a flag skip it
    - the flag has no approval step
  - the canary stage is optional in the template
"""


def test_a_why_outline_becomes_a_branching_tree_and_back():
    tree = parse_whys(OUTLINE)
    assert len(tree) == 1
    root = tree[0]
    assert root["text"] == "Why did the deploy skip the canary?"
    assert [c["text"] for c in root["children"]] == [
        "the pipeline let a flag skip it",
        "the canary stage is optional in the template",
    ]
    assert root["children"][0]["children"][0]["text"] == "the flag has no approval step"
    assert parse_whys(whys_outline(tree)) == tree


@pytest.mark.parametrize(
    "leaf",
    [
        "Dana was in a hurry",
        "the engineer forgot to check the dashboard",
        "because @sam skipped the checklist",
        "human error",
        "the on-call ignored the warning",
    ],
)
def test_a_chain_ending_at_a_person_is_flagged(leaf):
    warnings = chain_warnings(parse_whys(f"- why?\n  - {leaf}"))
    assert len(warnings) == 1 and leaf in warnings[0]


@pytest.mark.parametrize(
    "leaf",
    [
        "the flag has no approval step",
        "nobody is asked to approve a skip",
        "the deploy tool accepts an empty host list",
        "alerts page only after 15 minutes of errors",
    ],
)
def test_a_chain_ending_at_a_system_property_is_not_flagged(leaf):
    assert chain_warnings(parse_whys(f"- why?\n  - {leaf}")) == []


def test_adding_a_factor_with_a_why_chain(client, user):
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    client.force_login(user)
    response = client.post(
        reverse("postmortems:factor-add", args=[pm.incident.number]),
        {"category": "process", "description": "Canary could be skipped", "whys_text": OUTLINE},
        headers=HTMX,
    )
    assert response.status_code == 200
    factor = pm.factors.get()
    assert factor.category == "process" and factor.whys == parse_whys(OUTLINE)
    body = response.content.decode()
    assert "Canary could be skipped" in body
    assert "Only one contributing factor so far" in body


def test_a_factor_without_description_is_refused_with_a_message(client, user):
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    client.force_login(user)
    response = client.post(
        reverse("postmortems:factor-add", args=[pm.incident.number]),
        {"category": "process", "description": "   "},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Describe the factor." in response.content.decode()
    assert not pm.factors.exists()


def test_the_margin_warns_about_a_chain_ending_at_a_person(client, user):
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    ContributingFactorFactory(
        postmortem=pm, whys=parse_whys("- why?\n  - the engineer forgot the flag")
    )
    ContributingFactorFactory(postmortem=pm)
    client.force_login(user)
    body = client.get(reverse("postmortems:edit", args=[pm.incident.number])).content.decode()
    assert "The chain ends at a person" in body
    assert "Only one contributing factor" not in body


def test_editing_and_deleting_a_factor(client, user):
    factor = ContributingFactorFactory(postmortem__incident=on_team(IncidentFactory(), user))
    number = factor.postmortem.incident.number
    client.force_login(user)
    url = reverse("postmortems:factor-edit", args=[number, factor.pk])
    assert "Save factor" in client.get(url, headers=HTMX).content.decode()
    response = client.post(
        url, {"category": "alerting", "description": "No alert on empty pools"}, headers=HTMX
    )
    assert response.status_code == 200
    factor.refresh_from_db()
    assert (factor.category, factor.description) == ("alerting", "No alert on empty pools")
    client.post(reverse("postmortems:factor-delete", args=[number, factor.pk]), headers=HTMX)
    assert not ContributingFactor.objects.filter(pk=factor.pk).exists()


def test_without_javascript_adding_a_factor_redirects_to_the_editor(client, user):
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    client.force_login(user)
    response = client.post(
        reverse("postmortems:factor-add", args=[pm.incident.number]),
        {"category": "testing", "description": "No test covered empty lists"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#factors")


def test_non_members_cannot_touch_factors_of_a_private_postmortem(client, user, other_user):
    pm = PostmortemFactory(incident=IncidentFactory(private=True, members=[other_user]))
    factor = ContributingFactorFactory(postmortem=pm, description="secret factor")
    number = pm.incident.number
    client.force_login(user)
    data = {"category": "process", "description": "x"}
    assert client.post(reverse("postmortems:factor-add", args=[number]), data).status_code == 404
    edit = reverse("postmortems:factor-edit", args=[number, factor.pk])
    assert client.get(edit).status_code == 404
    assert client.post(edit, data).status_code == 404
    delete = reverse("postmortems:factor-delete", args=[number, factor.pk])
    assert client.post(delete).status_code == 404
    factor.refresh_from_db()
    assert factor.description == "secret factor"


def test_a_factor_of_another_postmortem_is_404(client, user):
    factor = ContributingFactorFactory()
    other = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    client.force_login(user)
    url = reverse("postmortems:factor-edit", args=[other.incident.number, factor.pk])
    assert client.get(url).status_code == 404


def test_blame_wording_in_a_section_shows_in_the_margin(client, user):
    pm = PostmortemFactory(
        root_cause="Dana forgot to run the migration check.",
        incident=on_team(IncidentFactory(), user),
    )
    client.force_login(user)
    body = client.get(reverse("postmortems:edit", args=[pm.incident.number])).content.decode()
    assert 'id="findings-root_cause"' in body
    margin = body.split('id="findings-root_cause"', 1)[1].split("</aside>", 1)[0]
    assert "<mark>" in margin and "Try:" in margin
