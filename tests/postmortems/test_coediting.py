"""Drafting together: three-way merges of a section, presence in the editor, and sections that
someone else saved."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from postmortems import services
from postmortems.merging import Conflict, merge, tokens
from postmortems.models import EditorPresence, Postmortem

from ..factories import IncidentFactory, PostmortemFactory, UserFactory

HTMX = {"HX-Request": "true"}

BASE = (
    "Checkout failed for 42 minutes after a config push. About 4,100 requests failed.\n"
    "Only eu-west was affected."
)


# --- The merge ------------------------------------------------------------------------------


def test_tokens_give_the_text_back():
    text = 'One. Two!  Three? "Four." (Five.)\n\nSix\n'
    assert "".join(tokens(text)) == text
    assert "Two!" in tokens(text) and "\n" in tokens(text)


def test_edits_to_different_sentences_of_one_paragraph_merge():
    theirs = BASE.replace("About 4,100", "About 4,100 checkout")
    mine = BASE.replace("42 minutes", "40 minutes")
    result = merge(BASE, theirs, mine)
    assert result.clean
    assert result.text() == (
        "Checkout failed for 40 minutes after a config push. About 4,100 checkout requests "
        "failed.\nOnly eu-west was affected."
    )


def test_an_added_line_and_an_edited_line_merge_without_duplicating_anything():
    theirs = BASE + "\nRevenue estimate: $12,000."
    mine = BASE.replace("Only eu-west", "Only the eu-west region")
    text = merge(BASE, theirs, mine).text()
    assert text == (
        "Checkout failed for 42 minutes after a config push. About 4,100 requests failed.\n"
        "Only the eu-west region was affected.\nRevenue estimate: $12,000."
    )
    for sentence in ("Checkout failed", "About 4,100", "Revenue estimate"):
        assert text.count(sentence) == 1


def test_the_same_edit_on_both_sides_appears_once():
    both = BASE + " Payments were retried."
    result = merge(BASE, both, both)
    assert result.clean and result.text() == both


def test_edits_to_the_same_sentence_conflict_only_there():
    theirs = BASE.replace("42 minutes", "41 minutes")
    mine = BASE.replace("42 minutes", "40 minutes").replace("Only eu-west", "Only EU")
    result = merge(BASE, theirs, mine)
    assert not result.clean
    assert result.conflicts == [
        Conflict(
            base="Checkout failed for 42 minutes after a config push.",
            theirs="Checkout failed for 41 minutes after a config push.",
            mine="Checkout failed for 40 minutes after a config push.",
        )
    ]
    # Everything outside the conflict is merged: my other edit is in every resolution.
    assert result.text("theirs").startswith("Checkout failed for 41 minutes")
    assert result.text("theirs").endswith("Only EU was affected.")
    assert result.text("mine") == mine
    assert result.text("both").count("About 4,100 requests failed.") == 1


def test_two_different_first_drafts_conflict():
    result = merge("", "Alice: validate configs.", "Bob: canaries catch empty pools.")
    assert [c.both for c in result.conflicts] == [
        "Alice: validate configs.\nBob: canaries catch empty pools."
    ]


# --- Saving with a merge --------------------------------------------------------------------


def _save(client, pm, section, text, base):
    return client.post(
        reverse("postmortems:section", args=[pm.incident.number, section]),
        {"text": text, "base": base},
        headers=HTMX,
    )


@pytest.mark.usefixtures("in_every_team")
def test_a_save_on_an_old_base_merges_edits_to_other_sentences(client, user, other_user):
    pm = PostmortemFactory(summary="")
    services.save_section(postmortem=pm, section="summary", text=BASE, base=0, by=user)
    theirs = BASE.replace("About 4,100", "About 4,100 checkout")
    services.save_section(postmortem=pm, section="summary", text=theirs, base=1, by=other_user)
    client.force_login(user)
    response = _save(client, pm, "summary", BASE.replace("42 minutes", "40 minutes"), 1)
    assert response.status_code == 200
    body = response.content.decode()
    assert "merged-notice" in body and 'id="base-summary"' in body and 'value="3"' in body
    pm.refresh_from_db()
    assert pm.summary.count("About 4,100 checkout requests failed.") == 1
    assert "40 minutes" in pm.summary and "42 minutes" not in pm.summary
    newest = pm.revisions.order_by("-number").first()
    assert (newest.number, newest.author, newest.text) == (3, user, pm.summary)


@pytest.mark.usefixtures("in_every_team")
def test_a_save_editing_the_same_sentence_shows_only_that_conflict(client, user, other_user):
    pm = PostmortemFactory(summary="")
    services.save_section(postmortem=pm, section="summary", text=BASE, base=0, by=user)
    services.save_section(
        postmortem=pm, section="summary", text=BASE.replace("42", "41"), base=1, by=other_user
    )
    client.force_login(user)
    mine = BASE.replace("42", "40").replace("Only eu-west", "Only EU")
    response = _save(client, pm, "summary", mine, 1)
    assert response.status_code == 422
    body = response.content.decode()
    assert body.count('class="merge-conflict"') == 1
    assert "Bob Reyes saved this section" in body
    assert "Checkout failed for 41 minutes after a config push.</pre>" in body
    assert "Checkout failed for 40 minutes after a config push.</pre>" in body
    # The agreed parts carry my other edit, and nothing was saved.
    assert 'data-text=" About 4,100 requests failed.\nOnly EU was affected."' in body
    pm.refresh_from_db()
    assert pm.summary == BASE.replace("42", "41") and pm.revisions.count() == 2


@pytest.mark.usefixtures("in_every_team")
def test_text_written_before_any_revision_is_the_base_of_the_first_two_saves(
    client, user, other_user
):
    pm = PostmortemFactory(summary=BASE)  # like the demo data: no revision yet
    client.force_login(other_user)
    theirs = BASE.replace("About 4,100", "About 4,100 checkout")
    assert _save(client, pm, "summary", theirs, 0).status_code == 200
    client.force_login(user)
    assert _save(client, pm, "summary", BASE.replace("42", "40"), 0).status_code == 200
    pm.refresh_from_db()
    assert pm.summary == theirs.replace("42", "40")
    numbers = list(pm.revisions.filter(section="summary").order_by("number"))
    assert [(r.number, r.text) for r in numbers][0] == (0, BASE)
    assert [r.number for r in numbers] == [0, 1, 2]


# --- Presence -------------------------------------------------------------------------------


def _poll(client, pm, section=""):
    return client.post(
        reverse("postmortems:presence", args=[pm.incident.number]), {"section": section}
    )


def test_the_poll_says_who_else_is_here_and_in_which_section(client, user, other_user):
    pm = PostmortemFactory()
    client.force_login(user)
    assert _poll(client, pm, "impact").json()["people"] == []
    client.force_login(other_user)
    data = _poll(client, pm, "summary").json()
    assert data["people"] == [{"name": "Alice Ng", "section": "impact", "label": "Impact"}]
    assert data["numbers"] == dict.fromkeys(Postmortem.SECTION_FIELDS, 0)
    client.force_login(user)
    data = _poll(client, pm, "").json()
    assert data["people"] == [{"name": "Bob Reyes", "section": "summary", "label": "Summary"}]


@pytest.mark.usefixtures("in_every_team")
def test_the_poll_reports_each_sections_newest_revision(client, user):
    pm = PostmortemFactory(summary="")
    services.save_section(postmortem=pm, section="summary", text="a", base=0, by=user)
    services.save_section(postmortem=pm, section="summary", text="b", base=1, by=user)
    services.save_section(postmortem=pm, section="lessons", text="c", base=0, by=user)
    client.force_login(user)
    numbers = _poll(client, pm).json()["numbers"]
    assert (numbers["summary"], numbers["lessons"], numbers["impact"]) == (2, 1, 0)


def test_presence_expires_without_a_heartbeat(client, user, other_user):
    pm = PostmortemFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(user)
        _poll(client, pm, "impact")
    client.force_login(other_user)
    with time_machine.travel(start + timedelta(seconds=25), tick=False):
        assert [p["name"] for p in _poll(client, pm).json()["people"]] == ["Alice Ng"]
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        assert _poll(client, pm).json()["people"] == []


def test_leaving_the_page_drops_out_at_once(client, user, other_user):
    pm = PostmortemFactory()
    client.force_login(user)
    _poll(client, pm, "impact")
    url = reverse("postmortems:presence", args=[pm.incident.number])
    assert client.post(url, {"left": "1"}).status_code == 204
    client.force_login(other_user)
    assert _poll(client, pm).json()["people"] == []


def test_an_unknown_section_counts_as_none(client, user, other_user):
    pm = PostmortemFactory()
    client.force_login(user)
    _poll(client, pm, "<script>")
    client.force_login(other_user)
    assert _poll(client, pm).json()["people"][0]["section"] == ""


@pytest.mark.usefixtures("in_every_team")
def test_polls_cost_constant_queries(client, user, django_assert_max_num_queries):
    pm = PostmortemFactory(summary="")
    for section in Postmortem.SECTION_FIELDS:
        services.save_section(postmortem=pm, section=section, text="x", base=0, by=user)
    others = UserFactory.create_batch(6)
    for other in others:
        client.force_login(other)
        _poll(client, pm, "impact")
    client.force_login(user)
    _poll(client, pm, "summary")
    # Session, user and profile (every request), the person's teams and managed teams (read
    # once per request by the policy), then the postmortem with every section's newest
    # number, and who is here; an unchanged heartbeat does not write.
    with django_assert_max_num_queries(7):
        assert len(_poll(client, pm, "summary").json()["people"]) == 6
    # Moving to another section writes once (a single upsert statement).
    with django_assert_max_num_queries(8):
        _poll(client, pm, "lessons")
    assert EditorPresence.objects.get(postmortem=pm, user=user).section == "lessons"


def test_a_private_incidents_presence_is_404_for_outsiders(client, user, other_user):
    pm = PostmortemFactory(incident=IncidentFactory(private=True, members=[other_user]))
    client.force_login(other_user)
    assert _poll(client, pm, "impact").status_code == 200
    client.force_login(user)
    assert _poll(client, pm, "impact").status_code == 404
    assert not EditorPresence.objects.filter(user=user).exists()
    fresh = reverse("postmortems:section-fresh", args=[pm.incident.number, "summary"])
    assert client.get(fresh, {"since": 0}).status_code == 404


def test_presence_refuses_get_and_anonymous_people(client, user):
    pm = PostmortemFactory()
    url = reverse("postmortems:presence", args=[pm.incident.number])
    response = client.post(url, {"section": "impact"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(user)
    assert client.get(url).status_code == 405


def test_presence_needs_the_csrf_token(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    pm = PostmortemFactory()
    assert _poll(client, pm, "impact").status_code == 403


# --- A section someone else saved -----------------------------------------------------------


@pytest.mark.usefixtures("in_every_team")
def test_a_section_saved_since_comes_with_its_text_and_diff(client, user, other_user):
    pm = PostmortemFactory(impact="")
    services.save_section(postmortem=pm, section="impact", text="4,100 failed", base=0, by=user)
    services.save_section(
        postmortem=pm, section="impact", text="4,100 failed\n12 regions", base=1, by=other_user
    )
    client.force_login(user)
    url = reverse("postmortems:section-fresh", args=[pm.incident.number, "impact"])
    response = client.get(url, {"since": 1}, headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="remote-impact"' in body and 'data-number="2"' in body
    assert 'data-text="4,100 failed\n12 regions"' in body
    assert "Bob Reyes saved this section" in body
    assert '<span class="diff-add">+ 12 regions</span>' in body
    assert 'id="preview-impact"' in body
    assert client.get(url, {"since": 2}).status_code == 204
    assert client.get(url.replace("impact", "nonsense"), {"since": 0}).status_code == 404


@pytest.mark.parametrize("since", ["", "x", "-3"])
@pytest.mark.usefixtures("in_every_team")
def test_a_bad_since_means_from_the_start(client, user, since):
    pm = PostmortemFactory(impact="")
    services.save_section(postmortem=pm, section="impact", text="numbers", base=0, by=user)
    client.force_login(user)
    url = reverse("postmortems:section-fresh", args=[pm.incident.number, "impact"])
    assert client.get(url, {"since": since}).status_code == 200
