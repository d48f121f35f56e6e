"""Moving the ledger keeps every row: the actions ledger's rows (same ids) and the emails
review invitations and meetings had already sent, so none of them is sent again."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from actions import figure_rollups, repeats
from actions.models import Digest
from outbox import ledger
from outbox.models import Dispatch
from postmortems.models import MeetingAttendee, ReviewInvitation

from ..factories import PostmortemFactory, ReviewMeetingFactory, UserFactory

BEFORE = [("actions", "0004_list_order_index"), ("postmortems", "0003_review_meetings")]
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_every_ledger_row_and_every_sent_email(monkeypatch):
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    # The incidents made below would recount the stored repeat counts and the incident
    # rollups at commit, whose tables this old schema does not have yet; they are not what
    # this test is about.
    monkeypatch.setattr(repeats, "refresh_pending", lambda: 0)
    monkeypatch.setattr(figure_rollups, "refresh_pending", lambda: 0)
    old = _migrate(BEFORE)
    try:
        OldDispatch = old.get_model("actions", "Dispatch")
        dana, eli = UserFactory(username="dana"), UserFactory(username="eli")
        digest = Digest.objects.create(scope="org", period="2026-10", figures={})
        OldDispatch.objects.create(
            id=41,
            kind="reminder",
            recipient_id=dana.pk,
            period="2026-03-02",
            state="sent",
            attempts=1,
            sent_at=SENT,
        )
        OldDispatch.objects.create(
            id=42,
            kind="digest",
            recipient_id=eli.pk,
            scope="org",
            period="2026-10",
            digest_id=digest.pk,
            state="pending",
            attempts=2,
            error="SMTP 451",
        )
        pm = PostmortemFactory()
        told = ReviewInvitation.objects.create(
            postmortem=pm, reviewer=dana, round_started_at=SENT, sent_at=SENT
        )
        untold = ReviewInvitation.objects.create(postmortem=pm, reviewer=eli, round_started_at=SENT)
        meeting = ReviewMeetingFactory(attendees=[dana, eli])
        MeetingAttendee.objects.filter(user=dana).update(invited_at=SENT, summary_sent_at=SENT)
    finally:
        _migrate(leaves)

    rows = {
        (r.pk, r.kind, r.recipient_id, r.scope, r.period, r.state) for r in Dispatch.objects.all()
    }
    assert (41, "reminder", dana.pk, "", "2026-03-02", "sent") in rows
    assert (42, "digest", eli.pk, "org", "2026-10", "pending") in rows
    assert Dispatch.objects.get(pk=42).error == "SMTP 451"
    sent = set(
        Dispatch.objects.exclude(pk__in=[41, 42]).values_list(
            "kind", "recipient_id", "scope", "state"
        )
    )
    assert sent == {
        ("review_invitation", dana.pk, f"reviewinvitation:{told.pk}", "sent"),
        ("meeting_invite", dana.pk, f"reviewmeeting:{meeting.pk}", "sent"),
        ("meeting_summary", dana.pk, f"reviewmeeting:{meeting.pk}", "sent"),
    }
    # Claiming them again finds them settled; what was never sent can still be claimed.
    kinds = Dispatch.Kind
    again = ledger.claim(
        [
            ledger.Key.about(kinds.REVIEW_INVITATION, dana.pk, told),
            ledger.Key.about(kinds.MEETING_INVITE, dana.pk, meeting),
            ledger.Key.about(kinds.REVIEW_INVITATION, eli.pk, untold),
        ],
        now=timezone.now(),
    )
    assert again.already_settled == 2 and len(again.pending_ids) == 1
    assert again.pending_ids[0] > 42  # new rows are numbered after the copied ones
