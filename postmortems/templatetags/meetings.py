"""Review meetings on the postmortem's own pages, without widening those pages' views."""

from datetime import UTC

from django import template

from postmortems.meetings import meeting_summary
from postmortems.models import ReviewMeeting

register = template.Library()


@register.inclusion_tag("postmortems/includes/meeting_links.html", takes_context=True)
def meeting_links(context, postmortem):
    """ "Schedule the review", or "Present"/"Follow" for the next meeting not yet ended."""
    request = context.get("request")
    meeting = ReviewMeeting.objects.filter(postmortem=postmortem).upcoming_or_live().first()
    if meeting is not None:
        meeting.postmortem = postmortem  # as the page read it, incident included
    user = getattr(request, "user", None)
    return {
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "meeting": meeting,
        "is_driver": bool(meeting and user and meeting.can_be_driven_by(user)),
    }


@register.inclusion_tag("postmortems/includes/meeting_record.html")
def meeting_record(postmortem):
    """The record of each review meeting held: when, who, how long, what it decided."""
    held = (
        ReviewMeeting.objects.filter(postmortem=postmortem, started_at__isnull=False)
        .select_related("facilitator")
        .order_by("started_at")
    )
    records = []
    for meeting in held:
        meeting.postmortem = postmortem  # as the page read it, incident included
        records.append(meeting_summary(meeting, rows=False))
    return {"postmortem": postmortem, "incident": postmortem.incident, "records": records}


@register.filter
def name_of(user, fallback: str = "—") -> str:
    """A person's full name, else username; `fallback` when nobody (a deleted account)."""
    if user is None:
        return fallback
    return user.get_full_name() or user.get_username()


@register.filter
def utc_text(value, fmt: str = "%m-%d %H:%M") -> str:
    """A time as plain UTC text, for emails: the date filter would use the active timezone."""
    if value is None:
        return "—"
    return f"{value.astimezone(UTC):{fmt}} UTC"
