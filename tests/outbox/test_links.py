"""Every link an email carries is the site URL and a reverse()d path, never a hand-written one."""

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import mail

from actions import jobs
from actions.metrics import Period
from postmortems import meetings, services

from ..factories import ActionItemFactory, IncidentFactory, PostmortemFactory, UserFactory
from .support import send_pending

ROOT = Path(__file__).resolve().parents[2]
APP_PATHS = re.compile(r"/(actions|postmortems|incidents)/")
EMAIL_CODE = [
    "outbox/ledger.py",
    "actions/emails.py",
    "actions/digests.py",
    "postmortems/emails.py",
]
MONDAY = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def test_email_templates_hold_no_paths():
    templates = sorted(ROOT.glob("*/templates/*/email/*.*"))
    assert len(templates) >= 12
    offending = [str(t) for t in templates if APP_PATHS.search(t.read_text())]
    assert offending == []


@pytest.mark.parametrize("module", EMAIL_CODE)
def test_email_code_holds_no_paths(module):
    tree = ast.parse((ROOT / module).read_text())
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert [s for s in strings if APP_PATHS.search(s)] == []


@pytest.mark.django_db
def test_every_link_in_every_kind_of_email_starts_with_the_site_url(settings, user, other_user):
    settings.SITE_URL = "https://debrief.example.com"
    team = IncidentFactory(started_at=datetime(2026, 10, 3, tzinfo=UTC)).team
    manager = UserFactory(username="mia")
    team.managers.add(manager)
    ActionItemFactory(
        owner=user, postmortem__incident__team=team, due_on=MONDAY.date() - timedelta(30)
    )
    jobs.run_reminders(MONDAY)  # a reminder and a manager note
    jobs.run_digests(Period.month("2026-10"))
    pm = PostmortemFactory(author=user)
    services.request_review(postmortem=pm, reviewers=[other_user], by=user)
    meeting = meetings.schedule_meeting(
        postmortem=pm,
        scheduled_at=MONDAY,
        facilitator=user,
        attendees=[other_user],
        by=user,
    )
    for action in ("start", "end"):
        meeting = meetings.drive_meeting(meeting=meeting, action=action, by=user)
    meeting.postmortem = pm
    meetings.request_summary_email(meeting=meeting, by=user)
    send_pending()
    subjects = {m.subject.split(":")[0] for m in mail.outbox}
    assert {"Debrief", "Review requested", "Postmortem review", "Review summary"} <= subjects
    assert any(m.subject.startswith("Debrief review for") for m in mail.outbox)
    links = [
        url
        for m in mail.outbox
        for body in (m.body, m.alternatives[0][0])
        for url in re.findall(r"https?://[^\s\"'<>]+", body)
    ]
    assert len(links) > 20
    assert [u for u in links if not u.startswith("https://debrief.example.com/")] == []
