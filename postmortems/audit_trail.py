"""What the audit trail records of this app (see audit.trail); imported by the app's ready()."""

from audit import trail

from .models import Approval, ContributingFactor, Postmortem, ReviewComment, ReviewMeeting

# Section texts are fields of Postmortem, so a section edit is a Postmortem change with the
# text before and after; SectionRevision stays the document's own history.
trail.track(
    Postmortem,
    incident="incident_id",
    exclude=["incident", "version", "updated_at", "created_at"],
    m2m=["co_authors", "reviewers"],
)
trail.track(
    ContributingFactor,
    incident="postmortem.incident_id",
    exclude=["postmortem", "version", "created_at"],
)
trail.track(Approval, incident="postmortem.incident_id", exclude=["postmortem", "created_at"])
trail.track(ReviewComment, incident="postmortem.incident_id", exclude=["postmortem", "created_at"])
# A review meeting's decisions, not its live controls (step, timer), which change every minute.
trail.track(
    ReviewMeeting,
    incident="postmortem.incident_id",
    fields=["scheduled_at", "location", "facilitator", "started_at", "ended_at", "publish_by"],
)
