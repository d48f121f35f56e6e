"""Username boxes suggest a few matching colleagues as you type, fetched from the server."""

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from ..factories import ActionItemFactory, UserFactory

User = get_user_model()


def test_the_owner_box_suggests_matching_active_colleagues_as_you_type(logged_in_page, user):
    UserFactory(username="dana", first_name="Dana", last_name="Scully")
    UserFactory(username="danny", first_name="Danny", is_active=False)
    UserFactory(username="zed", first_name="Zed", last_name="Danaher")
    item = ActionItemFactory(owner=user, title="Add a canary stage", ticket_key="SRE-1")
    # The factories' other people get random names ("Daniel", "Dandridge" would match too).
    others = User.objects.exclude(username__in=["dana", "danny", "zed"])
    others.update(first_name="Pat", last_name="Example")
    page = logged_in_page
    page.goto(f"/actions/{item.pk}/edit/")
    # A labelled combobox: the browser offers the suggestions to the keyboard and screen readers.
    owner = page.get_by_role("combobox", name="Owner")
    suggestions = page.locator(f"#{owner.get_attribute('list')} option")
    expect(suggestions).to_have_count(0)  # nobody is embedded in the page

    owner.fill("")
    owner.press_sequentially("dan")
    expect(suggestions).to_have_count(2)
    expect(suggestions.nth(0)).to_have_attribute("value", "dana")
    expect(suggestions.nth(1)).to_have_attribute("value", "zed")
    expect(suggestions.nth(1)).to_have_text("Zed Danaher")

    owner.fill("")
    owner.press_sequentially("nobody-here")
    expect(suggestions).to_have_count(0)
