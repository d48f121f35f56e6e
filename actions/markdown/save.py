"""Save a postmortem read from Markdown into an incident, all in one transaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from actions import services
from actions.models import ActionItem
from audit import trail
from incidents import bounds, permissions
from incidents.models import Incident, Team, TimelineEvent
from incidents.services import create_incident, describe_event
from postmortems.models import ContributingFactor, Postmortem
from postmortems.services import record_imported_sections

from .parse import NEEDS_DATE, TEXT_FIELDS, ImportResult, ParsedActionItem

DueRule = Callable[[ParsedActionItem], date]

# The practice's priorities as days from the import: P0 today, P1 a two-week sprint, P2 a
# quarter, P3 half a year so backlog items still come up for review.
DAYS_BY_PRIORITY = {0: 0, 1: 14, 2: 90, 3: 180}
DEFAULT_PRIORITY = ActionItem.Priority.P2
SUMMARY_LENGTH = 500


@dataclass
class ImportOutcome:
    incident: Incident
    postmortem: Postmortem
    created_incident: bool = False
    events_created: int = 0
    events_skipped: int = 0
    factors_created: int = 0
    action_items_created: int = 0
    action_items_skipped: int = 0
    related_linked: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def due_rule(spec: str, *, today: date) -> DueRule:
    """A due date for items without one: `2026-05-01`, `+14` (days from today), or `priority`
    (P0 today, P1 +14 days, P2 +90, P3 +180; no priority counts as P2)."""
    spec = spec.strip().lower()
    if spec == "priority":
        return lambda item: today + timedelta(days=DAYS_BY_PRIORITY[_priority(item)])
    relative = re.fullmatch(r"\+(\d+)d?", spec)
    if relative:
        days = int(relative[1])
        return lambda item: today + timedelta(days=days)
    try:
        fixed = date.fromisoformat(spec)
    except ValueError:
        raise ValueError(
            f"{spec!r} is not a due date rule: use YYYY-MM-DD, +DAYS or priority"
        ) from None
    return lambda item: fixed


def _priority(item: ParsedActionItem) -> int:
    return DEFAULT_PRIORITY if item.priority is None else item.priority


def action_item_problems(
    result: ImportResult, *, owner_fallback=None, default_due: DueRule | None = None
) -> list[str]:
    """Why items cannot be saved as they are, given the fallbacks chosen ([] when they can)."""
    found = []
    for item in result.action_items:
        issues = []
        if item.owner_issue and owner_fallback is None:
            issues.append(item.owner_issue)
        if item.due_issue and default_due is None:
            issues.append(item.due_issue)
        if issues:
            found.append(f"line {item.line_no} {item.title!r}: {'; '.join(issues)}")
    return found


def existing_content(postmortem: Postmortem) -> list[str]:
    """What an import would write over or add to: filled sections, factors, action items."""
    found = [name for name in TEXT_FIELDS if (getattr(postmortem, name) or "").strip()]
    factors = postmortem.factors.count()
    items = postmortem.action_items.count()
    if factors:
        found.append(f"{factors} contributing factor(s)")
    if items:
        found.append(f"{items} action item(s)")
    return found


@trail.audited
@transaction.atomic
def import_into_incident(
    result: ImportResult,
    *,
    incident: Incident,
    user,
    by,
    force: bool = False,
    owner_fallback=None,
    default_due: DueRule | None = None,
) -> ImportOutcome:
    """Fill an incident's postmortem, timeline, factors and action items from a read document.

    Refuses (ValidationError) when the postmortem already has content, unless `force`: then
    the document's sections replace those sections, and rows are added, skipping ones that are
    already there. Refuses too when an action item would lack an owner or a due date.

    `user` is who the imported rows are attributed to; `by` is who is importing, checked like
    any editor, or None for an operator at the console (`import_postmortem`), who already has
    the whole database.
    """
    if by is not None:
        permissions.require(by, "edit", incident)
    if result.needs_date:
        raise ValidationError(NEEDS_DATE)
    check_bounds(result)
    problems = action_item_problems(result, owner_fallback=owner_fallback, default_due=default_due)
    if problems:
        raise ValidationError(["Action items need an owner and a due date:", *problems])
    postmortem, created = Postmortem.objects.select_for_update().get_or_create(
        incident=incident, defaults={"author": _as_user(result.author_user) or user}
    )
    if not created:
        existing = existing_content(postmortem)
        if existing and not force:
            raise ValidationError(
                f"{incident.reference} already has a postmortem with {', '.join(existing)}; "
                "import with force to write over its sections."
            )
    outcome = ImportOutcome(incident=incident, postmortem=postmortem)
    _fill_postmortem(postmortem, result, user, created=created, by=by)
    _add_events(outcome, result, user)
    _add_factors(outcome, result)
    _add_action_items(outcome, result, user, by, owner_fallback, default_due)
    _link_related(outcome, result)
    return outcome


@trail.audited
@transaction.atomic
def import_as_new_incident(
    result: ImportResult,
    *,
    team: Team,
    user,
    by,
    severity: int | None = None,
    owner_fallback=None,
    default_due: DueRule | None = None,
) -> ImportOutcome:
    """Open an incident for a document that has none yet, then import into it."""
    if result.needs_date:
        raise ValidationError(NEEDS_DATE)
    check_bounds(result)
    fields, warnings = incident_fields(result, severity=severity)
    incident = create_incident(by=by, created_by=user, team=team, **fields)
    outcome = import_into_incident(
        result,
        incident=incident,
        user=user,
        by=by,
        owner_fallback=owner_fallback,
        default_due=default_due,
    )
    outcome.created_incident = True
    outcome.warnings = warnings + outcome.warnings
    return outcome


def check_bounds(result: ImportResult) -> None:
    """A document is held to what a typed form is held to: dates in range, no control
    characters (a NUL cannot even be stored by PostgreSQL)."""
    moments = [result.started_at, result.ended_at]
    moments += [event.occurred_at for event in result.timeline_events]
    if any(moment is not None and not bounds.day_in_range(moment) for moment in moments):
        raise ValidationError(f"The document has a time outside {bounds.RANGE_TEXT}.")
    texts = [result.title or "", *result.sections.values()]
    texts += [event.text for event in result.timeline_events]
    texts += [factor.description for factor in result.contributing_factors]
    if any(bounds.control_character(text, multiline=True) for text in texts):
        raise ValidationError("The document holds a control character (such as NUL).")


def incident_fields(result: ImportResult, *, severity: int | None = None):
    """Incident fields from a document, in the order start ≤ detected ≤ mitigated ≤ resolved."""
    missing = []
    if not result.title:
        missing.append("The document has no title.")
    if not (severity or result.severity):
        missing.append("The document has no severity; give one.")
    if not result.started_at:
        missing.append("No start time: add a Duration line or a timeline.")
    if missing:
        raise ValidationError(missing)
    warnings = []
    started = result.started_at
    resolved = result.ended_at if result.ended_at and result.ended_at >= started else None
    if resolved is None:
        warnings.append("No end time found; the incident stays open until someone resolves it.")
    detected = _first_phase(result, TimelineEvent.Phase.DETECTION, started, resolved)
    mitigated = _first_phase(result, TimelineEvent.Phase.MITIGATION, detected or started, resolved)
    fields = {
        "title": result.title[:200],
        "severity": severity or result.severity,
        "started_at": started,
        "detected_at": detected,
        "mitigated_at": mitigated,
        "resolved_at": resolved,
        "status": Incident.Status.RESOLVED if resolved else Incident.Status.INVESTIGATING,
        "commander": _as_user(result.commander_user),
        "summary": _first_paragraph(result.sections.get("summary", "")),
    }
    return fields, warnings


def _first_phase(result, phase, after: datetime, before: datetime | None) -> datetime | None:
    times = sorted(
        event.occurred_at
        for event in result.timeline_events
        if event.phase == phase
        and event.occurred_at >= after
        and (before is None or event.occurred_at <= before)
    )
    return times[0] if times else None


def _first_paragraph(text: str) -> str:
    paragraph = text.strip().split("\n\n")[0].strip()
    return paragraph[:SUMMARY_LENGTH]


# --- Rows ------------------------------------------------------------------------------------


def _as_user(candidate):
    """A User row for a matched person, who may have been given to the parser as a dict."""
    User = get_user_model()
    if candidate is None or isinstance(candidate, User):
        return candidate
    username = candidate.get("username") if isinstance(candidate, dict) else None
    username = username or getattr(candidate, "username", None)
    return User.objects.filter(username=username).first() if username else None


def _imported_status(postmortem: Postmortem, result: ImportResult, by, *, created) -> str:
    """The document's status where the review rules allow it (docs/domain.md, "Review"): an
    import never publishes or reopens an existing postmortem, and a new one arrives published
    only from the console or from someone who may publish without approvals."""
    if not result.status or not created:
        return postmortem.status
    published = result.status == Postmortem.Status.PUBLISHED
    if published and by is not None and not permissions.can(by, "publish_override", postmortem):
        return Postmortem.Status.IN_REVIEW
    return result.status


def _fill_postmortem(
    postmortem: Postmortem, result: ImportResult, user, *, created, by=None
) -> None:
    for name, text in result.sections.items():
        setattr(postmortem, name, text)
    postmortem.status = _imported_status(postmortem, result, by, created=created)
    now = timezone.now()
    if postmortem.status == Postmortem.Status.PUBLISHED and not postmortem.published_at:
        postmortem.published_at = now
    if postmortem.status != Postmortem.Status.DRAFT and not postmortem.review_started_at:
        postmortem.review_started_at = now
    if postmortem.author is None:
        postmortem.author = _as_user(result.author_user) or user
    if not created:
        postmortem.version += 1
    postmortem.save()
    record_imported_sections(postmortem=postmortem, texts=result.sections, author=user)
    reviewers = [_as_user(person) for person in result.reviewer_users]
    authors = postmortem.author_ids()  # nobody reviews their own postmortem
    postmortem.reviewers.add(*[p for p in reviewers if p is not None and p.pk not in authors])


def _add_events(outcome: ImportOutcome, result: ImportResult, user) -> None:
    incident = outcome.incident
    seen = set(incident.timeline.values_list("occurred_at", "text"))
    new = []
    for event in result.timeline_events:
        if (event.occurred_at, event.text) in seen:
            outcome.events_skipped += 1
            continue
        seen.add((event.occurred_at, event.text))
        new.append(
            TimelineEvent(
                incident=incident,
                occurred_at=event.occurred_at,
                text=event.text,
                source=event.source,
                source_detail=event.source_detail[:200],
                phase=event.phase,
                author=user,
                origin=TimelineEvent.Origin.IMPORT,
            )
        )
    TimelineEvent.objects.bulk_create(new)
    trail.record_added(incident, "timeline", new, describe=describe_event)  # no signals
    outcome.events_created = len(new)


def _add_factors(outcome: ImportOutcome, result: ImportResult) -> None:
    postmortem = outcome.postmortem
    seen = {(f.category, f.description.strip()) for f in postmortem.factors.all()}
    position = (postmortem.factors.aggregate(top=Max("position"))["top"] or 0) + 1
    new = []
    for factor in result.contributing_factors:
        key = (factor.category, factor.description.strip())
        if key in seen:
            continue
        seen.add(key)
        new.append(
            ContributingFactor(
                postmortem=postmortem,
                category=factor.category,
                description=factor.description,
                whys=factor.whys,
                position=position,
            )
        )
        position += 1
    ContributingFactor.objects.bulk_create(new)
    # bulk_create sends no signals; each factor is recorded in full
    trail.record_added(
        postmortem,
        "factors",
        new,
        describe=lambda f: f"{f.get_category_display()}: {f.description}",
    )
    outcome.factors_created = len(new)


def _add_action_items(outcome, result, user, by, owner_fallback, default_due) -> None:
    postmortem = outcome.postmortem
    seen = {
        title.strip().lower() for title in postmortem.action_items.values_list("title", flat=True)
    }
    for item in result.action_items:
        if item.title.strip().lower() in seen:
            outcome.action_items_skipped += 1
            continue
        seen.add(item.title.strip().lower())
        owner = _as_user(item.owner) or _as_user(owner_fallback)
        if owner is None:
            raise ValidationError(f"line {item.line_no} {item.title!r}: the owner is not a user.")
        # Through the items' own service: the permission, the "created" history entry and the
        # webhook announcement are the same as for an item typed in the editor.
        services.create_action_item(
            postmortem=postmortem,
            by=by,
            created_by=user,
            **_item_fields(outcome, item, owner, default_due),
        )
        outcome.action_items_created += 1


def _item_fields(outcome, item: ParsedActionItem, owner, default_due) -> dict:
    status = item.status
    reason = item.reason
    if status in ActionItem.STATUSES_NEEDING_REASON and not reason:
        # The model records why an item is blocked or dropped; say where the decision came from.
        label = ActionItem.Status(status).label.lower()
        reason = f"Marked {label} in the imported document; no reason was given."
    if len(item.title) > 200:
        outcome.warnings.append(f"line {item.line_no}: title cut to 200 characters.")
    url = item.ticket_url
    if len(url) > 200:
        outcome.warnings.append(f"line {item.line_no}: ticket link too long to keep.")
        url = ""
    return {
        "title": item.title[:200],
        "owner": owner,
        "due_on": item.due or default_due(item),
        "priority": _priority(item),
        "leverage": item.leverage,
        "status": status,
        "reason": reason,
        "ticket_key": item.ticket_key[:100],
        "ticket_url": url,
    }


def _link_related(outcome: ImportOutcome, result: ImportResult) -> None:
    incident = outcome.incident
    numbers = [int(ref.split("-")[1]) for ref in result.related]
    found = {
        other.number: other
        for other in Incident.objects.filter(number__in=numbers).exclude(pk=incident.pk)
    }
    for ref, number in zip(result.related, numbers, strict=True):
        if number in found:
            incident.related.add(found[number])
            outcome.related_linked.append(ref)
        elif number != incident.number:
            outcome.warnings.append(f"Related incident {ref} does not exist here; not linked.")
