"""What the audit trail records of this app (see audit.trail); imported by the app's ready()."""

from audit import trail

from .models import Incident, TimelineEvent

# Bookkeeping columns change on every save and say nothing a reader needs.
trail.track(
    Incident,
    incident="pk",
    exclude=["version", "updated_at", "created_at"],
    m2m=["members", "services", "related"],
)
trail.track(
    TimelineEvent,
    incident="incident_id",
    exclude=["incident", "version", "updated_at", "created_at"],
)
