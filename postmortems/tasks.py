from smtplib import SMTPException

from celery import shared_task

from .models import Postmortem


@shared_task(autoretry_for=(SMTPException,), retry_backoff=True, max_retries=5)
def email_reviewers(postmortem_id: int) -> int:
    """Email every reviewer invited and not yet told; safe to run twice."""
    from .services import send_review_invitations

    postmortem = Postmortem.objects.filter(pk=postmortem_id).first()
    return send_review_invitations(postmortem=postmortem) if postmortem else 0
