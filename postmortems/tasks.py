from smtplib import SMTPException

from celery import shared_task

from .models import Postmortem


@shared_task(autoretry_for=(SMTPException,), retry_backoff=True, max_retries=5)
def email_reviewers(postmortem_id: int) -> int:
    """Email every reviewer invited and not yet told; safe to run twice."""
    from .services import send_review_invitations

    postmortem = Postmortem.objects.filter(pk=postmortem_id).first()
    return send_review_invitations(postmortem=postmortem) if postmortem else 0


@shared_task(autoretry_for=(SMTPException,), retry_backoff=True, max_retries=5)
def email_meeting_invites(meeting_id: int) -> int:
    """Email each attendee of a review meeting its invite (.ics attached); safe to run twice."""
    from .meetings import meeting_for_email, send_meeting_invites

    meeting = meeting_for_email(meeting_id)
    return send_meeting_invites(meeting=meeting) if meeting else 0


@shared_task(autoretry_for=(SMTPException,), retry_backoff=True, max_retries=5)
def email_meeting_summary(meeting_id: int) -> int:
    """Email each attendee the meeting's summary once; safe to run twice."""
    from .meetings import meeting_for_email, send_meeting_summary

    meeting = meeting_for_email(meeting_id)
    return send_meeting_summary(meeting=meeting) if meeting else 0
