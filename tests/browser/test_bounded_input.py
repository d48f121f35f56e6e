"""The browser stops a form larger than the server accepts before sending it, so the typed
text stays in the box (the server would answer 413 and the text would be gone)."""

import pytest
from playwright.sync_api import expect

from incidents.models import TimelineEvent

from ..factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("in_every_team")
def test_an_oversized_timeline_entry_is_stopped_in_the_browser_and_kept(logged_in_page, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    page = logged_in_page
    incident = IncidentFactory(title="Checkout 503s")
    page.goto(incident.get_absolute_url())
    form = page.locator("#event-add")
    pasted = "pasted log line " * 2_000  # 32 KB, over the 20 KB limit
    form.get_by_label("What happened").fill(pasted)
    form.get_by_role("button", name="Add event").click()
    expect(page.get_by_role("alert")).to_contain_text("Not sent")
    expect(form.get_by_label("What happened")).to_have_value(pasted)
    assert not TimelineEvent.objects.filter(incident=incident).exists()
