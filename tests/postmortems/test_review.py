import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from outbox.tasks import send_email
from postmortems import services
from postmortems.models import Approval, Postmortem, ReviewInvitation

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    TimelineEventFactory,
    UserFactory,
    on_team,
)

pytestmark = pytest.mark.django_db


def _complete(pm):
    pm.summary, pm.impact = "Checkout failed for 42 minutes.", "4,100 failed requests"
    pm.save()
    TimelineEventFactory(incident=pm.incident)
    ContributingFactorFactory(postmortem=pm)
    ActionItemFactory(postmortem=pm)
    return pm


def _approved(pm, by, count=2):
    """Sent for review to `count` reviewers, each of whom approves the text as it is."""
    reviewers = UserFactory.create_batch(count)
    services.request_review(postmortem=pm, reviewers=reviewers, by=by)
    for reviewer in reviewers:
        services.approve_postmortem(postmortem=pm, by=reviewer)
    return reviewers


def test_sending_for_review_emails_each_reviewer_after_commit(
    client, user, other_user, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    pm = PostmortemFactory(author=user)
    queued = []
    monkeypatch.setattr(send_email, "delay", queued.append)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("postmortems:review", args=[pm.incident.number]),
            {"reviewers": [other_user.pk]},
        )
    assert response.status_code == 302 and len(callbacks) == 1
    assert len(queued) == 1 and mailoutbox == []  # nothing is sent before the commit
    assert send_email(queued[0]) is True
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.IN_REVIEW and pm.review_started_at
    assert [m.to for m in mailoutbox] == [[other_user.email]]
    assert pm.incident.reference in mailoutbox[0].subject
    assert f"/postmortems/{pm.incident.number}/" in mailoutbox[0].body
    # A rerun of the task sends nothing more.
    assert send_email(queued[0]) is False
    assert len(mailoutbox) == 1


def test_nothing_is_emailed_when_the_request_fails(
    client, user, django_capture_on_commit_callbacks, mailoutbox
):
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("postmortems:review", args=[pm.incident.number]), {})
    assert response.status_code == 302 and callbacks == [] and mailoutbox == []
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Choose at least one reviewer."]
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.DRAFT


def test_a_reviewer_who_cannot_see_a_private_incident_is_refused(user, other_user):
    pm = PostmortemFactory(incident=IncidentFactory(private=True, members=[user], commander=user))
    with pytest.raises(services.ValidationError, match="cannot see this private incident"):
        services.request_review(postmortem=pm, reviewers=[other_user], by=user)
    assert not ReviewInvitation.objects.exists()


def test_an_approval_records_the_exact_revisions_and_shows_later_changes(client, user, other_user):
    pm = _complete(PostmortemFactory(author=user, incident=on_team(IncidentFactory(), other_user)))
    services.save_section(postmortem=pm, section="summary", text="v1", base=0, by=user)
    services.request_review(postmortem=pm, reviewers=[other_user], by=user)
    client.force_login(other_user)
    response = client.post(reverse("postmortems:approve", args=[pm.incident.number]))
    assert response.status_code == 302
    approval = Approval.objects.get()
    assert approval.reviewer == other_user
    assert approval.revisions["summary"] == 1 and approval.revisions["impact"] == 0
    services.save_section(postmortem=pm, section="impact", text="more", base=0, by=user)
    name = other_user.get_full_name()
    for url in [reverse("postmortems:edit", args=[pm.incident.number]), pm.get_absolute_url()]:
        body = client.get(url).content.decode()
        assert f"Approved by {name} on" in body and "the text has changed since" in body
        assert "(Impact;" in body and "0 of 2 approvals" in body


def test_only_reviewers_can_approve(client, user):
    pm = PostmortemFactory(author=user)
    reviewer = UserFactory()
    services.request_review(postmortem=pm, reviewers=[reviewer], by=user)
    client.force_login(user)
    response = client.post(reverse("postmortems:approve", args=[pm.incident.number]))
    assert response.status_code == 403
    assert not Approval.objects.exists()


def test_publishing_is_refused_with_what_is_missing(client, user, other_user):
    pm = PostmortemFactory(author=user, summary="", impact="")
    services.request_review(postmortem=pm, reviewers=[other_user], by=user)
    client.force_login(user)
    response = client.post(reverse("postmortems:publish", args=[pm.incident.number]), follow=True)
    body = response.content.decode()
    assert response.status_code == 422  # the editor again, with what is missing
    for text in [
        "Write the summary.",
        "Describe the impact",
        "timeline event",
        "factor",
        "0 of 2 approvals",
    ]:
        assert text in body, text
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.IN_REVIEW


def test_a_team_manager_publishing_with_an_override_reason_records_it(client, user, other_user):
    pm = PostmortemFactory(author=other_user, summary="", impact="")
    pm.incident.team.managers.add(user)
    services.request_review(postmortem=pm, reviewers=[UserFactory()], by=other_user)
    client.force_login(user)
    reason = "Security incident: details stay in the private tracker."
    response = client.post(
        reverse("postmortems:publish", args=[pm.incident.number]), {"override_reason": reason}
    )
    assert response.status_code == 302
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.PUBLISHED
    assert (pm.publish_override_reason, pm.published_by) == (reason, user)
    assert reason in client.get(pm.get_absolute_url()).content.decode()


def test_a_complete_postmortem_publishes_without_override(client, user, other_user):
    pm = _complete(PostmortemFactory(author=user))
    _approved(pm, user)
    client.force_login(user)
    client.post(reverse("postmortems:publish", args=[pm.incident.number]))
    pm.refresh_from_db()
    assert pm.is_published and pm.publish_override_reason == ""


def test_a_draft_cannot_be_published_and_only_author_or_commander_publish(user, other_user):
    pm = _complete(PostmortemFactory(author=user))
    with pytest.raises(services.ValidationError, match="for review"):
        services.publish_postmortem(postmortem=pm, by=user)
    _approved(pm, user)
    with pytest.raises(PermissionDenied, match="authors, the incident commander"):
        services.publish_postmortem(postmortem=pm, by=other_user)


def test_editing_after_publishing_is_marked_in_history(client, user, other_user):
    pm = _complete(PostmortemFactory(author=user))
    _approved(pm, user)
    services.publish_postmortem(postmortem=pm, by=user)
    services.save_section(postmortem=pm, section="lessons", text="Late fix", base=0, by=user)
    client.force_login(user)
    body = client.get(reverse("postmortems:history", args=[pm.incident.number])).content.decode()
    assert "after publishing" in body


def test_comments_per_section(client, user):
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    client.force_login(user)
    url = reverse("postmortems:comment", args=[pm.incident.number])
    response = client.post(url, {"section": "impact", "text": "Which regions?"})
    assert response["Location"].endswith("#s-impact")
    assert pm.comments.get().section == "impact"
    body = client.get(reverse("postmortems:edit", args=[pm.incident.number])).content.decode()
    assert "Which regions?" in body
    client.post(url, {"section": "impact", "text": "  "})
    assert pm.comments.count() == 1


@pytest.mark.parametrize("name", ["review", "approve", "publish", "comment"])
def test_non_members_cannot_use_the_review_workflow_of_a_private_postmortem(
    client, user, other_user, name
):
    pm = PostmortemFactory(incident=IncidentFactory(private=True, members=[other_user]))
    client.force_login(user)
    data = {"reviewers": [user.pk], "section": "summary", "text": "hi", "override_reason": "x"}
    response = client.post(reverse(f"postmortems:{name}", args=[pm.incident.number]), data)
    assert response.status_code == 404
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.DRAFT and not pm.comments.exists()
