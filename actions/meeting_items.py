"""Action items captured in a review meeting: the item through this app's service, the
capture on the meeting's record through the meeting's own."""

from __future__ import annotations

from django.db import transaction

from postmortems.meetings import open_for_capture, record_capture
from postmortems.models import MeetingCapture, ReviewMeeting

from . import services


@transaction.atomic
def capture_item(*, meeting: ReviewMeeting, by, **fields) -> MeetingCapture:
    """Add an action item in the room (history, webhooks and permission as anywhere else)."""
    locked = open_for_capture(meeting, by)
    item = services.create_action_item(postmortem=locked.postmortem, by=by, **fields)
    owner = item.owner
    after = {
        "title": item.title,
        "owner": (owner.get_full_name() or owner.get_username()) if owner else "nobody",
        "due_on": item.due_on.isoformat(),
        "priority": item.priority_code,
    }
    return record_capture(locked, MeetingCapture.Kind.ITEM_ADDED, by, item=item, after=after)
