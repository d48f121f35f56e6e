"""Two people drafting one postmortem in two browsers: presence, sections refreshed in place,
merged saves and real conflicts."""

import pytest
from playwright.sync_api import expect

from ..factories import PostmortemFactory
from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

IMPACT = "4,100 checkouts failed.\nOnly eu-west was affected.\nNo data was lost."


def _two_editors(new_context, user, other_user, **texts):
    # Written without revisions, like the demo's postmortems: both start from revision 0.
    pm = PostmortemFactory(**texts)
    url = f"/postmortems/{pm.incident.number}/edit/"
    alice = log_in(new_context().new_page(), user.username)
    bob = log_in(new_context().new_page(), other_user.username)
    alice.goto(url)
    bob.goto(url)
    return pm, alice, bob


def _box(page, name):
    return page.get_by_role("textbox", name=name, exact=True)


@pytest.mark.usefixtures("in_every_team")
def test_bob_sees_alice_in_impact(new_context, user, other_user):
    pm, alice, bob = _two_editors(new_context, user, other_user, impact=IMPACT)
    _box(alice, "Impact").click()
    expect(bob.locator("#presence")).to_contain_text("Alice Ng — in Impact")
    expect(bob.locator("#here-impact")).to_have_text("Alice Ng is here")
    expect(bob.locator("#here-summary")).to_be_hidden()
    _box(bob, "Summary").click()
    expect(alice.locator("#presence")).to_contain_text("Bob Reyes — in Summary")
    # Alice leaves: Bob no longer sees her.
    alice.close()
    expect(bob.locator("#presence")).to_be_hidden()


@pytest.mark.usefixtures("in_every_team")
def test_a_section_alice_saves_refreshes_in_place_for_bob_in_another(new_context, user, other_user):
    pm, alice, bob = _two_editors(new_context, user, other_user, impact=IMPACT)
    _box(bob, "Summary").click()
    new_impact = IMPACT.replace("4,100", "4,250")
    _box(alice, "Impact").fill(new_impact)
    _box(alice, "Impact").press("Control+s")
    expect(alice.locator("#state-impact")).to_contain_text("Saved at")
    expect(_box(bob, "Impact")).to_have_value(new_impact)
    expect(bob.locator("#state-impact")).to_contain_text("Alice Ng saved")
    expect(bob.locator("#remote-impact")).to_be_hidden()
    expect(_box(bob, "Summary")).to_be_focused()
    # Bob's next save of Impact is on Alice's revision: no conflict.
    _box(bob, "Impact").fill(new_impact + "\nRevenue: $12,000.")
    _box(bob, "Impact").press("Control+s")
    expect(bob.locator("#state-impact")).to_contain_text("Saved at")
    pm.refresh_from_db()
    assert pm.impact == new_impact + "\nRevenue: $12,000."


@pytest.mark.usefixtures("in_every_team")
def test_edits_to_different_lines_from_the_same_base_both_save(new_context, user, other_user):
    pm, alice, bob = _two_editors(new_context, user, other_user, impact=IMPACT)
    alices = IMPACT.replace("4,100 checkouts", "4,100 checkouts (2.1% of traffic)")
    bobs = IMPACT.replace("No data was lost.", "No data was lost; 37 orders were retried.")
    _box(alice, "Impact").fill(alices)
    _box(bob, "Impact").fill(bobs)
    _box(alice, "Impact").press("Control+s")
    _box(bob, "Impact").press("Control+s")
    both = (
        "4,100 checkouts (2.1% of traffic) failed.\nOnly eu-west was affected.\n"
        "No data was lost; 37 orders were retried."
    )
    for page in (alice, bob):
        expect(page.locator("#state-impact")).not_to_contain_text("Not saved")
        expect(_box(page, "Impact")).to_have_value(both, timeout=15_000)
    expect(bob.locator("#conflict-impact .conflict")).to_have_count(0)
    pm.refresh_from_db()
    assert pm.impact == both
    assert [r.text for r in pm.revisions.filter(section="impact").order_by("number")][-1] == both
    assert pm.revisions.filter(section="impact").count() == 3


@pytest.mark.usefixtures("in_every_team")
def test_edits_to_the_same_line_show_bob_the_conflict_with_his_text_kept(
    new_context, user, other_user
):
    pm, alice, bob = _two_editors(new_context, user, other_user, impact=IMPACT)
    # Bob's poll would otherwise bring Alice's save into his box before he types: hold it
    # back, as if he had started typing just before she saved.
    bob.route("**/presence/", lambda route: route.abort())
    alices = IMPACT.replace("Only eu-west", "Only eu-west and us-east")
    bobs = IMPACT.replace("Only eu-west", "Only the eu-west region")
    _box(alice, "Impact").fill(alices)
    _box(alice, "Impact").press("Control+s")
    expect(alice.locator("#state-impact")).to_contain_text("Saved at")
    _box(bob, "Impact").fill(bobs)
    _box(bob, "Impact").press("Control+s")
    conflict = bob.locator("#conflict-impact .conflict")
    expect(conflict).to_contain_text("Alice Ng saved this section")
    places = conflict.locator(".merge-conflict")
    expect(places).to_have_count(1)
    theirs, yours = places.locator("figure").first, places.locator("figure").last
    expect(theirs.locator("figcaption")).to_have_text("Theirs — Alice Ng, saved")
    expect(theirs.locator("pre")).to_have_text("Only eu-west and us-east was affected.")
    expect(yours.locator("figcaption")).to_have_text("Yours — not saved")
    expect(yours.locator("pre")).to_have_text("Only the eu-west region was affected.")
    expect(conflict).not_to_contain_text("4,100 checkouts failed.")  # only the real conflict
    expect(_box(bob, "Impact")).to_have_value(bobs)
    expect(bob.locator("#state-impact")).to_contain_text("Not saved")
    pm.refresh_from_db()
    assert pm.impact == alices
    places.get_by_label("Keep theirs").check()
    conflict.get_by_role("button", name="Save combined text").click()
    expect(bob.locator("#state-impact")).to_contain_text("Saved at")
    expect(_box(bob, "Impact")).to_have_value(alices)
    pm.refresh_from_db()
    assert pm.impact == alices


@pytest.mark.usefixtures("in_every_team")
def test_two_first_drafts_can_keep_both(new_context, user, other_user):
    pm, alice, bob = _two_editors(new_context, user, other_user, lessons="")
    bob.route("**/presence/", lambda route: route.abort())
    _box(alice, "Lessons learned").fill("Alice: validate configs before rollout.")
    _box(alice, "Lessons learned").press("Control+s")
    expect(alice.locator("#state-lessons")).to_contain_text("Saved at")
    _box(bob, "Lessons learned").fill("Bob: canaries catch empty pools.")
    _box(bob, "Lessons learned").press("Control+s")
    conflict = bob.locator("#conflict-lessons .conflict")
    conflict.get_by_label("Keep both").check()
    conflict.get_by_role("button", name="Save combined text").click()
    both = "Alice: validate configs before rollout.\nBob: canaries catch empty pools."
    expect(_box(bob, "Lessons learned")).to_have_value(both)
    expect(bob.locator("#state-lessons")).to_contain_text("Saved at")
    pm.refresh_from_db()
    assert pm.lessons == both


@pytest.mark.usefixtures("in_every_team")
def test_a_save_arriving_while_editing_shows_a_notice_with_the_diff(new_context, user, other_user):
    pm, alice, bob = _two_editors(new_context, user, other_user, impact=IMPACT)
    # Bob's saves of Impact fail for now, so his edit stays unsaved while Alice saves.
    bob.route("**/sections/impact/", lambda route: route.abort())
    bob_box = _box(bob, "Impact")
    bob_box.click()
    bob_box.press("Control+End")
    bob_box.press_sequentially(" Refunds ran.", delay=5)
    expect(bob.locator("#state-impact")).to_contain_text("Not saved")
    _box(alice, "Impact").fill(IMPACT.replace("4,100", "4,250"))
    _box(alice, "Impact").press("Control+s")
    expect(alice.locator("#state-impact")).to_contain_text("Saved at")
    notice = bob.locator("#remote-impact")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Alice Ng saved this section")
    expect(notice.locator(".diff-add")).to_have_text("+ 4,250 checkouts failed.")
    expect(notice.locator(".diff-del")).to_have_text("- 4,100 checkouts failed.")
    expect(bob_box).to_have_value(IMPACT + " Refunds ran.")  # his typing untouched
    # His connection is back: the retry merges both, and the notice goes.
    bob.unroute("**/sections/impact/")
    merged = IMPACT.replace("4,100", "4,250") + " Refunds ran."
    expect(bob_box).to_have_value(merged, timeout=15_000)
    expect(notice).to_be_hidden()
    pm.refresh_from_db()
    assert pm.impact == merged
