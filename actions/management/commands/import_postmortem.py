import argparse
import json
from datetime import UTC, date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from actions.markdown import (
    action_item_problems,
    due_rule,
    import_as_new_incident,
    import_into_incident,
    parse_postmortem_markdown,
)
from actions.markdown.save import existing_content
from audit import trail
from incidents.models import Incident, Team
from postmortems.forms import MAX_IMPORT_CHARS, TOO_LONG
from postmortems.models import Postmortem


class Command(BaseCommand):
    help = (
        "Import a postmortem written in Markdown (our export, or another team's or tool's "
        "template). Prints what was read, what was not understood, and what needs a decision. "
        "Without --dry-run it saves: into --incident's postmortem, or into a new incident of "
        "--team. Action items need an owner and a due date: items whose owner matches no user "
        "(owners are matched by @handle, username, email or full name, never guessed from a "
        "first name) or that have no due date are listed as problems, and a real import "
        "refuses until --owner-fallback and/or --default-due cover them."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The Markdown file to read.")
        parser.add_argument("--dry-run", action="store_true", help="Read and report; save nothing.")
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")
        parser.add_argument(
            "--incident", metavar="INC-1042", help="Fill this incident's postmortem."
        )
        parser.add_argument("--team", metavar="SLUG", help="Open a new incident for this team.")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Who is importing: recorded as creator, and as author if the document names "
            "none that matches a user.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Import into a postmortem that already has content: the document's sections "
            "replace those sections; events, factors and items are added, skipping duplicates.",
        )
        parser.add_argument(
            "--owner-fallback",
            metavar="USERNAME",
            help="Owner for action items whose owner is missing or matches no user.",
        )
        parser.add_argument(
            "--default-due",
            metavar="RULE",
            help="Due date for action items without one: YYYY-MM-DD, +DAYS from today, or "
            "'priority' (P0 today, P1 +14 days, P2 +90, P3 +180; no priority counts as P2).",
        )
        parser.add_argument(
            "--severity",
            type=int,
            choices=[1, 2, 3],
            help="Severity of a new incident when the document gives none.",
        )
        parser.add_argument(
            "--date",
            metavar="YYYY-MM-DD",
            type=_day,
            help="The incident's date, for a document that gives none (its times are not "
            "placed on any day without it).",
        )
        parser.add_argument(
            "--tz",
            default="UTC",
            help="Time zone of times the document does not mark (default UTC).",
        )

    def handle(self, *args, **options):
        result = parse_postmortem_markdown(
            _read(options["file"]),
            users=_active_users(),
            tz=_zone(options["tz"]),
            day=options["date"],
            team_names=Team.objects.values_list("name", flat=True),
        )
        user = _user(options["user"], "--user")
        owner_fallback = _user(options["owner_fallback"], "--owner-fallback")
        default_due = _due_rule(options["default_due"])
        incident = _incident(options["incident"])
        problems = action_item_problems(
            result, owner_fallback=owner_fallback, default_due=default_due
        )
        problems += _target_problems(incident, options)
        if result.needs_date:
            problems.insert(0, "The document gives no date for its times: give --date YYYY-MM-DD.")
        summary = result.to_summary()
        summary["problems"] = problems
        if not options["dry_run"]:
            if problems:
                raise CommandError(_refusal(problems))
            # The services are called with by=None (nobody to ask at the console); the audit
            # trail names the person the import is run as.
            with trail.acting(user):
                summary["imported"] = _import(
                    result, incident, user, options, owner_fallback, default_due
                )
        self._print(summary, as_json=options["json"])

    def _print(self, summary: dict, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))
        else:
            self.stdout.write("\n".join(_report_lines(summary)))


def _import(result, incident, user, options, owner_fallback, default_due) -> dict:
    """Save through the import services; their refusals become command errors."""
    try:
        if incident:
            outcome = import_into_incident(
                result,
                incident=incident,
                user=user,
                by=None,  # an operator at the console, not a signed-in person
                force=options["force"],
                owner_fallback=owner_fallback,
                default_due=default_due,
            )
        else:
            outcome = import_as_new_incident(
                result,
                team=_team(options["team"]),
                user=user,
                by=None,
                severity=options["severity"],
                owner_fallback=owner_fallback,
                default_due=default_due,
            )
    except ValidationError as err:
        raise CommandError(" ".join(err.messages)) from None
    return {
        "incident": outcome.incident.reference,
        "created_incident": outcome.created_incident,
        "timeline_events": outcome.events_created,
        "timeline_events_skipped": outcome.events_skipped,
        "contributing_factors": outcome.factors_created,
        "action_items": outcome.action_items_created,
        "action_items_skipped": outcome.action_items_skipped,
        "related_linked": outcome.related_linked,
        "warnings": outcome.warnings,
    }


# --- Arguments -------------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CommandError(f"Cannot read {path}: {err}") from None
    if len(text) > MAX_IMPORT_CHARS:
        raise CommandError(TOO_LONG)
    return text


def _zone(name: str):
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CommandError(f"Unknown time zone {name!r}.") from None


def _active_users():
    User = get_user_model()
    return list(
        User.objects.filter(is_active=True).only("username", "first_name", "last_name", "email")
    )


def _user(username: str | None, option: str):
    if not username:
        return None
    user = get_user_model().objects.filter(username=username.lstrip("@"), is_active=True).first()
    if user is None:
        raise CommandError(f"{option}: no active user {username!r}.")
    return user


def _due_rule(spec: str | None):
    if not spec:
        return None
    try:
        return due_rule(spec, today=timezone.localdate())
    except ValueError as err:
        raise CommandError(f"--default-due: {err}") from None


def _incident(reference: str | None):
    if not reference:
        return None
    number = reference.upper().removeprefix("INC-").removeprefix("INC")
    incident = Incident.objects.filter(number=int(number)).first() if number.isdigit() else None
    if incident is None:
        raise CommandError(f"--incident: no incident {reference!r}.")
    return incident


def _team(slug: str) -> Team:
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise CommandError(f"--team: no team with slug {slug!r}.")
    return team


def _day(text: str):
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _target_problems(incident, options) -> list[str]:
    """Reasons the save would be refused that the summary should show even in a dry run."""
    if incident is None:
        if not options["team"]:
            return ["Give --incident INC-… to fill an existing incident, or --team SLUG."]
        _team(options["team"])
        return []
    postmortem = Postmortem.objects.filter(incident=incident).first()
    existing = existing_content(postmortem) if postmortem else []
    if existing and not options["force"]:
        return [f"{incident.reference} already has {', '.join(existing)}; use --force."]
    return []


def _refusal(problems: list[str]) -> str:
    lines = ["Nothing was imported:", *[f"  - {problem}" for problem in problems]]
    lines.append(
        "Fix the document, or use --owner-fallback USERNAME / --default-due RULE for action "
        "items; --dry-run shows the full report."
    )
    return "\n".join(lines)


# --- Human-readable report -------------------------------------------------------------------


def _report_lines(summary: dict) -> list[str]:
    severity = summary["severity"]
    lines = [
        f"Title: {summary['title'] or '(none)'}",
        f"Severity: {f'SEV{severity}' if severity else '(none)'}",
        f"Date: {summary['date'] or '(none)'}   Duration: {summary['duration'] or '(none)'}",
        f"Sections: {', '.join(summary['sections']) or '(none)'}",
        f"Timeline events: {summary['timeline_events']['count']}",
    ]
    lines += [
        f"  {e['occurred_at']} [{e['source']}/{e['phase']}] {e['text']}"
        for e in summary["timeline_events"]["events"]
    ]
    lines.append(f"Contributing factors: {len(summary['contributing_factors'])}")
    lines += [f"  {f['category']}: {f['description']}" for f in summary["contributing_factors"]]
    lines.append(f"Action items: {len(summary['action_items'])}")
    lines += [_item_line(item) for item in summary["action_items"]]
    lines += _list(
        "Not understood",
        [
            f"line {u['line']}{f' ({reason})' if (reason := u.get('reason')) else ''}: {u['text']}"
            for u in summary["unmapped"]
        ],
    )
    lines += _list("Warnings", summary["warnings"])
    lines += _list("Problems", summary["problems"])
    if "imported" in summary:
        done = summary["imported"]
        lines.append(
            f"Imported into {done['incident']}: {done['timeline_events']} events, "
            f"{done['contributing_factors']} factors, {done['action_items']} action items."
        )
        lines += [f"  {warning}" for warning in done["warnings"]]
    return lines


def _item_line(item: dict) -> str:
    owner = f"@{item['owner']}" if item["owner"] else f"{item['owner_text'] or '?'} (unmatched)"
    due = item["due"] or item["due_text"] or "?"
    details = [item["priority"] or "no priority", item["status"], item["ticket_key"] or "no ticket"]
    hints = "".join(f" [{hint}]" for hint in item.get("hints", []))
    return f"  {item['title']} — owner {owner}, due {due}, {', '.join(details)}{hints}"


def _list(label: str, entries: list[str]) -> list[str]:
    return [f"{label}:", *[f"  {entry}" for entry in entries]] if entries else []
