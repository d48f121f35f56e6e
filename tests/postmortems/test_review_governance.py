"""Review governance: who writes, who reviews, what publishing needs, and reopening.

Each group answers one finding of issue 9: authors approved their own postmortem; publishing
"with a reason" needed no approval and no role; a published postmortem went back to review by
a direct POST; starting one made the commander its author and locked the starter out of
publishing.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions.markdown import import_into_incident, parse_postmortem_markdown
from config.settings import env_approvals
from incidents import permissions
from incidents.models import Profile
from outbox.models import Dispatch
from postmortems import services
from postmortems.approvals import approval_state, required_approvals
from postmortems.models import Approval, Postmortem, ReviewInvitation

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
)
from ..outbox.support import send_pending

pytestmark = pytest.mark.django_db


def _complete(pm):
    pm.summary, pm.impact = "Checkout failed for 42 minutes.", "4,100 failed requests"
    pm.save()
    TimelineEventFactory(incident=pm.incident)
    ContributingFactorFactory(postmortem=pm)
    ActionItemFactory(postmortem=pm)
    return pm


def _in_review(pm, count=2):
    reviewers = UserFactory.create_batch(count)
    services.request_review(postmortem=pm, reviewers=reviewers, by=pm.author)
    return reviewers


def _approve_all(pm, reviewers):
    for reviewer in reviewers:
        services.approve_postmortem(postmortem=pm, by=reviewer)


def _published(pm):
    reviewers = _in_review(_complete(pm))
    _approve_all(pm, reviewers)
    services.publish_postmortem(postmortem=pm, by=pm.author)
    pm.refresh_from_db()
    return reviewers


def _read_only(user):
    Profile.objects.filter(user=user).update(read_only=True)
    return get_user_model().objects.get(pk=user.pk)


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


# --- Finding: the author approved their own postmortem ---------------------------------------


def test_the_author_cannot_be_named_a_reviewer(client, user):
    pm = PostmortemFactory(author=user)
    client.force_login(user)
    response = client.post(
        reverse("postmortems:review", args=[pm.incident.number]), {"reviewers": "alice"}
    )
    assert response.status_code == 302
    assert "alice is an author of this postmortem" in " ".join(_messages(response))
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.DRAFT and not pm.reviewers.exists()
    assert not ReviewInvitation.objects.exists()


def test_a_co_author_cannot_be_named_a_reviewer(user, other_user):
    pm = PostmortemFactory(author=user)
    pm.co_authors.add(other_user)
    with pytest.raises(services.ValidationError, match="bob is an author"):
        services.request_review(postmortem=pm, reviewers=[other_user, UserFactory()], by=user)


def test_an_author_named_reviewer_earlier_cannot_approve_and_does_not_count(user):
    pm = _complete(PostmortemFactory(author=user))
    reviewer = _in_review(pm, 1)[0]
    pm.reviewers.add(user)  # as an old postmortem might have it
    with pytest.raises(PermissionDenied, match="never its authors"):
        services.approve_postmortem(postmortem=pm, by=user)
    services.approve_postmortem(postmortem=pm, by=reviewer)
    state = approval_state(pm)
    assert [r.user for r in state.reviewers] == [reviewer]
    assert state.summary == "1 of 2 approvals"


def test_a_reviewer_made_co_author_is_dropped_from_the_reviewers(client, user, other_user):
    pm = PostmortemFactory(author=user)
    services.request_review(postmortem=pm, reviewers=[other_user], by=user)
    client.force_login(user)
    response = client.post(
        reverse("postmortems:authors", args=[pm.incident.number]),
        {"author": "alice", "co_authors": "bob"},
    )
    assert response.status_code == 302
    assert "Bob Reyes no longer reviews" in " ".join(_messages(response))
    assert list(pm.co_authors.all()) == [other_user] and not pm.reviewers.exists()
    pm = Postmortem.objects.get(pk=pm.pk)
    assert not permissions.can(other_user, "approve", pm)


def test_only_assigned_reviewers_approve_not_admins_or_commanders(admin_user, user):
    incident = IncidentFactory(commander=UserFactory())
    pm = PostmortemFactory(incident=incident, author=user)
    _in_review(pm, 1)
    for person in [admin_user, incident.commander, UserFactory()]:
        with pytest.raises(PermissionDenied):
            services.approve_postmortem(postmortem=pm, by=person)
    assert not Approval.objects.exists()


# --- Approving from the page the review email links to ----------------------------------------


def test_the_review_email_links_to_the_document_where_the_reviewer_approves(
    client, user, other_user, mailoutbox
):
    pm = _complete(PostmortemFactory(author=user))
    services.request_review(postmortem=pm, reviewers=[other_user], by=user)
    send_pending(Dispatch.Kind.REVIEW_INVITATION)
    [email] = mailoutbox
    url = reverse("postmortems:detail", args=[pm.incident.number])
    assert f"{url}#review" in email.body and "/edit/" not in email.body
    client.force_login(other_user)
    page = client.get(url).content.decode()
    assert reverse("postmortems:approve", args=[pm.incident.number]) in page
    assert ">Request changes</button>" in page and "0 of 2 approvals" in page
    response = client.post(
        reverse("postmortems:approve", args=[pm.incident.number]), {"back": "document"}
    )
    assert response["Location"] == f"{url}#review"
    page = client.get(url).content.decode()
    assert "1 of 2 approvals" in page and "Approved by Bob Reyes" in page
    assert "version" not in " ".join(_messages(response))


def test_the_document_offers_no_approval_to_people_who_are_not_reviewers(client, user):
    pm = PostmortemFactory(author=user)
    _in_review(pm, 1)
    client.force_login(user)
    page = client.get(pm.get_absolute_url()).content.decode()
    assert reverse("postmortems:approve", args=[pm.incident.number]) not in page


def test_requesting_changes_needs_a_note_keeps_it_and_withdraws_the_approval(client, user):
    pm = _complete(PostmortemFactory(author=user))
    reviewer = _in_review(pm, 1)[0]
    services.approve_postmortem(postmortem=pm, by=reviewer)
    assert approval_state(pm).count == 1
    client.force_login(reviewer)
    url = reverse("postmortems:request-changes", args=[pm.incident.number])
    response = client.post(url, {"text": "   ", "back": "document"})
    assert response.status_code == 422 and "Say what should change" in response.content.decode()
    response = client.post(url, {"text": "Name the alert that fired.", "back": "document"})
    assert response.status_code == 302
    state = approval_state(pm)
    assert state.count == 0 and state.reviewers[0].asking_for_changes
    page = client.get(pm.get_absolute_url()).content.decode()
    assert "asked for changes" in page and "Name the alert that fired." in page


def test_a_stale_approval_is_named_in_plain_words(client, user):
    pm = _complete(PostmortemFactory(author=user))
    reviewer = UserFactory(first_name="Ana", last_name="Silva")
    services.request_review(postmortem=pm, reviewers=[reviewer], by=user)
    services.approve_postmortem(postmortem=pm, by=reviewer)
    services.save_section(postmortem=pm, section="impact", text="5,000 failed", base=0, by=user)
    client.force_login(user)
    page = client.get(pm.get_absolute_url()).content.decode()
    assert "Approved by Ana Silva on" in page and "— the text has changed since" in page
    assert "Approved version" not in page


# --- Finding: publishing "with a reason" needed no approval and no role ------------------------


def test_publishing_needs_two_approvals_of_the_current_text_for_a_sev2(user):
    pm = _complete(PostmortemFactory(author=user, incident__severity=2))
    first, second = _in_review(pm)
    services.approve_postmortem(postmortem=pm, by=first)
    with pytest.raises(services.ValidationError, match="1 of 2 approvals"):
        services.publish_postmortem(postmortem=pm, by=user)
    services.approve_postmortem(postmortem=pm, by=second)
    services.save_section(postmortem=pm, section="lessons", text="Canary first", base=0, by=user)
    with pytest.raises(services.ValidationError, match="0 of 2 approvals"):
        services.publish_postmortem(postmortem=pm, by=user)  # both approved older text
    _approve_all(pm, [first, second])
    assert services.publish_postmortem(postmortem=pm, by=user).is_published


def test_a_sev3_needs_one_approval(user):
    pm = _complete(PostmortemFactory(author=user, incident__severity=3))
    [reviewer] = _in_review(pm, 1)
    with pytest.raises(services.ValidationError, match="0 of 1 approval"):
        services.publish_postmortem(postmortem=pm, by=user)
    services.approve_postmortem(postmortem=pm, by=reviewer)
    assert services.publish_postmortem(postmortem=pm, by=user).is_published


def test_the_required_approvals_come_from_the_environment(monkeypatch, settings, user):
    monkeypatch.setenv("DEBRIEF_REQUIRED_APPROVALS", "SEV1=3, sev3=0")
    assert env_approvals("DEBRIEF_REQUIRED_APPROVALS") == {1: 3, 2: 2, 3: 0}
    monkeypatch.setenv("DEBRIEF_REQUIRED_APPROVALS", "SEV1:3")
    with pytest.raises(ImproperlyConfigured, match="SEV1=2,SEV2=2,SEV3=1"):
        env_approvals("DEBRIEF_REQUIRED_APPROVALS")
    settings.DEBRIEF_REQUIRED_APPROVALS = {2: 1}
    assert (required_approvals(1), required_approvals(2), required_approvals(4)) == (2, 1, 1)
    pm = _complete(PostmortemFactory(author=user, incident__severity=2))
    [reviewer] = _in_review(pm, 1)
    services.approve_postmortem(postmortem=pm, by=reviewer)
    assert services.publish_postmortem(postmortem=pm, by=user).is_published


def test_an_author_giving_a_reason_is_refused_and_their_reason_kept(client, user):
    pm = _complete(PostmortemFactory(author=user))
    _in_review(pm)
    client.force_login(user)
    url = reverse("postmortems:publish", args=[pm.incident.number])
    page = client.post(url)
    assert page.status_code == 422
    assert "A manager of the incident&#x27;s team or an admin can publish anyway" in (
        page.content.decode()
    )
    response = client.post(url, {"override_reason": "The customer call is tomorrow."})
    assert response.status_code == 403
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.IN_REVIEW and pm.publish_override_reason == ""


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_a_team_manager_or_admin_overrides_with_a_recorded_reason(client, user, admin_user, who):
    pm = _complete(PostmortemFactory(author=user))
    _in_review(pm)
    person = admin_user
    if who == "manager":
        person = UserFactory()
        pm.incident.team.managers.add(person)
    client.force_login(person)
    url = reverse("postmortems:publish", args=[pm.incident.number])
    page = client.post(url, {"override_reason": "  "})
    assert page.status_code == 422 and "Or give a reason to publish anyway" in page.content.decode()
    reason = "Legal asked for it before the reviewers are back."
    assert client.post(url, {"override_reason": reason}).status_code == 302
    pm.refresh_from_db()
    assert pm.is_published and (pm.published_by, pm.publish_override_reason) == (person, reason)
    page = client.get(pm.get_absolute_url()).content.decode()
    assert "Published without every requirement met by" in page and reason in page


def test_a_manager_of_another_team_cannot_override(user):
    pm = _complete(PostmortemFactory(author=user))
    _in_review(pm)
    stranger = UserFactory()
    TeamFactory().managers.add(stranger)
    with pytest.raises(PermissionDenied):
        services.publish_postmortem(postmortem=pm, by=stranger, override_reason="Because.")
    assert not permissions.can(stranger, "publish_override", pm)


def test_the_commander_and_the_teams_managers_publish_once_approved(user):
    commander, manager = UserFactory(), UserFactory()
    pm = _complete(PostmortemFactory(author=user, incident__commander=commander))
    pm.incident.team.managers.add(manager)
    assert permissions.can(commander, "publish", pm) and permissions.can(manager, "publish", pm)
    assert not permissions.can(commander, "publish_override", pm)
    _approve_all(pm, _in_review(pm))
    assert services.publish_postmortem(postmortem=pm, by=commander).is_published


def test_a_read_only_viewer_never_publishes_overrides_approves_or_reopens(user):
    viewer = UserFactory()
    pm = _complete(PostmortemFactory(author=user, incident__commander=viewer))
    pm.incident.team.managers.add(viewer)
    pm.reviewers.add(viewer)
    viewer = _read_only(viewer)
    for action in ["publish", "publish_override", "approve", "reopen", "change_authors"]:
        assert not permissions.can(viewer, action, pm), action
    with pytest.raises(services.ValidationError, match="read-only access"):
        services.request_review(postmortem=pm, reviewers=[viewer], by=user)


# --- Finding: a published postmortem went back to review by a direct POST ---------------------


def test_a_direct_review_request_on_a_published_postmortem_is_refused(client, user):
    pm = PostmortemFactory(author=user)
    reviewers = _published(pm)
    invitations = ReviewInvitation.objects.count()
    client.force_login(user)
    response = client.post(
        reverse("postmortems:review", args=[pm.incident.number]),
        {"reviewers": reviewers[0].username},
    )
    assert response.status_code == 409
    assert "reopen it with a reason" in response.content.decode()
    pm.refresh_from_db()
    assert pm.is_published and ReviewInvitation.objects.count() == invitations


def test_reopening_makes_a_new_version_voids_approvals_and_emails_the_reviewers_why(
    client, user, django_capture_on_commit_callbacks, mailoutbox
):
    pm = PostmortemFactory(author=user)
    reviewers = _published(pm)
    version = pm.version
    mailoutbox.clear()
    client.force_login(user)
    url = reverse("postmortems:reopen", args=[pm.incident.number])
    response = client.post(url, {"reason": " ", "to_status": "in_review"})
    assert response.status_code == 422
    pm.refresh_from_db()
    assert pm.is_published
    reason = "The root cause was the cache, not the deploy."
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": reason, "to_status": "in_review"})
    assert response.status_code == 302
    pm.refresh_from_db()
    assert (pm.status, pm.version, pm.published_at) == ("in_review", version + 1, None)
    reopening = pm.reopenings.get()
    assert (reopening.by, reopening.reason, reopening.version) == (user, reason, version + 1)
    assert send_pending(Dispatch.Kind.REVIEW_REOPENED) == 2
    assert send_pending(Dispatch.Kind.REVIEW_REOPENED) == 0  # once per reviewer and reopening
    assert sorted(m.to[0] for m in mailoutbox) == sorted(r.email for r in reviewers)
    assert reason in mailoutbox[0].body and pm.incident.reference in mailoutbox[0].subject
    state = approval_state(pm)
    assert state.count == 0 and all(r.before_reopening for r in state.reviewers)
    with pytest.raises(services.ValidationError, match="0 of 2 approvals"):
        services.publish_postmortem(postmortem=pm, by=user)
    page = client.get(pm.get_absolute_url()).content.decode()
    assert reason in page and "before the postmortem was reopened" in page
    _approve_all(pm, reviewers)
    assert services.publish_postmortem(postmortem=pm, by=user).is_published


def test_reopening_to_draft(user):
    pm = PostmortemFactory(author=user)
    _published(pm)
    services.reopen_postmortem(postmortem=pm, by=user, reason="More writing.", to_status="draft")
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.DRAFT


def test_only_authors_the_commander_managers_and_admins_reopen(user, admin_user):
    commander, manager = UserFactory(), UserFactory()
    pm = PostmortemFactory(author=user, incident__commander=commander)
    pm.incident.team.managers.add(manager)
    reviewers = _published(pm)
    member = UserFactory()
    pm.incident.team.members.add(member)
    for person in [member, reviewers[0], UserFactory()]:
        with pytest.raises(PermissionDenied, match="reopen"):
            services.reopen_postmortem(postmortem=pm, by=person, reason="Why not.")
    for person in [user, commander, manager, admin_user]:
        assert permissions.can(person, "reopen", pm)


def test_only_a_published_postmortem_is_reopened(user):
    pm = PostmortemFactory(author=user)
    with pytest.raises(services.ValidationError, match="Only a published postmortem"):
        services.reopen_postmortem(postmortem=pm, by=user, reason="Why not.")


# --- Finding: starting made the commander the author; the starter could not publish ----------


@pytest.mark.usefixtures("in_every_team")
def test_whoever_starts_a_postmortem_leads_it_by_default_and_may_publish(client, user):
    commander = UserFactory()
    incident = IncidentFactory(commander=commander)
    client.force_login(user)
    page = client.get(reverse("postmortems:start", args=[incident.number]))
    assert page.status_code == 200 and 'value="alice"' in page.content.decode()
    response = client.post(reverse("postmortems:start", args=[incident.number]))
    assert response.status_code == 302
    pm = Postmortem.objects.get(incident=incident)
    assert pm.author == user
    _approve_all(pm, _in_review(_complete(pm)))
    assert services.publish_postmortem(postmortem=pm, by=user).is_published


@pytest.mark.usefixtures("in_every_team")
def test_the_start_form_names_a_lead_author_and_co_authors(client, user, other_user):
    incident = IncidentFactory()
    carol = UserFactory(username="carol")
    client.force_login(user)
    response = client.post(
        reverse("postmortems:start", args=[incident.number]),
        {"author": "bob", "co_authors": "carol, alice"},
    )
    assert response.status_code == 302
    pm = Postmortem.objects.get(incident=incident)
    assert pm.author == other_user and pm.author_ids() == {other_user.pk, carol.pk, user.pk}


@pytest.mark.usefixtures("in_every_team")
def test_an_unknown_author_starts_nothing_and_keeps_what_was_typed(client, user):
    incident = IncidentFactory()
    client.force_login(user)
    response = client.post(
        reverse("postmortems:start", args=[incident.number]),
        {"author": "nobody-here", "co_authors": "alice"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "nobody-here" in body and "No active user" in body
    assert not Postmortem.objects.filter(incident=incident).exists()


def test_an_author_who_cannot_see_a_private_incident_is_refused(client, user, other_user):
    incident = IncidentFactory(private=True, members=[user], commander=user)
    client.force_login(user)
    response = client.post(reverse("postmortems:start", args=[incident.number]), {"author": "bob"})
    assert response.status_code == 422 and "cannot see this private incident" in (
        response.content.decode()
    )
    assert not Postmortem.objects.filter(incident=incident).exists()


def test_existing_postmortems_keep_their_author(client, user, other_user):
    pm = PostmortemFactory(author=other_user)
    client.force_login(user)
    client.post(reverse("postmortems:start", args=[pm.incident.number]))
    pm.refresh_from_db()
    assert pm.author == other_user


def test_editors_change_the_lead_author_and_a_bad_name_keeps_the_form(client, user, other_user):
    pm = PostmortemFactory(author=user)
    client.force_login(user)
    url = reverse("postmortems:authors", args=[pm.incident.number])
    response = client.post(url, {"author": "no-such-person", "co_authors": "bob"})
    assert response.status_code == 422 and 'value="no-such-person"' in response.content.decode()
    assert client.post(url, {"author": "bob"}).status_code == 302
    pm.refresh_from_db()
    assert pm.author == other_user and not pm.co_authors.exists()
    body = client.get(pm.get_absolute_url()).content.decode()
    assert 'Bob Reyes <span class="muted small">(lead)</span>' in body


# --- Routes: outsiders and queries --------------------------------------------------------------


def test_a_non_member_gets_404_on_the_start_page_of_a_private_incident(client, user):
    incident = IncidentFactory(private=True, members=[UserFactory()])
    client.force_login(user)
    assert client.get(reverse("postmortems:start", args=[incident.number])).status_code == 404


def test_anonymous_people_are_sent_to_sign_in_on_every_new_route(client, user):
    pm = PostmortemFactory(author=user)
    n = pm.incident.number
    for name in ["authors", "request-changes", "reopen"]:
        response = client.post(reverse(f"postmortems:{name}", args=[n]), {"reason": "x"})
        assert response.status_code == 302 and "/login" in response["Location"], name
    response = client.get(reverse("postmortems:start", args=[n]))
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize("name", ["authors", "request-changes", "reopen"])
def test_new_review_routes_take_post_only(client, user, name):
    pm = PostmortemFactory(author=user)
    client.force_login(user)
    assert client.get(reverse(f"postmortems:{name}", args=[pm.incident.number])).status_code == 405


def test_the_document_reads_the_review_in_the_same_queries_however_many_reviewers(client, user):
    def queries(count):
        pm = _complete(PostmortemFactory(author=user))
        reviewers = _in_review(pm, count)
        _approve_all(pm, reviewers)
        services.request_changes(postmortem=pm, by=reviewers[0], text="Fix the timeline.")
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(pm.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    assert queries(2) == queries(6)


# --- A Markdown import is no way around the review ----------------------------------------------


def _import(incident, text, by, force=True):
    users = get_user_model().objects.all()
    result = parse_postmortem_markdown(text, users=users)
    return import_into_incident(result, incident=incident, user=by, by=by, force=force)


@pytest.mark.usefixtures("in_every_team")
def test_an_import_never_reopens_or_publishes_an_existing_postmortem(user):
    pm = PostmortemFactory(author=user)
    _published(pm)
    _import(pm.incident, "# T\n\n**Status:** Draft\n\n## Summary\n\nRewritten.\n", user)
    pm.refresh_from_db()
    assert pm.is_published and pm.summary == "Rewritten."
    other = PostmortemFactory(author=user)
    _in_review(other)
    _import(other.incident, "# T\n\n**Status:** Published\n\n## Summary\n\nDone.\n", user)
    other.refresh_from_db()
    assert other.status == Postmortem.Status.IN_REVIEW


def test_an_imported_published_document_waits_for_review_unless_a_manager_imports_it(user):
    text = "# T\n\n**Status:** Published\n**Reviewers:** @alice, @bob\n\n## Summary\n\nOld.\n"
    other_user = UserFactory(username="bob")
    incident = IncidentFactory(commander=user)  # an editor, not a manager
    _import(incident, text, user, force=False)
    pm = Postmortem.objects.get(incident=incident)
    assert pm.status == Postmortem.Status.IN_REVIEW
    assert list(pm.reviewers.all()) == [other_user]  # alice leads it, so she does not review
    managed = IncidentFactory()
    manager = UserFactory()
    managed.team.managers.add(manager)
    _import(managed, text, manager, force=False)
    assert Postmortem.objects.get(incident=managed).is_published


# --- The review box reuses what the page read ----------------------------------------------


def _standing(state):
    return [
        (r.user.pk, r.approval and r.approval.pk, r.changes_requested and r.changes_requested.pk)
        + (r.changed, r.before_reopening, r.counts)
        for r in state.reviewers
    ] + [state.count, state.required, state.met]


@pytest.mark.parametrize("name", ["postmortems:detail", "postmortems:edit"])
def test_the_pages_review_box_is_the_approval_state_read_on_its_own(client, user, name):
    pm = _complete(PostmortemFactory(author=user))
    co_author = UserFactory()
    pm.co_authors.add(co_author)
    first, second, third = _in_review(pm, 3)
    pm.reviewers.add(co_author)  # named before becoming an author: never counts
    services.approve_postmortem(postmortem=pm, by=first)
    services.approve_postmortem(postmortem=pm, by=second)
    services.publish_postmortem(postmortem=pm, by=user)
    services.reopen_postmortem(postmortem=pm, by=user, reason="One more look.")
    pm.refresh_from_db()
    services.approve_postmortem(postmortem=pm, by=second)  # after the reopening: counts
    services.request_changes(postmortem=pm, by=third, text="Earlier ask.")
    services.request_changes(postmortem=pm, by=third, text="The newest ask.")
    services.save_section(
        postmortem=pm, section="impact", text="Impact, rewritten.", base=0, by=user
    )
    client.force_login(user)
    response = client.get(reverse(name, args=[pm.incident.number]))
    assert response.status_code == 200
    shown = response.context["approvals"]
    alone = approval_state(Postmortem.objects.get(pk=pm.pk))
    assert _standing(shown) == _standing(alone)
    standing = {r.user.pk: r for r in shown.reviewers}
    assert co_author.pk not in standing
    assert standing[first.pk].before_reopening and not standing[second.pk].before_reopening
    assert standing[third.pk].changes_requested.text == "The newest ask."
    assert standing[second.pk].changed == ["Impact"]
    if name == "postmortems:edit":  # the authors box, filled from the people read
        form = response.context["authors_form"]
        assert form["author"].value() == user.username
        assert form["co_authors"].value() == [co_author.username]
        body = response.content.decode()
        assert f'value="{user.username}"' in body and f'value="{co_author.username}"' in body
