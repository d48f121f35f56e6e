from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from incidents import permissions
from incidents.models import Incident
from outbox.ledger import Key
from outbox.models import Dispatch
from outbox.queue import queue_emails

from . import merging
from .models import (
    Approval,
    ContributingFactor,
    Postmortem,
    ReviewComment,
    ReviewInvitation,
    SectionRevision,
)


class SectionConflict(Exception):
    """Someone saved the section since the editor loaded it; `theirs` is the newest revision.

    `merge` (when the save tried one) holds the three-way merge with its real conflicts, and
    `theirs_text` the section's text now."""

    def __init__(
        self,
        theirs: SectionRevision | None,
        merge: merging.Merge | None = None,
        theirs_text: str = "",
    ):
        super().__init__("The section changed since it was loaded.")
        self.theirs = theirs
        self.merge = merge
        self.theirs_text = theirs_text


# --- Starting -------------------------------------------------------------------------------


@transaction.atomic
def start_postmortem(*, incident: Incident, by: AbstractBaseUser) -> Postmortem:
    """Open the incident's postmortem (or return the existing one); sections start empty."""
    permissions.require(by, "edit", incident)
    postmortem, _ = Postmortem.objects.get_or_create(
        incident=incident, defaults={"author": incident.commander or by}
    )
    return postmortem


# --- Sections and their revisions -----------------------------------------------------------


def _newest(postmortem: Postmortem, section: str) -> SectionRevision | None:
    return (
        SectionRevision.objects.filter(postmortem=postmortem, section=section)
        .select_related("author")
        .order_by("-number")
        .first()
    )


def save_section(
    *,
    postmortem: Postmortem,
    section: str,
    text: str,
    base: int,
    by: AbstractBaseUser,
    restored_from: int | None = None,
    merge: bool = False,
) -> SectionRevision | None:
    """Record `text` as the next revision of one section, if `base` is still its newest.

    Returns the new revision, or the newest one when the text is unchanged (nothing to
    record). When someone else saved the section after `base`, raises SectionConflict; with
    `merge`, first merges both sets of changes against revision `base` and saves the result
    when they do not overlap (the returned revision's text is then not `text`).
    """
    permissions.require(by, "edit", postmortem)
    if section not in Postmortem.SECTION_LABELS:
        raise ValueError(f"unknown section {section!r}")
    mine = text = text.replace("\r\n", "\n")
    for _ in range(3):  # a merge retries when yet another save lands in between
        newest = _newest(postmortem, section)
        newest_number = newest.number if newest else 0
        current = Postmortem.objects.values_list(section, flat=True).get(pk=postmortem.pk)
        if base != newest_number:
            if not merge:
                raise SectionConflict(newest, theirs_text=current)
            combined = merging.merge(_revision_text(postmortem, section, base), current, mine)
            if not combined.clean:
                raise SectionConflict(newest, merge=combined, theirs_text=current)
            text, base = combined.text(), newest_number
        if text == current and restored_from is None:
            return newest
        try:
            if newest is None and current:
                # Text written before any revision (demo data, older postmortems) is kept as
                # revision 0: it is the base every editor who opened the page then started from.
                _keep_original(postmortem, section, current)
            revision = _record(postmortem, section, text, base, by, restored_from)
        except IntegrityError:
            # A parallel save took the same number between our check and our insert.
            if merge:
                continue
            raise SectionConflict(_newest(postmortem, section)) from None
        setattr(postmortem, section, text)
        return revision
    raise SectionConflict(_newest(postmortem, section))


def _keep_original(postmortem: Postmortem, section: str, text: str) -> None:
    with transaction.atomic():
        SectionRevision.objects.create(postmortem=postmortem, section=section, number=0, text=text)


def _revision_text(postmortem: Postmortem, section: str, number: int) -> str:
    """The text of one revision: the common base of a merge (empty before the first one)."""
    if number < 0:
        return ""
    found = postmortem.revisions.filter(section=section, number=number).values_list("text")
    row = found.first()
    return row[0] if row else ""


def _record(postmortem, section, text, base, by, restored_from) -> SectionRevision:
    with transaction.atomic():
        revision = SectionRevision.objects.create(
            postmortem=postmortem,
            section=section,
            number=base + 1,
            text=text,
            author=by,
            restored_from=restored_from,
        )
        # update() touches only this section's column, so a parallel save of another
        # section on the same row is never overwritten by a stale copy of the object.
        Postmortem.objects.filter(pk=postmortem.pk).update(
            **{section: text}, version=F("version") + 1, updated_at=timezone.now()
        )
    return revision


def record_imported_sections(*, postmortem: Postmortem, texts: dict[str, str], author) -> None:
    """Record sections an import wrote as their next revisions, so history shows where the
    text came from (the import asked the policy before writing)."""
    for section, text in texts.items():
        newest = _newest(postmortem, section)
        SectionRevision.objects.create(
            postmortem=postmortem,
            section=section,
            number=(newest.number if newest else 0) + 1,
            text=text.replace("\r\n", "\n"),
            author=author,
        )


def restore_revision(*, revision: SectionRevision, by: AbstractBaseUser) -> SectionRevision:
    """Bring an old revision's text back as a new revision; history is never rewritten."""
    newest = _newest(revision.postmortem, revision.section)
    return save_section(
        postmortem=revision.postmortem,
        section=revision.section,
        text=revision.text,
        base=newest.number if newest else 0,
        by=by,
        restored_from=revision.number,
    )


@dataclass
class DiffLine:
    kind: str  # "add", "del", "same", "gap"
    text: str


def diff_lines(old: str, new: str, context: int = 2) -> list[DiffLine]:
    """A line diff with a little context, for the history page."""
    lines = []
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if lines:
            lines.append(DiffLine("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(DiffLine("same", t) for t in matcher.a[i1:i2])
                continue
            if tag in ("replace", "delete"):
                lines.extend(DiffLine("del", t) for t in matcher.a[i1:i2])
            if tag in ("replace", "insert"):
                lines.extend(DiffLine("add", t) for t in matcher.b[j1:j2])
    return lines


@dataclass
class SectionNews:
    """A section saved by someone since revision `since`: its newest revision and the diff."""

    revision: SectionRevision
    since: int
    diff: list[DiffLine]


def section_news(*, postmortem: Postmortem, section: str, since: int) -> SectionNews | None:
    """What changed in one section after revision `since`, or None when nothing did."""
    newest = _newest(postmortem, section)
    if newest is None or newest.number <= since:
        return None
    before = _revision_text(postmortem, section, since)
    # The revision, not a copy of the row read earlier, so text and number always agree.
    setattr(postmortem, section, newest.text)
    return SectionNews(revision=newest, since=since, diff=diff_lines(before, newest.text))


@dataclass
class HistoryEntry:
    revision: SectionRevision
    diff: list[DiffLine]
    after_publish: bool


def history(postmortem: Postmortem, section: str | None = None) -> list[HistoryEntry]:
    """Every saved change, newest first, each with its diff against the section's previous."""
    revisions = list(postmortem.revisions.select_related("author").order_by("section", "number"))
    previous: dict[str, str] = {}
    entries = []
    for revision in revisions:
        old = previous.get(revision.section, "")
        previous[revision.section] = revision.text
        if section and revision.section != section:
            continue
        after = bool(postmortem.published_at and revision.created_at > postmortem.published_at)
        entries.append(HistoryEntry(revision, diff_lines(old, revision.text), after))
    entries.sort(key=lambda e: (e.revision.created_at, e.revision.pk), reverse=True)
    return entries


# --- Contributing factors -------------------------------------------------------------------


def add_factor(*, postmortem: Postmortem, by, category: str, description: str, whys: list):
    """Add a factor at the end of the list."""
    permissions.require(by, "edit", postmortem)
    last = postmortem.factors.order_by("-position").values_list("position", flat=True).first()
    return ContributingFactor.objects.create(
        postmortem=postmortem,
        category=category,
        description=description,
        whys=whys,
        position=(last or 0) + 1,
    )


def update_factor(
    *, factor: ContributingFactor, by, category: str, description: str, whys: list
) -> ContributingFactor:
    """Save an edited factor."""
    permissions.require(by, "edit", factor.postmortem)
    factor.category, factor.description, factor.whys = category, description, whys
    factor.save(update_fields=["category", "description", "whys"])
    return factor


def delete_factor(*, factor: ContributingFactor, by) -> None:
    """Remove a factor; the others keep their order."""
    permissions.require(by, "edit", factor.postmortem)
    factor.delete()


# --- Related incidents ----------------------------------------------------------------------


def link_related(*, incident: Incident, other: Incident, by) -> None:
    """Link two incidents with a shared cause; both must be visible to the person linking."""
    permissions.require(by, "edit", incident)
    permissions.require(by, "view", other)
    if other.pk == incident.pk:
        raise ValidationError("An incident cannot be related to itself.")
    incident.related.add(other)


def unlink_related(*, incident: Incident, other: Incident, by) -> None:
    permissions.require(by, "edit", incident)
    incident.related.remove(other)


# --- Review workflow ------------------------------------------------------------------------


def can_publish(postmortem: Postmortem, user) -> bool:
    return permissions.can(user, "publish", postmortem)


def publish_problems(postmortem: Postmortem) -> list[str]:
    """What the practice requires before publishing and this document still lacks."""
    problems = []
    if not postmortem.summary.strip():
        problems.append("Write the summary.")
    if not postmortem.impact.strip():
        problems.append("Describe the impact, with numbers.")
    if not postmortem.incident.timeline.exists():
        problems.append("Add at least one timeline event.")
    if not postmortem.factors.exists():
        problems.append("Add at least one contributing factor.")
    unowned = postmortem.action_items.filter(Q(owner__isnull=True) | Q(due_on__isnull=True))
    count = unowned.count()
    if count:
        problems.append(
            f"Give every action item an owner and a due date ({count} "
            f"item{'s' if count != 1 else ''} missing one)."
        )
    return problems


@transaction.atomic
def request_review(*, postmortem: Postmortem, reviewers: list, by: AbstractBaseUser) -> Postmortem:
    """Move the draft to review and email each reviewer a link once the change is committed."""
    permissions.require(by, "edit", postmortem)
    if not reviewers:
        raise ValidationError("Choose at least one reviewer.")
    incident = postmortem.incident
    unseeing = [u for u in reviewers if not incident.is_visible_to(u)]
    if unseeing:
        names = ", ".join(u.get_username() for u in unseeing)
        raise ValidationError(
            f"{names} cannot see this private incident; add them as members of the incident first."
        )
    now = timezone.now()
    postmortem.status = Postmortem.Status.IN_REVIEW
    postmortem.review_started_at = now
    postmortem.save(update_fields=["status", "review_started_at", "updated_at"])
    postmortem.reviewers.set(reviewers)
    invitations = ReviewInvitation.objects.bulk_create(
        [
            ReviewInvitation(postmortem=postmortem, reviewer=u, round_started_at=now)
            for u in reviewers
        ]
    )
    # Claimed with the request, sent by the outbox worker once it is committed (postmortems/
    # emails.py renders them); a broker outage leaves them pending for the outbox's resend.
    kind = Dispatch.Kind.REVIEW_INVITATION
    queue_emails(Key.about(kind, i.reviewer_id, i) for i in invitations if i.reviewer.email)
    return postmortem


@transaction.atomic
def approve_postmortem(*, postmortem: Postmortem, by: AbstractBaseUser, note: str = "") -> Approval:
    """Record the reviewer's approval of exactly the revisions in the document now."""
    permissions.require(by, "view", postmortem)
    reviewer = by
    if postmortem.status != Postmortem.Status.IN_REVIEW:
        raise ValidationError("Only a postmortem in review can be approved.")
    if not postmortem.reviewers.filter(pk=reviewer.pk).exists():
        raise ValidationError("Only the reviewers of this postmortem can approve it.")
    fresh = Postmortem.objects.select_for_update().get(pk=postmortem.pk)
    return Approval.objects.create(
        postmortem=postmortem,
        reviewer=reviewer,
        revisions=fresh.latest_numbers(),
        version=fresh.version,
        note=note,
    )


def changed_since(approval: Approval, numbers: dict[str, int]) -> list[str]:
    """Sections whose newest revision is past the one the approval covered."""
    return [
        section
        for section, number in numbers.items()
        if number > int(approval.revisions.get(section, 0))
    ]


@transaction.atomic
def publish_postmortem(
    *, postmortem: Postmortem, by: AbstractBaseUser, override_reason: str = ""
) -> Postmortem:
    """Publish, refusing missing requirements unless an override reason is recorded."""
    permissions.require(by, "publish", postmortem)
    if postmortem.status == Postmortem.Status.PUBLISHED:
        raise ValidationError("This postmortem is already published.")
    if postmortem.status != Postmortem.Status.IN_REVIEW:
        raise ValidationError("Send the postmortem for review before publishing it.")
    problems = publish_problems(postmortem)
    override_reason = override_reason.strip()
    if problems and not override_reason:
        raise ValidationError(
            ["Not ready to publish:", *problems, "Or give a reason to publish anyway."]
        )
    postmortem.status = Postmortem.Status.PUBLISHED
    postmortem.published_at = timezone.now()
    postmortem.published_by = by
    postmortem.publish_override_reason = override_reason if problems else ""
    postmortem.save(
        update_fields=[
            "status",
            "published_at",
            "published_by",
            "publish_override_reason",
            "updated_at",
        ]
    )
    return postmortem


def add_comment(*, postmortem: Postmortem, section: str, by, text: str) -> ReviewComment:
    """Leave a review comment on one section (or the whole document)."""
    permissions.require(by, "view", postmortem)
    text = text.strip()
    if not text:
        raise ValidationError("Write a comment first.")
    return ReviewComment.objects.create(
        postmortem=postmortem, section=section, author=by, text=text
    )
