"""Which approvals count towards publishing, and how many a postmortem needs.

An approval counts when its reviewer is still assigned and is not an author, no section changed
after it, it was given after the newest reopening, and the reviewer has not asked for changes
since. Read in a fixed number of queries, whatever the number of reviewers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from .models import Approval, Postmortem, ReviewComment


def required_approvals(severity: int) -> int:
    """DEBRIEF_REQUIRED_APPROVALS by severity; two for SEV1/SEV2 and one below if unset."""
    needed = getattr(settings, "DEBRIEF_REQUIRED_APPROVALS", {})
    return needed.get(severity, 2 if severity <= 2 else 1)


def changed_since(approval: Approval, numbers: dict[str, int]) -> list[str]:
    """Sections whose newest revision is past the one the approval covered."""
    return [
        section
        for section, number in numbers.items()
        if number > int(approval.revisions.get(section, 0))
    ]


@dataclass
class ReviewerState:
    user: object
    approval: Approval | None = None
    changes_requested: ReviewComment | None = None
    changed: list[str] = field(default_factory=list)  # section labels changed since approving
    before_reopening: bool = False

    @property
    def counts(self) -> bool:
        return self.approval is not None and not (
            self.changed or self.before_reopening or self.asked_for_changes_since
        )

    @property
    def asked_for_changes_since(self) -> bool:
        request = self.changes_requested
        return bool(request and self.approval and request.created_at >= self.approval.created_at)

    @property
    def asking_for_changes(self) -> bool:
        """Their newest word is "request changes" (with no approval after it)."""
        return self.changes_requested is not None and (
            self.approval is None or self.asked_for_changes_since
        )

    @property
    def stale(self) -> bool:
        """Approved once, but the text changed since (or the postmortem was reopened)."""
        return self.approval is not None and bool(self.changed or self.before_reopening)


@dataclass
class ApprovalState:
    required: int
    reviewers: list[ReviewerState]

    @property
    def approved_by(self) -> list:
        return [r.user for r in self.reviewers if r.counts]

    @property
    def count(self) -> int:
        return len(self.approved_by)

    @property
    def met(self) -> bool:
        return self.count >= self.required

    @property
    def summary(self) -> str:
        """ "1 of 2 approvals" """
        return f"{self.count} of {self.required} approval{'s' if self.required != 1 else ''}"

    @property
    def shortfall(self) -> str:
        return (
            f"Approvals of the current text: {self.summary}. Ask the reviewers to read it "
            "again if it changed since they approved."
        )


def approval_state(
    postmortem: Postmortem, *, numbers=None, reviewers=None, comments=None, reopenings=None
) -> ApprovalState:
    """Each assigned reviewer's standing, and whether the postmortem has enough approvals.

    A page that has read them already passes the sections' `numbers` (latest_numbers), the
    `reviewers` by username, every review comment (oldest first) and the newest reopenings
    (newest first); each is read here otherwise."""
    if numbers is None:
        numbers = postmortem.latest_numbers()
    authors = postmortem.author_ids()
    latest: dict[int, Approval] = {}
    for approval in postmortem.approvals.order_by("-created_at", "-pk"):
        latest.setdefault(approval.reviewer_id, approval)
    requests: dict[int, ReviewComment] = {}
    if comments is None:
        changes = postmortem.comments.filter(kind=ReviewComment.Kind.CHANGES_REQUESTED)
        comments = changes.order_by("-created_at", "-pk")
    else:
        comments = sorted(comments, key=lambda c: (c.created_at, c.pk), reverse=True)
    for comment in comments:
        if comment.kind == ReviewComment.Kind.CHANGES_REQUESTED:
            requests.setdefault(comment.author_id, comment)
    if reopenings is None:
        newest = postmortem.reopenings.order_by("-created_at").values_list("created_at")
        since = newest.first()
        since = since[0] if since else None
    else:
        since = reopenings[0].created_at if reopenings else None
    if reviewers is None:
        reviewers = postmortem.reviewers.order_by("username")
    states = []
    for user in reviewers:
        if user.pk in authors:
            continue  # an author never reviews their own work, even if named before
        approval = latest.get(user.pk)
        states.append(
            ReviewerState(
                user=user,
                approval=approval,
                changes_requested=requests.get(user.pk),
                changed=[Postmortem.SECTION_LABELS[s] for s in changed_since(approval, numbers)]
                if approval
                else [],
                before_reopening=bool(approval and since and approval.created_at < since),
            )
        )
    required = required_approvals(postmortem.incident.severity)
    return ApprovalState(required=required, reviewers=states)
