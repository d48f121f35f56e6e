"""What the audit trail records of this app (see audit.trail); imported by the app's ready()."""

from audit import trail

from .models import ActionItem, CalendarFeed, WebhookEndpoint

trail.track(
    ActionItem,
    incident="postmortem.incident_id",
    exclude=["postmortem", "version", "updated_at", "created_at"],
)
# The signing secret and the feed token are recorded as changed, never by value; a feed is
# "reset" by deleting the row and making a new one, so its create and delete are the record.
trail.track(WebhookEndpoint, incident=None, exclude=["created_at"], secrets=["secret"])
trail.track(CalendarFeed, incident=None, exclude=["created_at", "last_used_at"], secrets=["token"])
