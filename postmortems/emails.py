"""The emails of the postmortems app, rendered at send time from their ledger row.

Registered with the outbox (imported from PostmortemsConfig.ready). Each is claimed by the
service that causes it, in the same transaction (services.request_review,
services.reopen_postmortem, meetings.schedule_meeting, meetings.request_summary_email), and sent
by the outbox's worker after the commit: once per recipient and review round, reopening or
meeting.
"""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.utils import timezone

from incidents.zones import zone_of
from outbox import ledger
from outbox.models import Dispatch

from .meetings import AGENDA, invite_ics, meeting_summary
from .models import MeetingAttendee, Reopening, ReviewInvitation, ReviewMeeting

Kind = Dispatch.Kind


@ledger.builder(Kind.REVIEW_INVITATION)
def review_invitation(dispatch: Dispatch) -> ledger.Message | None:
    invitation = (
        dispatch.about(ReviewInvitation).select_related("postmortem__incident", "reviewer").first()
    )
    if invitation is None:
        return None
    postmortem, reviewer = invitation.postmortem, invitation.reviewer
    incident = postmortem.incident
    return ledger.render(
        to=reviewer.email,
        subject=f"Review requested: {incident.reference} {incident.title}",
        template="postmortems/email/review_request",
        context={
            "postmortem": postmortem,
            "incident": incident,
            "reviewer": reviewer,
            # The document page carries "Approve" and "Request changes" for reviewers.
            "url": ledger.link("postmortems:detail", incident.number, fragment="review"),
        },
        on_sent=lambda: ReviewInvitation.objects.filter(pk=invitation.pk).update(
            sent_at=timezone.now()
        ),
    )


@ledger.builder(Kind.REVIEW_REOPENED)
def review_reopened(dispatch: Dispatch) -> ledger.Message | None:
    reopening = dispatch.about(Reopening).select_related("postmortem__incident", "by").first()
    if reopening is None:
        return None
    reviewer = dispatch.recipient
    incident = reopening.postmortem.incident
    return ledger.render(
        to=reviewer.email,
        subject=f"Reopened for changes: {incident.reference} {incident.title}",
        template="postmortems/email/review_reopened",
        context={
            "reopening": reopening,
            "incident": incident,
            "reviewer": reviewer,
            "by": reopening.by,
            "in_review": reopening.to_status == "in_review",
            "url": ledger.link("postmortems:detail", incident.number, fragment="review"),
        },
    )


def _meeting(dispatch: Dispatch) -> ReviewMeeting | None:
    return (
        dispatch.about(ReviewMeeting).select_related("postmortem__incident", "facilitator").first()
    )


def _stamp_attendee(meeting: ReviewMeeting, user, field: str):
    """What the meeting page shows once the email is delivered: "sent <when>"."""
    attendee = MeetingAttendee.objects.filter(meeting=meeting, user=user)
    return lambda: attendee.update(**{field: timezone.now()})


@ledger.builder(Kind.MEETING_INVITE)
def meeting_invite(dispatch: Dispatch) -> ledger.Message | None:
    meeting = _meeting(dispatch)
    if meeting is None:
        return None
    user = dispatch.recipient
    incident = meeting.postmortem.incident
    attendees = [i.user for i in meeting.invites.select_related("user").order_by("pk")]
    zone = zone_of(user)
    local = meeting.scheduled_at.astimezone(zone)
    return ledger.render(
        to=user.email,
        subject=f"Postmortem review: {incident.reference} {incident.title}, "
        f"{local:%a} {local.day} {local:%b %H:%M} ({zone})",
        template="postmortems/email/meeting_invite",
        context={
            "meeting": meeting,
            "incident": incident,
            "attendee": user,
            "facilitator": meeting.facilitator,
            # Formatted here: the template's date filter would turn it back to the active zone.
            "when_local": f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone})",
            "when_utc": f"{meeting.scheduled_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
            "agenda": AGENDA,
            "url": ledger.link_to(meeting),
            "document_url": ledger.link_to(meeting.postmortem),
        },
        attachments=[
            (
                "review.ics",
                invite_ics(meeting, attendees),
                "text/calendar; method=REQUEST; charset=utf-8",
            )
        ],
        on_sent=_stamp_attendee(meeting, user, "invited_at"),
    )


@ledger.builder(Kind.MEETING_SUMMARY)
def meeting_summary_email(dispatch: Dispatch) -> ledger.Message | None:
    meeting = _meeting(dispatch)
    if meeting is None:
        return None
    user = dispatch.recipient
    incident = meeting.postmortem.incident
    started = meeting.started_at.astimezone(UTC) if meeting.started_at else None
    return ledger.render(
        to=user.email,
        subject=f"Review summary: {incident.reference} {incident.title}",
        template="postmortems/email/meeting_summary",
        context={
            "held_utc": f"{started:%Y-%m-%d %H:%M} UTC" if started else "not held",
            "summary": meeting_summary(meeting),
            "meeting": meeting,
            "incident": incident,
            "attendee": user,
            "url": ledger.link_to(meeting.postmortem),
            # Item links: the site URL and each item's reverse()d path.
            "site_url": settings.SITE_URL,
        },
        on_sent=_stamp_attendee(meeting, user, "summary_sent_at"),
    )
