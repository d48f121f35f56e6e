"""Contributing factors and action items: five saves from one loaded version, one winner.

Before, both saved unconditionally and the last write silently won. On PostgreSQL the saves
really race (tests/races.py); on SQLite they take turns.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from actions import services
from actions.models import ActionItem
from incidents.services import EditConflict
from postmortems import services as postmortem_services
from postmortems.models import ContributingFactor

from ..factories import ActionItemFactory, ContributingFactorFactory, UserFactory
from ..incidents.test_atomic_edits import PEOPLE, editors, race_posts
from ..races import race, report

HTMX = {"HX-Request": "true"}


def _item_data(item, title: str, **extra) -> dict:
    return {
        "title": title,
        "owner": item.owner.username,
        "due_on": item.due_on.isoformat(),
        "priority": item.priority,
        "leverage": item.leverage,
        "ticket_key": "",
        "ticket_url": "",
        "description": "",
        "loaded_version": item.version,
        **extra,
    }


@race
@pytest.mark.django_db(transaction=True)
def test_five_people_saving_one_action_item_give_one_winner(race_mode, capsys):
    item = ActionItemFactory()
    clients = editors(item.postmortem.incident.team)
    url = reverse("actions:edit", args=[item.pk])
    codes = race_posts(clients, url, lambda i: _item_data(item, f"Deliverable {i}"))
    report(capsys, f"{PEOPLE} action item saves answered {sorted(codes)}")
    assert sorted(codes) == [302] + [409] * (PEOPLE - 1)
    item.refresh_from_db()
    assert item.title.startswith("Deliverable ")
    assert item.events.filter(kind="edited").count() == 1  # one recorded edit, not five


@race
@pytest.mark.django_db(transaction=True)
def test_five_people_saving_one_item_in_the_editor_panel_give_one_winner(race_mode, capsys):
    item = ActionItemFactory()
    clients = editors(item.postmortem.incident.team)
    number = item.postmortem.incident.number
    url = reverse("actions:postmortem-item-edit", args=[number, item.pk])
    codes = race_posts(clients, url, lambda i: _item_data(item, f"Panel {i}"), headers=HTMX)
    report(capsys, f"{PEOPLE} panel item saves answered {sorted(codes)}")
    assert sorted(codes) == [200] + [409] * (PEOPLE - 1)


@race
@pytest.mark.django_db(transaction=True)
def test_five_people_saving_one_factor_give_one_winner(race_mode, capsys):
    factor = ContributingFactorFactory()
    clients = editors(factor.postmortem.incident.team)
    url = reverse("postmortems:factor-edit", args=[factor.postmortem.incident.number, factor.pk])

    def data(i):
        return {
            "category": "process",
            "description": f"Factor {i}",
            "whys_text": "",
            "loaded_version": factor.version,
        }

    codes = race_posts(clients, url, data, headers=HTMX)
    report(capsys, f"{PEOPLE} factor saves answered {sorted(codes)}")
    assert sorted(codes) == [200] + [409] * (PEOPLE - 1)
    factor.refresh_from_db()
    assert factor.version == 2


@pytest.mark.django_db
def test_a_refused_item_edit_keeps_the_typed_text_shows_theirs_and_then_replaces(client, user):
    item = ActionItemFactory(title="Original")
    client.force_login(item.owner)
    loaded = _item_data(item, "My deliverable")
    services.update_action_item(
        item=ActionItem.objects.get(pk=item.pk), by=item.owner, version=1, title="Theirs"
    )
    url = reverse("actions:edit", args=[item.pk])
    response = client.post(url, loaded)
    body = response.content.decode()
    assert response.status_code == 409
    assert 'value="My deliverable"' in body
    assert "What will be delivered: “Theirs”" in body
    assert ActionItem.objects.get(pk=item.pk).title == "Theirs"
    # The form now carries their version: saving again knowingly replaces their change.
    now = ActionItem.objects.get(pk=item.pk).version
    assert response.context["form"].data["loaded_version"] == now
    assert f'name="loaded_version" value="{now}"' in body
    response = client.post(url, {**loaded, "loaded_version": now})
    assert response.status_code == 302
    assert ActionItem.objects.get(pk=item.pk).title == "My deliverable"


@pytest.mark.django_db
def test_a_status_change_meanwhile_makes_an_older_edit_conflict():
    item = ActionItemFactory()
    services.change_status(item=ActionItem.objects.get(pk=item.pk), status="done", by=item.owner)
    with pytest.raises(EditConflict):
        services.update_action_item(
            item=ActionItem.objects.get(pk=item.pk), by=item.owner, version=1, title="Late"
        )


@pytest.mark.django_db
def test_a_factor_edit_from_an_old_version_is_refused_by_the_service():
    factor = ContributingFactorFactory()
    by = UserFactory(is_superuser=True)
    postmortem_services.update_factor(
        factor=factor, by=by, version=1, category="process", description="First", whys=[]
    )
    with pytest.raises(EditConflict):
        postmortem_services.update_factor(
            factor=ContributingFactor.objects.get(pk=factor.pk),
            by=by,
            version=1,
            category="process",
            description="Second",
            whys=[],
        )
    assert ContributingFactor.objects.get(pk=factor.pk).description == "First"


@pytest.mark.django_db
def test_outsiders_get_404_not_a_conflict_when_editing_a_private_item(client):
    item = ActionItemFactory()
    incident = item.postmortem.incident
    incident.private = True
    incident.save()
    client.force_login(UserFactory())
    response = client.post(reverse("actions:edit", args=[item.pk]), _item_data(item, "x"))
    assert response.status_code == 404
    assert item.due_on > timezone.localdate() - timedelta(days=1)
