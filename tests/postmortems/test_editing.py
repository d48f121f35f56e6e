import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import ActionItem
from postmortems import services
from postmortems.models import Postmortem, SectionRevision

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    TimelineEventFactory,
    UserFactory,
    on_team,
)
from ..races import REAL, race, report, run_together

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _save(client, pm, section, text, base, htmx=True):
    return client.post(
        reverse("postmortems:section", args=[pm.incident.number, section]),
        {"text": text, "base": base},
        headers=HTMX if htmx else {},
    )


def test_starting_a_postmortem_opens_the_editor_with_prompts_not_content(client, user):
    incident = IncidentFactory(commander=user)
    client.force_login(user)
    response = client.post(reverse("postmortems:start", args=[incident.number]))
    assert response.status_code == 302
    assert response["Location"] == reverse("postmortems:edit", args=[incident.number])
    postmortem = Postmortem.objects.get(incident=incident)
    assert postmortem.author == user
    assert postmortem.summary == "" and postmortem.status == Postmortem.Status.DRAFT
    body = client.get(response["Location"]).content.decode()
    assert f'placeholder="{Postmortem.PROMPTS["summary"]}"' in body
    assert "Start postmortem" not in body


def test_starting_twice_keeps_the_one_postmortem(client, user):
    pm = PostmortemFactory()
    client.force_login(user)
    client.post(reverse("postmortems:start", args=[pm.incident.number]))
    assert Postmortem.objects.filter(incident=pm.incident).count() == 1


def test_the_incident_page_offers_to_start_a_postmortem(client, user):
    incident = on_team(IncidentFactory(), user)
    client.force_login(user)
    body = client.get(incident.get_absolute_url()).content.decode()
    assert reverse("postmortems:start", args=[incident.number]) in body


def test_saving_a_section_records_a_revision_and_answers_with_its_state(client, user):
    pm = PostmortemFactory(summary="", incident=on_team(IncidentFactory(), user))
    client.force_login(user)
    response = _save(client, pm, "summary", "Checkout failed for **42 minutes**.", 0)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="base-summary"' in body and 'value="1"' in body
    assert "Saved at" in body and "version 1" in body
    # The time is one element with its UTC form on hover, not markup inside an attribute.
    assert not re.search(r'title="[^"]*<', body)
    editor = client.get(reverse("postmortems:edit", args=[pm.incident.number])).content.decode()
    assert "Saved at" in editor and not re.search(r'title="[^"]*<', editor)
    pm.refresh_from_db()
    assert pm.summary == "Checkout failed for **42 minutes**."
    assert pm.version == 2
    revision = pm.revisions.get()
    assert (revision.section, revision.number, revision.author) == ("summary", 1, user)


def test_a_second_save_on_the_same_base_is_refused_showing_both_texts(client, user, other_user):
    pm = PostmortemFactory(summary="", incident=on_team(IncidentFactory(), user, other_user))
    client.force_login(other_user)
    assert _save(client, pm, "summary", "Bob's summary", 0).status_code == 200
    client.force_login(user)
    response = _save(client, pm, "summary", "Alice's summary", 0)
    assert response.status_code == 422
    body = response.content.decode()
    assert "Bob&#x27;s summary" in body and "Alice&#x27;s summary" in body
    assert "Keep yours" in body and "Keep theirs" in body and "Save combined text" in body
    pm.refresh_from_db()
    assert pm.summary == "Bob's summary"
    assert pm.revisions.count() == 1
    # Keeping mine is a save on their revision as the new base.
    assert _save(client, pm, "summary", "Alice's summary", 1).status_code == 200
    pm.refresh_from_db()
    assert pm.summary == "Alice's summary"


def test_people_editing_different_sections_never_collide(client, user, other_user):
    pm = PostmortemFactory(summary="", incident=on_team(IncidentFactory(), user, other_user))
    client.force_login(user)
    assert _save(client, pm, "summary", "Summary text", 0).status_code == 200
    client.force_login(other_user)
    assert _save(client, pm, "impact", "4,100 failed checkouts", 0).status_code == 200
    pm.refresh_from_db()
    assert (pm.summary, pm.impact) == ("Summary text", "4,100 failed checkouts")


def test_saving_unchanged_text_records_nothing(client, user):
    pm = PostmortemFactory(summary="", incident=on_team(IncidentFactory(), user))
    client.force_login(user)
    _save(client, pm, "summary", "Same", 0)
    assert _save(client, pm, "summary", "Same", 1).status_code == 200
    assert pm.revisions.count() == 1


def test_without_javascript_a_save_redirects_and_a_conflict_is_409(client, user):
    pm = PostmortemFactory(summary="", incident=on_team(IncidentFactory(), user))
    client.force_login(user)
    response = _save(client, pm, "impact", "Numbers", 0, htmx=False)
    assert response.status_code == 302
    response = _save(client, pm, "impact", "Other numbers", 0, htmx=False)
    assert response.status_code == 409
    assert "Other numbers" in response.content.decode()


def test_a_tampered_form_is_refused(client, user):
    pm = PostmortemFactory(incident=on_team(IncidentFactory(), user))
    client.force_login(user)
    assert _save(client, pm, "summary", "x", "not-a-number").status_code == 422
    assert _save(client, pm, "nonsense", "x", 0).status_code == 404
    assert pm.revisions.count() == 0


@race
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_on_the_same_base_let_exactly_one_win(race_mode, capsys):
    writers = [UserFactory(), UserFactory()]
    pm = PostmortemFactory(summary="", incident=on_team(IncidentFactory(), *writers))
    authors = iter(writers)  # next() on it is atomic
    texts = iter(["text 0", "text 1"])

    def attempt():
        try:
            services.save_section(
                postmortem=Postmortem.objects.get(pk=pm.pk),
                section="summary",
                text=next(texts),
                base=0,
                by=next(authors),
            )
        except services.SectionConflict:
            return "conflict"
        return "saved"

    run = run_together(attempt)
    assert sorted(run.results) == ["conflict", "saved"]
    if not REAL:
        assert run.results == ["saved", "conflict"]  # the second turn saw the first's save
    assert SectionRevision.objects.filter(postmortem=pm).count() == 1
    pm.refresh_from_db()
    assert pm.summary == SectionRevision.objects.get(postmortem=pm).text
    report(capsys, f"two saves on one base: {run.results}; calls overlapped: {run.overlapped}")


def test_history_shows_who_changed_what_with_a_diff(client, user, other_user):
    pm = PostmortemFactory(summary="", incident=on_team(IncidentFactory(), user, other_user))
    client.force_login(user)
    _save(client, pm, "summary", "line one\nline two", 0)
    client.force_login(other_user)
    _save(client, pm, "summary", "line one\nline 2", 1)
    body = client.get(reverse("postmortems:history", args=[pm.incident.number])).content.decode()
    assert '<span class="diff-del">- line two</span>' in body
    assert '<span class="diff-add">+ line 2</span>' in body
    assert "Bob Reyes" in body and "Alice Ng" in body


def test_history_filters_by_section_and_has_an_empty_state(client, user):
    pm = PostmortemFactory(summary="")
    client.force_login(user)
    url = reverse("postmortems:history", args=[pm.incident.number])
    assert "No saved changes yet" in client.get(url).content.decode()
    _save(client, pm, "summary", "only summary", 0)
    body = client.get(url, {"section": "impact"}).content.decode()
    assert "No saved changes yet in this section" in body


def test_restoring_an_old_version_adds_a_revision(client, user):
    pm = PostmortemFactory(summary="", incident=on_team(IncidentFactory(), user))
    client.force_login(user)
    _save(client, pm, "summary", "first", 0)
    _save(client, pm, "summary", "second", 1)
    first = pm.revisions.get(number=1)
    response = client.post(reverse("postmortems:restore", args=[pm.incident.number, first.pk]))
    assert response.status_code == 302
    pm.refresh_from_db()
    assert pm.summary == "first"
    newest = pm.revisions.order_by("-number").first()
    assert (newest.number, newest.restored_from, newest.text) == (3, 1, "first")
    assert pm.revisions.count() == 3


def test_diff_lines_mark_additions_and_deletions():
    diff = services.diff_lines("a\nb\nc", "a\nB\nc\nd")
    assert [(d.kind, d.text) for d in diff] == [
        ("same", "a"),
        ("del", "b"),
        ("add", "B"),
        ("same", "c"),
        ("add", "d"),
    ]


@pytest.mark.parametrize(
    "name,method",
    [
        ("postmortems:detail", "get"),
        ("postmortems:edit", "get"),
        ("postmortems:history", "get"),
        ("postmortems:start", "post"),
    ],
)
def test_private_postmortems_are_404_for_non_members(client, user, other_user, name, method):
    pm = PostmortemFactory(
        incident=IncidentFactory(private=True, members=[other_user], commander=other_user)
    )
    client.force_login(user)
    url = reverse(name, args=[pm.incident.number])
    assert getattr(client, method)(url).status_code == 404
    client.force_login(other_user)
    assert getattr(client, method)(url).status_code in (200, 302)


def test_non_members_cannot_save_or_restore_a_private_section(client, user, other_user):
    secret = IncidentFactory(private=True, members=[other_user], commander=other_user)
    pm = PostmortemFactory(summary="", incident=secret)
    client.force_login(other_user)
    _save(client, pm, "summary", "secret", 0)
    revision = pm.revisions.get()
    client.force_login(user)
    assert _save(client, pm, "summary", "overwritten", 1).status_code == 404
    restore = reverse("postmortems:restore", args=[pm.incident.number, revision.pk])
    assert client.post(restore).status_code == 404
    pm.refresh_from_db()
    assert pm.summary == "secret" and pm.revisions.count() == 1


def test_pages_need_login(client):
    pm = PostmortemFactory()
    for name in ["postmortems:detail", "postmortems:edit", "postmortems:history"]:
        response = client.get(reverse(name, args=[pm.incident.number]))
        assert response.status_code == 302


def test_the_document_shows_header_timeline_factors_and_items(client, user):
    pm = PostmortemFactory(summary="Checkout failed.", impact="4,100 failed requests")
    TimelineEventFactory(incident=pm.incident, text="Deploy 4411 rolled out")
    ContributingFactorFactory(postmortem=pm, description="The loader accepted an empty list.")
    ActionItemFactory(postmortem=pm, title="Reject empty upstream lists", ticket_key="OPS-7")
    client.force_login(user)
    body = client.get(pm.get_absolute_url()).content.decode()
    for text in [
        pm.incident.reference,
        "Deploy 4411 rolled out",
        "The loader accepted an empty list.",
        "Reject empty upstream lists",
        "OPS-7",
        "detect 5 m",
        "resolve 2 h",
        "Print / PDF",
    ]:
        assert text in body, text


def test_related_private_incidents_stay_hidden_in_the_document(client, user):
    pm = PostmortemFactory()
    secret = IncidentFactory(title="Secret breach", private=True)
    public = IncidentFactory(title="Earlier cert expiry")
    pm.incident.related.add(secret, public)
    client.force_login(user)
    body = client.get(pm.get_absolute_url()).content.decode()
    assert "Earlier cert expiry" in body and "Secret breach" not in body


def _populate(pm, n):
    TimelineEventFactory.create_batch(n, incident=pm.incident)
    ActionItemFactory.create_batch(n, postmortem=pm)
    ContributingFactorFactory.create_batch(n, postmortem=pm)


@pytest.mark.parametrize("name", ["postmortems:detail", "postmortems:edit"])
def test_document_and_editor_queries_do_not_grow_with_rows(client, user, name):
    counts = []
    for n, days_ago in ((5, 10), (50, 20)):
        # The second incident is the earlier one, so neither run sees the other as a related
        # suggestion: both pages are measured with the same neighbours.
        start = timezone.now() - timedelta(days=days_ago)
        pm = PostmortemFactory(incident=on_team(IncidentFactory(started_at=start), user))
        _populate(pm, n)
        client.force_login(user)
        # The first render stores the wording checks of text not saved through the editor
        # (the factory's summary); measure a render that only reads them.
        client.get(reverse(name, args=[pm.incident.number]))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse(name, args=[pm.incident.number]))
        assert response.status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
    assert ActionItem.objects.count() == 55


def test_section_markdown_is_rendered_and_sanitised_in_document_and_preview(client, user):
    pm = PostmortemFactory(
        summary="**Bold** <script>alert(1)</script> [x](javascript:alert(2)) "
        '<img src=x onerror="alert(3)">',
        incident=on_team(IncidentFactory(), user),
    )
    client.force_login(user)
    document = client.get(pm.get_absolute_url()).content.decode()
    editor = client.get(reverse("postmortems:edit", args=[pm.incident.number])).content.decode()
    preview = editor.split('id="preview-summary"', 1)[1].split("</details>", 1)[0]
    for body in (document.split('id="doc-summary"', 1)[1], preview):
        assert "<strong>Bold</strong>" in body
        assert "<script>alert(1)" not in body
        assert "javascript:alert(2)" not in body
        assert "onerror" not in body


def test_the_document_formats_impact_numbers_and_gives_both_ends_of_the_incident(client, user):
    incident = IncidentFactory(
        requests_failed=45000,
        users_affected=1200,
        started_at=datetime(2026, 3, 26, 14, 2, tzinfo=UTC),
        resolved_at=datetime(2026, 3, 26, 16, 16, tzinfo=UTC),
    )
    pm = PostmortemFactory(incident=incident)
    client.force_login(user)
    body = client.get(pm.get_absolute_url()).content.decode()
    assert "45,000" in body and "1,200" in body
    assert "2026-03-26 14:02 UTC</time> – <time" in body


@pytest.mark.usefixtures("in_every_team")
def test_without_javascript_a_refused_section_save_keeps_the_typed_text(client, user):
    pm = PostmortemFactory(summary="")
    client.force_login(user)
    typed = "Checkout failed\x00 for EU customers."
    response = _save(client, pm, "summary", typed, 0, htmx=False)
    body = response.content.decode()
    assert response.status_code == 422
    assert "Checkout failed" in body and "for EU customers." in body
    assert "control character (U+0000)" in body
    assert pm.revisions.count() == 0


@pytest.mark.usefixtures("in_every_team")
def test_with_htmx_a_refused_section_save_says_why(client, user):
    pm = PostmortemFactory(summary="")
    client.force_login(user)
    response = _save(client, pm, "summary", "bell\x07", 0)
    assert response.status_code == 422
    assert "control character (U+0007)" in response.content.decode()
