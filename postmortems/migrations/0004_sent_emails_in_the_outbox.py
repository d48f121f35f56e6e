"""Emails already sent to reviewers and attendees become sent rows of the outbox ledger.

The ledger now decides what is sent; without these rows, the next email for the same review
round or meeting would treat them as never sent.
"""

from django.db import migrations


def record_sent_emails(apps, schema_editor):
    Dispatch = apps.get_model("outbox", "Dispatch")
    ReviewInvitation = apps.get_model("postmortems", "ReviewInvitation")
    MeetingAttendee = apps.get_model("postmortems", "MeetingAttendee")
    rows = [
        Dispatch(
            kind="review_invitation",
            recipient_id=reviewer_id,
            scope=f"reviewinvitation:{pk}",
            state="sent",
            attempts=1,
            created_at=sent_at,
            sent_at=sent_at,
        )
        for pk, reviewer_id, sent_at in ReviewInvitation.objects.filter(
            sent_at__isnull=False
        ).values_list("pk", "reviewer_id", "sent_at")
    ]
    attendees = MeetingAttendee.objects.values_list(
        "meeting_id", "user_id", "invited_at", "summary_sent_at"
    )
    for meeting_id, user_id, invited_at, summary_sent_at in attendees:
        for kind, sent_at in (("meeting_invite", invited_at), ("meeting_summary", summary_sent_at)):
            if sent_at is not None:
                rows.append(
                    Dispatch(
                        kind=kind,
                        recipient_id=user_id,
                        scope=f"reviewmeeting:{meeting_id}",
                        state="sent",
                        attempts=1,
                        created_at=sent_at,
                        sent_at=sent_at,
                    )
                )
    Dispatch.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


def forget_sent_emails(apps, schema_editor):
    Dispatch = apps.get_model("outbox", "Dispatch")
    Dispatch.objects.filter(
        kind__in=["review_invitation", "meeting_invite", "meeting_summary"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("postmortems", "0003_review_meetings"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(record_sent_emails, forget_sent_emails),
    ]
