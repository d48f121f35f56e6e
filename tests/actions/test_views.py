import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from actions.models import ActionItem, Tracker

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _ids(response):
    return [i.pk for i in response.context["page"].object_list]


def test_item_pages_need_login(client):
    item = ActionItemFactory()
    for url in [
        reverse("actions:team"),
        item.get_absolute_url(),
        reverse("actions:edit", args=[item.pk]),
        reverse("actions:done", args=[item.pk]),
        reverse("actions:calendar"),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_my_items_lists_only_mine(client, user, other_user):
    mine = ActionItemFactory(owner=user)
    ActionItemFactory(owner=other_user)
    client.force_login(user)
    assert _ids(client.get(reverse("actions:mine"))) == [mine.pk]


def test_team_items_are_those_of_my_teams(client, user):
    team = TeamFactory()
    team.members.add(user)
    ours = ActionItemFactory(postmortem__incident__team=team)
    ActionItemFactory()
    client.force_login(user)
    assert _ids(client.get(reverse("actions:team"))) == [ours.pk]


def test_team_items_count_the_rows_the_list_shows(client, user):
    # The count is read unordered and without the join the rows use: the same rows all the same.
    team = TeamFactory()
    team.members.add(user)
    shown = [ActionItemFactory(postmortem__incident__team=team) for _ in range(3)]
    ActionItemFactory(postmortem__incident__team=team, postmortem__incident__private=True)
    ActionItemFactory()
    client.force_login(user)
    response = client.get(reverse("actions:team"))
    assert sorted(_ids(response)) == sorted(item.pk for item in shown)
    assert response.context["page"].count == 3


def test_filters_combine_and_urls_are_shareable(client, user):
    today = timezone.localdate()
    service = ServiceFactory(slug="checkout-api")
    sev1 = IncidentFactory(severity=1)
    sev1.services.add(service)
    hit = ActionItemFactory(postmortem__incident=sev1, due_on=today + timedelta(days=2), priority=0)
    ActionItemFactory(postmortem__incident__severity=1, due_on=today + timedelta(days=2))
    ActionItemFactory(
        postmortem__incident=IncidentFactory(severity=1), due_on=today + timedelta(days=20)
    )
    client.force_login(user)
    query = {"severity": "1", "due_within": "3", "priority": "0"}
    assert _ids(client.get(reverse("actions:list"), query)) == [hit.pk]
    assert _ids(client.get(reverse("actions:list"), {"service": "checkout-api"})) == [hit.pk]


def test_overdue_and_created_range_filters(client, user):
    late = ActionItemFactory(overdue=True)
    ActionItemFactory()
    client.force_login(user)
    assert _ids(client.get(reverse("actions:list"), {"overdue": "on"})) == [late.pk]
    ActionItem.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(days=40))
    since = (timezone.localdate() - timedelta(days=10)).isoformat()
    assert late.pk not in _ids(client.get(reverse("actions:list"), {"created_after": since}))


def test_sorting_by_priority_or_due_date(client, user):
    today = timezone.localdate()
    soon_p3 = ActionItemFactory(due_on=today + timedelta(days=1), priority=3)
    later_p0 = ActionItemFactory(due_on=today + timedelta(days=9), priority=0)
    client.force_login(user)
    assert _ids(client.get(reverse("actions:list"))) == [soon_p3.pk, later_p0.pk]
    assert _ids(client.get(reverse("actions:list"), {"sort": "priority"})) == [
        later_p0.pk,
        soon_p3.pk,
    ]


def test_private_incident_items_never_show_to_non_members(client, user, other_user):
    private = IncidentFactory(private=True, members=[other_user])
    secret = ActionItemFactory(postmortem__incident=private, title="Rotate the leaked key")
    client.force_login(user)
    assert "Rotate the leaked key" not in client.get(reverse("actions:list")).content.decode()
    assert client.get(secret.get_absolute_url()).status_code == 404
    response = client.post(reverse("actions:status", args=[secret.pk]), {"status": "done"})
    assert response.status_code == 404


def test_inline_status_change_returns_the_updated_row(client, user):
    item = ActionItemFactory(owner=user)
    client.force_login(user)
    response = client.post(
        reverse("actions:status", args=[item.pk]),
        {"status": "done", "context": "row"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="item-{item.pk}"')
    assert '<option value="done" selected>' in body
    item.refresh_from_db()
    assert item.status == "done" and item.completed_by == user


def test_inline_block_without_reason_asks_for_it(client, user):
    item = ActionItemFactory(owner=user)
    client.force_login(user)
    url = reverse("actions:status", args=[item.pk])
    response = client.post(
        url, {"status": "blocked", "context": "row"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "Say why the item is blocked" in response.content.decode()
    assert 'name="reason"' in response.content.decode()
    item.refresh_from_db()
    assert item.status == "open"
    client.post(
        url,
        {"status": "blocked", "reason": "Vendor API", "context": "row"},
        headers={"HX-Request": "true"},
    )
    item.refresh_from_db()
    assert item.status == "blocked" and item.reason == "Vendor API"


def test_someone_outside_the_team_cannot_change_an_item(client, user):
    item = ActionItemFactory()
    client.force_login(user)
    assert (
        client.post(reverse("actions:status", args=[item.pk]), {"status": "done"}).status_code
        == 403
    )
    assert client.get(reverse("actions:edit", args=[item.pk])).status_code == 403
    body = client.get(reverse("actions:list")).content.decode()
    assert f'action="{reverse("actions:status", args=[item.pk])}"' not in body


def test_due_date_form_needs_a_reason_and_shows_the_slip(client, user):
    item = ActionItemFactory(owner=user)
    client.force_login(user)
    url = reverse("actions:due", args=[item.pk])
    new = (item.due_on + timedelta(days=7)).isoformat()
    response = client.post(url, {"due_on": new, "reason": ""})
    assert response.status_code == 422
    assert "Say why the due date moves" in response.content.decode()
    response = client.post(url, {"due_on": new, "reason": "Waiting for the freeze to end"})
    assert response.status_code == 302
    body = client.get(item.get_absolute_url()).content.decode()
    assert "moved 1 time, 7 days in all" in body
    assert "Waiting for the freeze to end" in body


def test_mark_done_link_asks_before_changing(client, user):
    item = ActionItemFactory(owner=user)
    client.force_login(user)
    url = reverse("actions:done", args=[item.pk])
    assert "Mark this item done?" in client.get(url).content.decode()
    item.refresh_from_db()
    assert item.status == "open"
    client.post(url)
    item.refresh_from_db()
    assert item.status == "done"


def test_creating_an_item_from_a_postmortem(client, user):
    postmortem = PostmortemFactory(author=user)
    client.force_login(user)
    url = reverse("actions:create", args=[postmortem.incident.number])
    data = {
        "title": "Alert on empty upstream lists in the config loader",
        "owner": user.pk,
        "due_on": "",
        "priority": "1",
        "leverage": "detection",
        "ticket_key": "PAY-12",
    }
    response = client.post(url, data)
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    data["due_on"] = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = client.post(url, data)
    item = ActionItem.objects.get()
    assert response["Location"] == item.get_absolute_url()
    assert item.created_by == user and item.events.get().kind == "created"


def test_ticket_keys_link_through_the_configured_tracker(client, user):
    Tracker.objects.create(
        name="GitHub",
        pattern=r"(?P<repo>[\w.-]+/[\w.-]+)#(?P<number>\d+)",
        url_template="https://github.com/{repo}/issues/{number}",
    )
    Tracker.objects.create(
        name="Jira",
        pattern=r"[A-Z][A-Z0-9]+-\d+",
        url_template="https://jira.example.com/browse/{key}",
    )
    ActionItemFactory(ticket_key="acme/api#42")
    ActionItemFactory(ticket_key="PAY-7")
    client.force_login(user)
    body = client.get(reverse("actions:list")).content.decode()
    assert 'href="https://github.com/acme/api/issues/42"' in body
    assert 'href="https://jira.example.com/browse/PAY-7"' in body


def test_bulk_reassign_from_the_list(client, user, other_user):
    team = TeamFactory()
    team.managers.add(user)
    items = ActionItemFactory.create_batch(2, postmortem__incident__team=team)
    client.force_login(user)
    response = client.post(
        reverse("actions:bulk"),
        {
            "action": "reassign",
            "items": [i.pk for i in items],
            "owner": other_user.pk,
            "reason": "Team reorg",
            "next": reverse("actions:team"),
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("actions:team")
    assert ActionItem.objects.filter(owner=other_user).count() == 2


def test_bulk_form_refuses_items_of_teams_i_do_not_manage(client, user, other_user):
    TeamFactory().managers.add(user)
    foreign = ActionItemFactory()
    client.force_login(user)
    response = client.post(
        reverse("actions:bulk"),
        {"action": "reassign", "items": [foreign.pk], "owner": other_user.pk, "reason": "x"},
    )
    assert response.status_code == 403
    foreign.refresh_from_db()
    assert foreign.owner != other_user
    assert not foreign.events.exists()


def test_the_bulk_checkboxes_are_on_the_items_i_manage_only(client, user):
    managed, member_of = TeamFactory(), TeamFactory()
    managed.managers.add(user)
    member_of.members.add(user)
    mine = ActionItemFactory(postmortem__incident__team=managed)
    theirs = ActionItemFactory(postmortem__incident__team=member_of)
    client.force_login(user)
    body = client.get(reverse("actions:list")).content.decode()
    assert f'name="items" value="{mine.pk}"' in body
    assert f'name="items" value="{theirs.pk}"' not in body
    # A member may still change the item itself, one at a time.
    assert f'action="{reverse("actions:status", args=[theirs.pk])}"' in body


def test_an_invalid_bulk_form_from_a_non_manager_is_refused_too(client, user):
    client.force_login(user)
    response = client.post(reverse("actions:bulk"), {"action": "reassign"})
    assert response.status_code == 403


def test_empty_states_say_what_belongs_there(client, user):
    client.force_login(user)
    assert "Nothing on your plate" in client.get(reverse("actions:mine")).content.decode()
    assert "No items for your teams" in client.get(reverse("actions:team")).content.decode()
    assert (
        "No action items match"
        in client.get(reverse("actions:list"), {"overdue": "on"}).content.decode()
    )


def test_list_paginates(client, user, settings):
    settings.PAGE_SIZE = 5
    ActionItemFactory.create_batch(12)
    client.force_login(user)
    page = client.get(reverse("actions:list"), {"page": 3}).context["page"]
    assert page.number == 3 and len(page.object_list) == 2


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
@pytest.mark.parametrize("view", ["actions:list", "actions:mine", "actions:team"])
def test_list_query_count_does_not_grow(client, user, django_assert_max_num_queries, view, private):
    team = TeamFactory()
    team.members.add(user)
    team.managers.add(user)
    counts = []
    for rows in (5, 50):
        ActionItemFactory.create_batch(
            rows - (sum([5, 50][: len(counts)])),
            owner=user,
            postmortem__incident__team=team,
            postmortem__incident__private=private,
            postmortem__incident__members=[user] if private else [],
        )
        client.force_login(user)
        client.get(reverse(view))
        with django_assert_max_num_queries(10) as captured:
            response = client.get(reverse(view))
        assert len(response.context["page"].object_list) == rows
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_detail_query_count_does_not_grow_with_history(client, user, django_assert_max_num_queries):
    from actions import services

    counts = []
    for changes in (2, 20):
        item = ActionItemFactory(owner=user)
        for n in range(changes):
            by = UserFactory()  # a different person each time, as the history shows names
            item.postmortem.incident.team.members.add(by)
            services.change_due_date(
                item=item, due_on=item.due_on + timedelta(days=1), reason=f"r{n}", by=by
            )
        client.force_login(user)
        client.get(item.get_absolute_url())
        with django_assert_max_num_queries(14) as captured:
            assert client.get(item.get_absolute_url()).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_item_form_shows_quality_hints(client, user):
    postmortem = PostmortemFactory(author=user)
    client.force_login(user)
    url = reverse("actions:create", args=[postmortem.incident.number])
    response = client.post(url, {"title": "Improve monitoring", "priority": "1"})
    body = response.content.decode()
    assert response.status_code == 422
    assert "Before you save" in body and "cannot be finished" in body


def test_the_status_form_works_without_javascript_under_csrf_checks(user):
    """No htmx: the row's own form posts with its token and the change is made."""
    item = ActionItemFactory(owner=user, title="Rotate the signing key")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    page = browser.get(reverse("actions:mine")).content.decode()
    form = page[page.index(f'action="{reverse("actions:status", args=[item.pk])}"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form[: form.index("</form>")])
    assert token, "the status form carries no CSRF token"
    response = browser.post(
        reverse("actions:status", args=[item.pk]),
        {"csrfmiddlewaretoken": token.group(1), "context": "row", "status": "in_progress"},
    )
    assert response.status_code in (200, 302)
    item.refresh_from_db()
    assert item.status == "in_progress"


def test_every_filter_has_a_label_people_read(client, user):
    client.force_login(user)
    page = client.get(reverse("actions:list")).content.decode()
    labels = re.findall(r"<label[^>]*>([^<]+)</label>", page)
    assert "Team" in [label.strip().rstrip(":") for label in labels]
    assert "Service" in [label.strip().rstrip(":") for label in labels]
    assert "[invalid name]" not in page and "Postmortem incident team" not in page


def test_mine_shows_what_is_still_to_do_until_asked_for_finished_items(client, user):
    todo = ActionItemFactory(owner=user, status="open")
    blocked = ActionItemFactory(owner=user, status="blocked", reason="Vendor")
    done = ActionItemFactory(owner=user, status="done", completed_at=timezone.now())
    client.force_login(user)
    response = client.get(reverse("actions:mine"))
    assert sorted(_ids(response)) == sorted([todo.pk, blocked.pk])
    page = response.content.decode()
    assert "Show finished items too" in page
    assert re.search(r'value="open"[^>]*checked', page)
    assert not re.search(r'value="done"[^>]*checked', page)
    everything = client.get(reverse("actions:mine") + "?" + response.context["every_status"])
    assert done.pk in _ids(everything)
    # Any filter chosen by the person replaces the default.
    assert done.pk in _ids(client.get(reverse("actions:mine"), {"status": "done"}))


def test_bulk_status_change_from_the_list(client, user):
    team = TeamFactory()
    team.managers.add(user)
    items = ActionItemFactory.create_batch(2, postmortem__incident__team=team)
    client.force_login(user)
    page = client.get(reverse("actions:list")).content.decode()
    assert 'value="status"' in page and 'name="status"' in page
    response = client.post(
        reverse("actions:bulk"),
        {
            "action": "status",
            "status": "blocked",
            "items": [i.pk for i in items],
            "reason": "Waiting on the vendor's firmware",
            "next": reverse("actions:list"),
        },
    )
    assert response.status_code == 302
    for item in items:
        item.refresh_from_db()
        assert (item.status, item.reason) == ("blocked", "Waiting on the vendor's firmware")
        assert item.events.filter(kind="status", to_status="blocked").exists()


def test_a_refused_bulk_change_keeps_the_ticked_rows_and_what_was_typed(client, user):
    team = TeamFactory()
    team.managers.add(user)
    first, second, untouched = ActionItemFactory.create_batch(3, postmortem__incident__team=team)
    client.force_login(user)
    response = client.post(
        reverse("actions:bulk"),
        {
            "action": "due",
            "items": [first.pk, second.pk],
            "reason": "Quarter planning moved",
            "next": reverse("actions:list"),
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Nothing changed" in page and "Choose the new due date." in page
    for item in (first, second):
        assert re.search(rf'name="items" value="{item.pk}"[^>]*checked', page)
    assert not re.search(rf'name="items" value="{untouched.pk}"[^>]*checked', page)
    assert 'value="Quarter planning moved"' in page
    assert re.search(r'<option value="due" selected', page)
    # Shown once: the next visit is a fresh list.
    again = client.get(reverse("actions:list")).content.decode()
    assert not re.search(r'name="items" value="\d+"[^>]*checked', again)


def test_quality_hints_answer_what_is_typed_before_saving(client, user):
    TeamFactory(name="Payments")
    client.force_login(user)
    url = reverse("actions:hints")
    vague = client.post(url, {"title": "Improve monitoring", "owner": "Payments"})
    text = vague.content.decode()
    assert "Say what will exist when this is done" in text
    assert "Name one person as owner" in text
    assert "Set a due date" in text and "Link a ticket" in text
    # Prefixed forms (the editor's panel) are read the same way.
    good = client.post(
        url,
        {
            "item-7-title": "Add an alert on checkout 5xx rate above 2% for 5 minutes",
            "item-7-owner": user.username,
            "item-7-due_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
            "item-7-ticket_key": "SRE-412",
        },
    )
    assert "Before you save" not in good.content.decode()
    assert client.post(url, {}).content.decode().strip() == ""
    assert client.get(url).status_code == 405
