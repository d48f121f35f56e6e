from datetime import timedelta

import pytest
from django.urls import reverse

from actions.related import earlier_open_items
from incidents.models import Incident
from postmortems.related import suggest_related

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    ServiceFactory,
    on_team,
)

pytestmark = pytest.mark.django_db


def _earlier(incident, **kwargs):
    return IncidentFactory(started_at=incident.started_at - timedelta(days=30), **kwargs)


def test_suggestions_explain_shared_services_pattern_and_wording(user):
    checkout = ServiceFactory(name="checkout-api")
    current = IncidentFactory(title="Checkout certificate expired", pattern="cert-expiry")
    current.services.add(checkout)
    same_service = _earlier(current, title="Slow pages")
    same_service.services.add(checkout)
    same_pattern = _earlier(current, title="Mail relay down", pattern="cert-expiry")
    similar_words = _earlier(current, title="Certificate expired on the payments gateway")
    unrelated = _earlier(current, title="Disk filled on build runners")
    later = IncidentFactory(
        title="Checkout certificate expired again",
        pattern="cert-expiry",
        started_at=current.started_at + timedelta(days=3),
    )
    suggestions = {s.incident.pk: s for s in suggest_related(current, user, limit=10)}
    assert "1 shared service" in suggestions[same_service.pk].reasons
    assert "same pattern “cert-expiry”" in suggestions[same_pattern.pk].reasons
    assert "similar wording" in suggestions[similar_words.pk].reasons
    assert unrelated.pk not in suggestions
    assert later.pk not in suggestions  # only earlier incidents


def test_suggestions_use_factor_categories_and_skip_linked_and_private(user):
    current = PostmortemFactory(incident=IncidentFactory(title="Queue backlog"))
    ContributingFactorFactory(postmortem=current, category="alerting")
    earlier = PostmortemFactory(incident=_earlier(current.incident, title="Cron stalled"))
    ContributingFactorFactory(postmortem=earlier, category="alerting")
    linked = _earlier(current.incident, title="Queue backlog in EU", pattern="")
    current.incident.related.add(linked)
    secret = _earlier(current.incident, title="Queue backlog secret", private=True)
    found = {s.incident.pk: s for s in suggest_related(current.incident, user)}
    assert found[earlier.incident.pk].reasons == ["same factor categories: alerting"]
    assert linked.pk not in found and secret.pk not in found


def test_earlier_open_items_on_the_same_service_are_pointed_out(client, user):
    checkout = ServiceFactory(name="checkout-api")
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    pm.incident.services.add(checkout)
    old = PostmortemFactory(incident=_earlier(pm.incident))
    old.incident.services.add(checkout)
    open_item = ActionItemFactory(postmortem=old, title="Alert on certificate age")
    ActionItemFactory(
        postmortem=old, title="Done already", status="done", completed_at=old.created_at
    )
    hidden = PostmortemFactory(incident=_earlier(pm.incident, private=True))
    hidden.incident.services.add(checkout)
    ActionItemFactory(postmortem=hidden, title="Secret item")
    assert [i.pk for i in earlier_open_items(pm.incident, user)] == [open_item.pk]
    client.force_login(user)
    body = _suggestions(client, pm).content.decode()
    assert "Unfinished fixes from earlier postmortems" in body
    assert "Alert on certificate age" in body and "Secret item" not in body


def _suggestions(client, pm):
    """What the editor asks for once it has loaded (htmx)."""
    url = reverse("postmortems:related-suggestions", args=[pm.incident.number])
    return client.get(url, headers={"HX-Request": "true"})


def test_the_editor_asks_for_its_suggestions_after_loading(client, user):
    checkout = ServiceFactory(name="checkout-api")
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    pm.incident.services.add(checkout)
    old = PostmortemFactory(incident=_earlier(pm.incident, title="Checkout slow"))
    old.incident.services.add(checkout)
    ActionItemFactory(postmortem=old, title="Alert on certificate age")
    client.force_login(user)
    editor = reverse("postmortems:edit", args=[pm.incident.number])
    url = reverse("postmortems:related-suggestions", args=[pm.incident.number])

    body = client.get(editor).content.decode()
    assert f'hx-get="{url}"' in body and 'hx-trigger="load"' in body
    assert "Checkout slow" not in body and "Alert on certificate age" not in body
    fragment = _suggestions(client, pm).content.decode()
    assert "Might be related" in fragment and "Checkout slow" in fragment
    assert "Alert on certificate age" in fragment and "<html" not in fragment
    # Without JavaScript the placeholder's link shows the editor with them in place.
    assert client.get(url).url == f"{editor}?suggestions=1#related"
    in_place = client.get(f"{editor}?suggestions=1").content.decode()
    assert "Checkout slow" in in_place and "Alert on certificate age" in in_place
    assert f'hx-get="{url}"' not in in_place


def test_the_editor_finds_earlier_items_by_the_services_and_factors_it_read(client, user):
    checkout = ServiceFactory(name="checkout-api")
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    pm.incident.services.add(checkout)
    ContributingFactorFactory(postmortem=pm, category="alerting")
    by_service = PostmortemFactory(incident=_earlier(pm.incident))
    by_service.incident.services.add(checkout)
    by_category = PostmortemFactory(incident=_earlier(pm.incident))
    ContributingFactorFactory(postmortem=by_category, category="alerting")
    neither = PostmortemFactory(incident=_earlier(pm.incident))
    ContributingFactorFactory(postmortem=neither, category="testing")
    items = [
        ActionItemFactory(postmortem=p, title=f"Fix from {p.incident.reference}")
        for p in (by_service, by_category, neither)
    ]
    client.force_login(user)
    editor = reverse("postmortems:edit", args=[pm.incident.number])
    response = client.get(f"{editor}?suggestions=1")
    body = response.content.decode()
    assert items[0].title in body and items[1].title in body and items[2].title not in body
    shown = [i.pk for i in response.context["earlier_items"]]
    assert shown == [i.pk for i in earlier_open_items(pm.incident, user)]


def test_linking_and_unlinking_by_reference(client, user):
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    other = IncidentFactory()
    client.force_login(user)
    url = reverse("postmortems:related-add", args=[pm.incident.number])
    response = client.post(url, {"reference": other.reference}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and other.reference in response.content.decode()
    assert list(pm.incident.related.all()) == [other]
    assert list(other.related.all()) == [pm.incident]  # both pages show the link
    remove = reverse("postmortems:related-remove", args=[pm.incident.number, other.number])
    client.post(remove)
    assert not pm.incident.related.exists()


def test_linking_a_missing_private_or_same_incident_is_refused(client, user):
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    secret = IncidentFactory(private=True)
    client.force_login(user)
    url = reverse("postmortems:related-add", args=[pm.incident.number])
    for reference in ["INC-999999", secret.reference, pm.incident.reference, "nonsense"]:
        response = client.post(url, {"reference": reference}, follow=True)
        assert response.status_code == 200
    assert not pm.incident.related.exists()


def test_non_members_cannot_change_links_of_a_private_incident(client, user, other_user):
    pm = PostmortemFactory(incident=IncidentFactory(private=True, members=[other_user]))
    linked = IncidentFactory()
    pm.incident.related.add(linked)
    client.force_login(user)
    add = reverse("postmortems:related-add", args=[pm.incident.number])
    assert client.post(add, {"reference": IncidentFactory().reference}).status_code == 404
    remove = reverse("postmortems:related-remove", args=[pm.incident.number, linked.number])
    assert client.post(remove).status_code == 404
    assert list(pm.incident.related.all()) == [linked]


def test_similar_wording_follows_an_edited_title(user):
    current = IncidentFactory(title="Certificate expired on checkout", summary="")
    earlier = _earlier(current, title="Disk filled on runners", summary="")

    def reasons():
        found = {s.incident.pk: s for s in suggest_related(current, user, limit=10)}
        return found[earlier.pk].reasons if earlier.pk in found else []

    assert "similar wording" not in reasons()
    # A write that bypasses the services, as bulk loads do: the stored words still follow.
    Incident.objects.filter(pk=earlier.pk).update(title="Certificate expired on payments")
    assert "similar wording" in reasons()


def test_similar_wording_never_suggests_a_private_incident_to_an_outsider(user, other_user):
    current = IncidentFactory(title="Certificate expired on checkout", summary="")
    secret = _earlier(current, title="Certificate expired on vault", summary="", private=True)
    secret.members.add(other_user)
    assert secret.pk not in {s.incident.pk for s in suggest_related(current, user)}
    assert secret.pk in {s.incident.pk for s in suggest_related(current, other_user)}
