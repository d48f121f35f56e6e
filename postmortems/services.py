from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from audit import trail
from incidents import permissions
from incidents.models import Incident
from incidents.services import update_if_unchanged
from outbox.ledger import Key
from outbox.models import Dispatch
from outbox.queue import queue_emails

from . import checks, merging
from .approvals import approval_state
from .approvals import changed_since as changed_since
from .models import (
    Approval,
    ContributingFactor,
    Postmortem,
    Reopening,
    ReviewComment,
    ReviewInvitation,
    SectionRevision,
)
from .review_rules import is_read_only


class PublishedLocked(Exception):
    """A review change asked of a published postmortem: reopening it is its own action."""

    message = (
        "This postmortem is published. To change its review, reopen it with a reason; "
        "the reviewers are told why."
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


class SectionTooLarge(ValidationError):
    """The text is over the section size limit (DEBRIEF_SECTION_MAX_BYTES); nothing was saved."""

    def __init__(self, section: str, size: int, limit: int):
        self.size, self.limit = size, limit
        super().__init__(
            f"Not saved — {Postmortem.SECTION_LABELS.get(section, 'this section')} is "
            f"{_kb(size)}; a section holds at most {_kb(limit)}. Move long logs or output to a "
            "linked file and keep the summary here. Your text is kept in the box.",
            code="too_large",
        )


def _kb(size: int) -> str:
    return f"{size / 1000:,.0f} KB" if size >= 1000 else f"{size} bytes"


def check_section_size(section: str, text: str) -> None:
    """Raise SectionTooLarge when text is over the limit; every route that writes a section
    (editor, restore, import) asks this before saving."""
    limit = settings.DEBRIEF_SECTION_MAX_BYTES
    # Characters first: a text under limit/4 characters cannot exceed limit bytes in UTF-8.
    if len(text) * 4 > limit and (size := len(text.encode("utf-8"))) > limit:
        raise SectionTooLarge(section, size, limit)


def store_section_checks(postmortem: Postmortem, texts: list[str]) -> None:
    """Check the wording of newly saved section texts once, so pages only read the result."""
    names = [service.name for service in postmortem.incident.services.all()]
    checks.stored_findings(texts, names, checks.people_names())


# --- Starting -------------------------------------------------------------------------------


def _check_people(incident: Incident, people: list, role: str) -> None:
    """Authors and reviewers must be able to see the incident and to write."""
    unseeing = [u for u in people if not incident.is_visible_to(u)]
    if unseeing:
        names = ", ".join(u.get_username() for u in unseeing)
        raise ValidationError(
            f"{names} cannot see this private incident; add them as members of the incident first."
        )
    readers = [u for u in people if is_read_only(u)]
    if readers:
        names = ", ".join(u.get_username() for u in readers)
        raise ValidationError(f"{names} has read-only access and cannot be {role}.")


@trail.audited
@transaction.atomic
def start_postmortem(
    *,
    incident: Incident,
    by: AbstractBaseUser,
    author: AbstractBaseUser | None = None,
    co_authors: list | tuple = (),
) -> Postmortem:
    """Open the incident's postmortem (or return the existing one); sections start empty.

    The lead author is whoever starts it unless someone else is named.
    """
    permissions.require(by, "edit", incident)
    existing = Postmortem.objects.filter(incident=incident).first()
    if existing is not None:
        return existing
    author = author or by
    co_authors = [u for u in co_authors if u.pk != author.pk]
    _check_people(incident, [author, *co_authors], "an author")
    postmortem, created = Postmortem.objects.get_or_create(
        incident=incident, defaults={"author": author}
    )
    if created and co_authors:
        postmortem.co_authors.set(co_authors)
    return postmortem


@trail.audited
@transaction.atomic
def set_authors(
    *, postmortem: Postmortem, author: AbstractBaseUser, co_authors: list, by: AbstractBaseUser
) -> list:
    """Name the lead author and co-authors; returns the reviewers dropped for becoming authors."""
    permissions.require(by, "change_authors", postmortem)
    if author is None:
        raise ValidationError("Choose a lead author.")
    co_authors = [u for u in co_authors if u.pk != author.pk]
    _check_people(postmortem.incident, [author, *co_authors], "an author")
    Postmortem.objects.filter(pk=postmortem.pk).update(author=author, updated_at=timezone.now())
    postmortem.author = author
    postmortem.co_authors.set(co_authors)
    postmortem.__dict__.pop("_author_ids", None)
    # Nobody reviews their own work: a reviewer who becomes an author stops reviewing.
    dropped = list(postmortem.reviewers.filter(pk__in=postmortem.author_ids()))
    postmortem.reviewers.remove(*dropped)
    return dropped


# --- Sections and their revisions -----------------------------------------------------------


def _newest(postmortem: Postmortem, section: str) -> SectionRevision | None:
    return (
        SectionRevision.objects.filter(postmortem=postmortem, section=section)
        .select_related("author")
        .order_by("-number")
        .first()
    )


@trail.audited
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
    check_section_size(section, text)
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
            check_section_size(section, text)
        if text == current and restored_from is None:
            return newest
        try:
            if newest is None and current:
                # Text written before any revision (demo data, older postmortems) is kept as
                # revision 0: it is the base every editor who opened the page then started from.
                _keep_original(postmortem, section, current)
            before = trail.snapshot(postmortem)
            revision = _record(postmortem, section, text, base, by, restored_from)
        except IntegrityError:
            # A parallel save took the same number between our check and our insert.
            if merge:
                continue
            raise SectionConflict(_newest(postmortem, section)) from None
        # update() sends no signal, so the section's before and after are recorded here.
        trail.record_update(before, {section: text}, row=postmortem)
        setattr(postmortem, section, text)
        store_section_checks(postmortem, [text])
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
    store_section_checks(postmortem, [t.replace("\r\n", "\n") for t in texts.values()])


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


@trail.audited
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


@trail.audited
def update_factor(
    *,
    factor: ContributingFactor,
    by,
    category: str,
    description: str,
    whys: list,
    version: int | None = None,
) -> ContributingFactor:
    """Save an edited factor if nobody saved it since `version` (None: whatever is there)."""
    permissions.require(by, "edit", factor.postmortem)
    changes = {"category": category, "description": description, "whys": whys}
    update_if_unchanged(factor, version, **changes)
    factor.category, factor.description, factor.whys = category, description, whys
    return factor


@trail.audited
def delete_factor(*, factor: ContributingFactor, by) -> None:
    """Remove a factor; the others keep their order."""
    permissions.require(by, "edit", factor.postmortem)
    factor.delete()


# --- Related incidents ----------------------------------------------------------------------


@trail.audited
def link_related(*, incident: Incident, other: Incident, by) -> None:
    """Link two incidents with a shared cause; both must be visible to the person linking."""
    permissions.require(by, "edit", incident)
    permissions.require(by, "view", other)
    if other.pk == incident.pk:
        raise ValidationError("An incident cannot be related to itself.")
    incident.related.add(other)


@trail.audited
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


@trail.audited
@transaction.atomic
def request_review(*, postmortem: Postmortem, reviewers: list, by: AbstractBaseUser) -> Postmortem:
    """Move the draft to review and email each reviewer a link once the change is committed."""
    permissions.require(by, "send_for_review", postmortem)
    if postmortem.status == Postmortem.Status.PUBLISHED:
        raise PublishedLocked(PublishedLocked.message)
    if not reviewers:
        raise ValidationError("Choose at least one reviewer.")
    authors = [u for u in reviewers if u.pk in postmortem.author_ids()]
    if authors:
        names = ", ".join(u.get_username() for u in authors)
        raise ValidationError(
            f"{names} {'is an author' if len(authors) == 1 else 'are authors'} of this "
            "postmortem; authors do not review their own work. Choose someone else."
        )
    _check_people(postmortem.incident, reviewers, "a reviewer")
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


@trail.audited
@transaction.atomic
def approve_postmortem(*, postmortem: Postmortem, by: AbstractBaseUser, note: str = "") -> Approval:
    """Record the reviewer's approval of exactly the revisions in the document now."""
    permissions.require(by, "approve", postmortem)
    fresh = Postmortem.objects.select_for_update().get(pk=postmortem.pk)
    if fresh.status != Postmortem.Status.IN_REVIEW:
        raise ValidationError("Only a postmortem in review can be approved.")
    return Approval.objects.create(
        postmortem=postmortem,
        reviewer=by,
        revisions=fresh.latest_numbers(),
        version=fresh.version,
        note=note.strip(),
    )


@trail.audited
def request_changes(*, postmortem: Postmortem, by: AbstractBaseUser, text: str) -> ReviewComment:
    """A reviewer asks for changes: their comment, which also withdraws their approval."""
    permissions.require(by, "approve", postmortem)
    if postmortem.status != Postmortem.Status.IN_REVIEW:
        raise ValidationError("Only a postmortem in review can be sent back for changes.")
    text = text.strip()
    if not text:
        raise ValidationError("Say what should change, so the authors know what to do.")
    return ReviewComment.objects.create(
        postmortem=postmortem,
        section=ReviewComment.GENERAL,
        author=by,
        text=text,
        kind=ReviewComment.Kind.CHANGES_REQUESTED,
    )


@trail.audited
@transaction.atomic
def publish_postmortem(
    *, postmortem: Postmortem, by: AbstractBaseUser, override_reason: str = ""
) -> Postmortem:
    """Publish once the practice's requirements and the approvals are met; a team manager or
    an admin may publish without them, with a recorded reason."""
    permissions.require(by, "publish", postmortem)
    # Locked so that no section save slips in between counting the approvals and publishing.
    fresh = Postmortem.objects.select_for_update().get(pk=postmortem.pk)
    if fresh.status == Postmortem.Status.PUBLISHED:
        raise ValidationError("This postmortem is already published.")
    if fresh.status != Postmortem.Status.IN_REVIEW:
        raise ValidationError("Send the postmortem for review before publishing it.")
    problems = publish_problems(fresh)
    approvals = approval_state(fresh)
    if not approvals.met:
        problems.append(approvals.shortfall)
    override_reason = override_reason.strip()
    if problems and not override_reason:
        if permissions.can(by, "publish_override", postmortem):
            last = "Or give a reason to publish anyway; it is recorded on the page."
        else:
            last = "A manager of the incident's team or an admin can publish anyway, with a reason."
        raise ValidationError(["Not ready to publish:", *problems, last])
    if problems:
        permissions.require(by, "publish_override", postmortem)
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


REOPEN_TO = (Postmortem.Status.IN_REVIEW, Postmortem.Status.DRAFT)


@trail.audited
@transaction.atomic
def reopen_postmortem(
    *,
    postmortem: Postmortem,
    by: AbstractBaseUser,
    reason: str,
    to_status: str = Postmortem.Status.IN_REVIEW,
) -> Reopening:
    """Send a published postmortem back to review (or draft): a new version, earlier approvals
    no longer count, the reason is recorded and the reviewers are emailed it."""
    permissions.require(by, "reopen", postmortem)
    reason = reason.strip()
    if not reason:
        raise ValidationError("Say why the postmortem is reopened; the reviewers read it.")
    if to_status not in REOPEN_TO:
        raise ValidationError("Reopen it to review or to draft.")
    fresh = Postmortem.objects.select_for_update().get(pk=postmortem.pk)
    if fresh.status != Postmortem.Status.PUBLISHED:
        raise ValidationError("Only a published postmortem can be reopened.")
    now = timezone.now()
    changes = {
        "status": to_status,
        "review_started_at": now if to_status == Postmortem.Status.IN_REVIEW else None,
        "published_at": None,
        "published_by": None,
        "publish_override_reason": "",
        "updated_at": now,
    }
    Postmortem.objects.filter(pk=fresh.pk).update(version=F("version") + 1, **changes)
    # update() sends no signal: the audit trail records the reopening's before and after here.
    trail.record_update(fresh, changes, row=postmortem)
    reopening = Reopening.objects.create(
        postmortem=fresh,
        by=by,
        reason=reason,
        to_status=to_status,
        version=fresh.version + 1,
        was_published_at=fresh.published_at,
        was_published_by_id=fresh.published_by_id,
    )
    postmortem.refresh_from_db()
    authors = postmortem.author_ids()
    reviewers = [u for u in postmortem.reviewers.all() if u.email and u.pk not in authors]
    kind = Dispatch.Kind.REVIEW_REOPENED
    queue_emails(Key.about(kind, u.pk, reopening) for u in reviewers)
    return reopening


@trail.audited
def add_comment(*, postmortem: Postmortem, section: str, by, text: str) -> ReviewComment:
    """Leave a review comment on one section (or the whole document)."""
    permissions.require(by, "comment", postmortem)
    text = text.strip()
    if not text:
        raise ValidationError("Write a comment first.")
    return ReviewComment.objects.create(
        postmortem=postmortem, section=section, author=by, text=text
    )
