"""Read a postmortem written in another tool's or team's Markdown template, without writing.

Everything understood lands in an ImportResult. Everything not understood is listed in
`unmapped` with its line number and every doubtful reading in `warnings`, so the person
importing decides instead of the parser guessing.

Choices worth knowing:
- "Where we got lucky" is filed under went_poorly, under a bold "Where we got lucky" label:
  luck is a latent risk that happened not to bite, which is what that section is for.
- Two headings that map to one field ("Detection" and "Why we didn't catch it sooner") are
  both kept: the later one is appended under a bold label with its own heading.
- A "Trigger" section becomes contributing factors whose text starts "Trigger: ", since the
  trigger is one factor among several, not the root cause on its own.
- "Resolution", "Responders", "Leadup" and similar sections have no field and are reported in
  `unmapped` rather than folded into another section.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from actions.models import ActionItem
from actions.quality import action_item_hints
from incidents.models import TimelineEvent
from incidents.timeline_paste import (
    ParsedEvent,
    is_separator_row,
    is_table_row,
    leading_stamp,
    map_columns,
    match_date,
    normalise_heading,
    parse_loose_date,
    parse_timeline,
    split_table_row,
    zone_hint,
)
from postmortems.models import ContributingFactor, Postmortem

from .blocks import (
    Block,
    is_example,
    is_placeholder,
    looks_like_guidance,
    mark_guidance,
    split_blocks,
)

Category = ContributingFactor.Category
Status = ActionItem.Status
Leverage = ActionItem.Leverage
TEXT_FIELDS = [name for name, _ in Postmortem.SECTIONS]


# --- What a read document holds --------------------------------------------------------------


@dataclass
class ParsedFactor:
    category: str
    description: str
    whys: list[dict] = field(default_factory=list)  # [{"text": ..., "children": [...]}]
    line_no: int = 0


@dataclass
class ParsedActionItem:
    title: str
    line_no: int = 0
    owner_text: str = ""
    owner: Any = None  # one of the `users` given to the parser, or None
    owner_problem: str = ""
    due: date | None = None
    due_text: str = ""
    priority: int | None = None
    status: str = Status.OPEN
    reason: str = ""
    ticket_key: str = ""
    ticket_url: str = ""
    leverage: str = ""
    leverage_guessed: bool = False
    hints: list = field(default_factory=list)  # quality hints worth settling before saving

    # The model needs an owner and a due date; these say why one is missing ("" when fine).
    @property
    def owner_issue(self) -> str:
        if self.owner is not None:
            return ""
        if not self.owner_text:
            return "no owner"
        return self.owner_problem or f"owner {self.owner_text!r} matches no user"

    @property
    def due_issue(self) -> str:
        if self.due is not None:
            return ""
        return f"due {self.due_text!r} is not a date" if self.due_text else "no due date"

    @property
    def problems(self) -> list[str]:
        return [issue for issue in (self.owner_issue, self.due_issue) if issue]


@dataclass
class Unmapped:
    line_no: int
    text: str
    reason: str = ""  # "template guidance" for a template's prompt left in place


@dataclass
class ImportResult:
    title: str = ""
    severity: int | None = None
    date: date | None = None
    duration: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    status: str | None = None
    author: str = ""
    authors: list[str] = field(default_factory=list)
    author_user: Any = None
    reviewers: list[str] = field(default_factory=list)
    reviewer_users: list = field(default_factory=list)
    commander: str = ""
    commander_user: Any = None
    incident_ref: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    timeline_events: list[ParsedEvent] = field(default_factory=list)
    contributing_factors: list[ParsedFactor] = field(default_factory=list)
    action_items: list[ParsedActionItem] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # True when the document gives no date: its times have no day until someone gives one.
    needs_date: bool = False

    def to_summary(self) -> dict:
        """Plain data for JSON: what was read, what was not, and what needs a decision."""
        return {
            "title": self.title,
            "severity": self.severity,
            "date": _iso(self.date),
            "duration": self.duration,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "status": self.status,
            "author": self.author,
            "reviewers": self.reviewers,
            "incident": self.incident_ref,
            "sections": [name for name in TEXT_FIELDS if name in self.sections],
            "timeline_events": {
                "count": len(self.timeline_events),
                "events": [_event_summary(event) for event in self.timeline_events],
            },
            "contributing_factors": [
                {"category": f.category, "description": f.description, "whys": f.whys}
                for f in self.contributing_factors
            ],
            "action_items": [_item_summary(item) for item in self.action_items],
            "related": self.related,
            "unmapped": [
                {"line": u.line_no, "text": u.text, "reason": u.reason} for u in self.unmapped
            ],
            "needs_date": self.needs_date,
            "warnings": self.warnings,
        }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _event_summary(event: ParsedEvent) -> dict:
    data = asdict(event)
    data["occurred_at"] = event.occurred_at.isoformat()
    data["line"] = data.pop("line_no")
    return data


def _item_summary(item: ParsedActionItem) -> dict:
    return {
        "line": item.line_no,
        "title": item.title,
        "owner": _username(item.owner),
        "owner_text": item.owner_text,
        "due": _iso(item.due),
        "due_text": item.due_text,
        "priority": None if item.priority is None else f"P{item.priority}",
        "status": item.status,
        "reason": item.reason,
        "ticket_key": item.ticket_key,
        "ticket_url": item.ticket_url,
        "leverage": item.leverage,
        "problems": item.problems,
        "hints": [hint.message for hint in item.hints],
    }


# --- People ----------------------------------------------------------------------------------


def _attr(user, name: str) -> str:
    value = user.get(name, "") if isinstance(user, dict) else getattr(user, name, "")
    return (value or "").strip()


def _username(user) -> str | None:
    return _attr(user, "username") or None if user is not None else None


class People:
    """Finds users by @handle, exact username, email or full name; never by a first name.

    A bare word must be the username exactly: "Bob" may be a first name, "bob" is a username.
    """

    def __init__(self, users):
        self.known = users is not None
        self.by_key: dict[str, list] = {}
        for user in users or []:
            username = _attr(user, "username")
            full = f"{_attr(user, 'first_name')} {_attr(user, 'last_name')}".strip()
            keys = {f"@{username.lower()}", username, _attr(user, "email").lower()}
            keys.add(full.lower() if " " in full else "")
            for key in keys - {"", "@"}:
                self.by_key.setdefault(key, []).append(user)

    def match(self, text: str) -> tuple[Any, str]:
        """The one user `text` names, or None and why not."""
        text = _plain(text)
        if not text:
            return None, "no owner"
        if len(_split_names(text)) > 1:
            return None, f"{text!r} names several people; an item has one owner"
        if not self.known:
            return None, f"owner {text!r} not checked against users"
        found = self.by_key.get(_person_key(text), [])
        if len({id(user) for user in found}) > 1:
            return None, f"{text!r} matches several users"
        if not found:
            return None, f"owner {text!r} matches no user"
        return found[0], ""


def _person_key(text: str) -> str:
    if re.fullmatch(r"[^\s@]+@[^\s@]+\.\w+", text):
        return text.lower()  # an email address
    handle = re.search(r"(?<![\w.])@([\w.\-]+)", text)
    if handle:
        return f"@{handle[1].lower()}"  # "@bob" or "Bob Reyes (@bob)"
    return text if " " not in text else " ".join(text.lower().split())


def _split_names(text: str) -> list[str]:
    return [part for part in re.split(r"\s*(?:,|;|&|/|\band\b)\s*", text) if part.strip()]


def _plain(text: str) -> str:
    """Text without Markdown emphasis, code marks or link targets (underscores in names stay)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|`|\*)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"\1", text)
    return text.strip().strip("*").strip()


# --- Document structure ----------------------------------------------------------------------


@dataclass
class _Line:
    no: int
    text: str


@dataclass
class _Section:
    heading: str
    level: int
    line_no: int
    kind: str | None
    lines: list[_Line] = field(default_factory=list)
    alias: str = ""
    blocks: list[Block] = field(default_factory=list)


_SECTION_ALIASES = {
    "summary": (
        "summary", "executive summary", "overview", "incident summary", "tl dr", "tldr",
        "what happened", "description", "abstract",
    ),
    "impact": ("impact", "customer impact", "user impact", "business impact", "impact assessment"),
    "timeline": (
        "timeline", "incident timeline", "timeline of events", "sequence of events",
        "chronology", "detailed timeline", "key events", "key moments", "timeline of key events",
    ),
    "root_cause": (
        "root cause", "root causes", "root cause analysis", "rca", "blameless root cause",
        "cause", "causes",
    ),
    "factors": (
        "contributing factors", "contributing factor", "contributing causes", "factors",
        "trigger", "triggers",
    ),
    "whys": ("five whys", "5 whys", "5 why's", "five why's"),
    "detection": (
        "why we didn't catch it sooner", "why didn't we catch it sooner", "detection",
        "why wasn't it caught sooner", "how was it detected", "detection gaps", "detection gap",
    ),
    "went_well": ("what went well", "went well", "things that went well", "what worked"),
    "went_poorly": (
        "what went poorly", "what went wrong", "went wrong", "went poorly", "what didn't go well",
        "what did not go well", "what didn't go so well", "what did not go so well",
        "what could have gone better", "things that went wrong",
        "where we got lucky", "what was lucky",
    ),
    "lessons": (
        "lessons learned", "lessons learnt", "lessons", "takeaways", "key takeaways", "learnings",
    ),
    "actions": (
        "action items", "actions", "follow-ups", "follow ups", "followups", "follow-up tasks",
        "follow-up actions", "corrective actions", "corrective and preventive actions",
        "corrective and preventative actions", "remediation", "remediations",
        "remediation items", "next steps", "action plan",
    ),
    "related": (
        "related incidents", "related", "related records", "similar incidents",
        "previous incidents",
    ),
    "metadata": ("metadata", "incident details", "incident information", "at a glance"),
}  # fmt: skip
# Too general to match as a prefix ("Actions taken" is not a list of action items).
_EXACT_ONLY = {"details", "description", "actions", "cause", "causes", "related", "metadata"}
_LABELLED_ALIASES = {"where we got lucky", "what was lucky"}
_TITLE_PREFIX = re.compile(
    r"^(?:incident\s+)?(?:post[\s-]?mortem|post[\s-]?incident\s+review|incident\s+review"
    r"|incident\s+report|pir|retrospective)\s*(?:[:—–-]|\bfor\b)\s*",
    re.I,
)
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(
    r"^\s*(?:\*\*|__)([^*_]+?)(?:\*\*|__)\s*:?\s*$|^\s*(?:\*\*|__)([^*_]+?):(?:\*\*|__)\s*$"
)
_FENCE = re.compile(r"^\s*(```|~~~)")


def section_kind(heading: str) -> tuple[str | None, str]:
    """The section a heading names, and the alias it matched."""
    name = normalise_heading(heading)
    for kind, aliases in _SECTION_ALIASES.items():
        if name in aliases:
            return kind, name
    best = None
    for kind, aliases in _SECTION_ALIASES.items():
        for alias in aliases:
            longer = best is None or len(alias) > len(best[1])
            if longer and alias not in _EXACT_ONLY and name.startswith(alias + " "):
                best = (kind, alias)
    if best and not name.startswith("actions taken"):
        return best
    return None, name


def heading_name(text: str) -> str:
    """A heading without its numbering ("2  Timeline", "III. Impact", "1\\. Summary")."""
    text = _plain(text.replace("\\.", ".").replace("\\-", "-"))
    return re.sub(
        r"^\s*(?:\d+(?:\.\d+)*[.)]?|[IVXivx]+[.)])\s*(?:[—–:-]\s*)?(?=\S)", "", text
    ).strip()


def _numbered_kind(heading: str) -> tuple[str | None, str]:
    return section_kind(heading_name(heading))


_BOLD_ONLY = re.compile(r"^\s*(\*\*|__)(?P<text>[^*_\n]+?)\s*:?\s*\1\s*:?\s*$")


def _block_heading(block: Block, doc, current) -> tuple[int, str, Block | None] | None:
    """(level, heading text, rest of the block) when a block acts as a heading.

    Besides real headings: a paragraph that is one bold line naming a section (Google Docs
    exports), the first bold line of a document (its title), and in plain-text notes a
    paragraph whose first line is only a section name ("timeline", "follow-ups:").
    """
    if block.kind == "heading":
        return block.level, block.text.strip(), None
    if block.kind != "paragraph":
        return None
    first = block.source[block.start].strip()
    bold = _BOLD_ONLY.match(first)
    if bold:
        text = bold["text"].strip()
        if _numbered_kind(text)[0]:
            return 6, text, block.rest()
        if not doc.title and current is None and not doc.sections and block.end - block.start == 1:
            return 1, text, None
        return None
    bare = first.rstrip(":").strip()
    kind, alias = _numbered_kind(bare)
    named = kind and kind != "metadata" and normalise_heading(bare) == alias
    if named and ":" not in bare and len(bare) <= 40 and not _LIST_ITEM.match(first):
        return 6, bare, block.rest()
    return None


@dataclass
class _Document:
    title: str = ""
    title_line: int = 0
    front_matter: list[_Line] = field(default_factory=list)
    preamble: list[_Line] = field(default_factory=list)
    sections: list[_Section] = field(default_factory=list)
    guidance: list[_Line] = field(default_factory=list)
    preamble_blocks: list[Block] = field(default_factory=list)


def _split_document(lines: list[str]) -> _Document:
    doc = _Document()
    start = _front_matter(lines, doc)
    # Front matter blanked, not removed, so every block keeps its line number.
    blocks = split_blocks("\n".join([""] * start + lines[start:]))
    current: _Section | None = None
    for block in blocks:
        heading = _block_heading(block, doc, current)
        if heading is None:
            if current is None and not doc.title and not doc.preamble_blocks and _title_line(block):
                doc.title, doc.title_line = block.source[block.start].strip(), block.line_no
                block = block.rest()
                if block is None:
                    continue
            (current.blocks if current else doc.preamble_blocks).append(block)
            continue
        level, text, rest = heading
        kind, alias = _numbered_kind(text)
        if kind is None and _meta_key(heading_name(text)) and (current or doc.title):
            kind, alias = "meta_field", heading_name(text)
        if current is None and not doc.title and kind is None and level <= 2:
            doc.title, doc.title_line = _plain(text), block.line_no
            continue
        if current and _stays_inside(current, kind, level, heading_name(text)):
            current.blocks.append(block)
            continue
        current = _Section(text, level, block.line_no, kind, alias=alias)
        doc.sections.append(current)
        if rest is not None:
            current.blocks.append(rest)
    mark_guidance(doc.preamble_blocks)
    doc.preamble = _lines(doc.preamble_blocks, doc)
    for section in doc.sections:
        mark_guidance(section.blocks)
        section.lines = _lines(section.blocks, doc)
    return doc


def _title_line(block: Block) -> bool:
    """A plain first line that names the document ("Cache stampede on the recs API")."""
    if block.kind != "paragraph" or block.end - block.start < 2:
        return False
    first = block.source[block.start].strip()
    return bool(first) and not _key_value(first) and len(first) <= 120 and not is_table_row(first)


def _lines(blocks: list[Block], doc: _Document) -> list[_Line]:
    """The lines of the blocks that are content; guidance goes to `doc.guidance`."""
    lines: list[_Line] = []
    previous_end = None
    for block in blocks:
        chosen = [_Line(no, text) for no, text in block.lines]
        if block.guidance:
            doc.guidance.extend(line for line in chosen if line.text.strip())
            continue
        if lines and previous_end is not None and previous_end < block.start:
            # The blank lines between blocks stay, so paragraphs stay apart as in the source.
            gap = range(previous_end, block.start)
            lines.extend(_Line(n + 1, block.source[n]) for n in gap if not block.source[n].strip())
            if lines[-1].text.strip():
                lines.append(_Line(block.start, ""))
        lines.extend(chosen)
        previous_end = block.end
    return lines


def _stays_inside(current: _Section, kind: str | None, level: int, text: str) -> bool:
    """Whether a heading is a sub-part of the open section rather than a new section."""
    if level <= current.level:
        return False
    if current.kind == "factors" and _category(text):
        return True
    if current.kind == "actions" and _leverage(text):
        return True
    return kind is None


def _front_matter(lines: list[str], doc: _Document) -> int:
    """YAML-style front matter (`---` lines around `key: value`) is read as metadata."""
    if not lines or lines[0].strip() != "---":
        return 0
    for index in range(1, min(len(lines), 60)):
        if lines[index].strip() in ("---", "..."):
            doc.front_matter = [_Line(n + 1, lines[n]) for n in range(1, index)]
            return index + 1
    return 0


# --- Metadata --------------------------------------------------------------------------------

_META_KEYS = {
    "severity": (
        "severity", "sev", "severity level", "incident severity", "priority", "incident priority",
    ),
    "date": (
        "date", "incident date", "date of incident", "occurred", "occurred on", "reported",
        "reported on", "day",
    ),
    "duration": ("duration", "total duration", "incident duration", "outage duration", "length"),
    "start": ("start", "started", "start time", "started at", "impact start", "incident start"),
    "end": ("end", "ended", "end time", "ended at", "resolved", "resolved at", "impact end"),
    "status": ("status", "document status", "postmortem status", "review status"),
    "author": ("author", "authors", "written by", "postmortem owner", "document owner"),
    "reviewers": ("reviewers", "reviewer", "reviewed by", "approvers", "approver"),
    "commander": ("incident commander", "commander", "ic", "incident lead", "incident manager"),
    "incident": (
        "incident", "incident id", "incident number", "incident ref", "incident reference",
    ),
    "title": ("title",),
}  # fmt: skip
_GENERIC_TABLE_KEYS = {"", "field", "key", "item", "property", "name", "attribute"}
_META_LINE = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__)?(?P<key>[A-Za-z][\w /()'’&.-]{0,48}?)\s*"
    r"(?::\s*(?:\*\*|__)|(?:\*\*|__)\s*:|:)(?:\s+|$)(?P<value>.*)$"
)


def _meta_key(raw: str) -> str | None:
    name = normalise_heading(raw.replace("_", " "))
    for key, names in _META_KEYS.items():
        if name in names:
            return key
    return None


def _key_value(text: str) -> tuple[str, str] | None:
    found = _META_LINE.match(text)
    if not found or is_table_row(text):
        return None
    return found["key"], found["value"].strip().strip("*_").strip()


# The day undated times are read against until someone says which day the incident was on.
STAND_IN_DAY = date(2000, 1, 1)
NEEDS_DATE = "The document gives no date for its times: give the incident's date before importing."


OUT_OF_RANGE = "A date or time is too far from today to place; it was not read."


class _Reader:
    """Carries the result and the document's context while sections are read."""

    def __init__(self, users, tz: tzinfo, team_names=()):
        self.result = ImportResult()
        self.people = People(users)
        self.tz = tz
        self.team_names = list(team_names)
        self.meta: dict[str, tuple[str, int]] = {}
        self.day: date | None = None
        self.given_day: date | None = None

    def placement_day(self) -> date:
        """The document's day for times without a date.

        When the document gives none, times are read against a stand-in day and the result
        says it needs a date: nothing is placed on a day the document does not give.
        """
        if self.day is None:
            self.result.needs_date = True
            self.warn(NEEDS_DATE)
            return STAND_IN_DAY
        return self.day

    def warn(self, message: str) -> None:
        if message not in self.result.warnings:
            self.result.warnings.append(message)

    def unmapped(self, line: _Line, reason: str = "") -> None:
        self.result.unmapped.append(Unmapped(line.no, line.text.strip(), reason))

    # Metadata and inline sections ("**Summary:** ...") before the first heading.

    def read_preamble(self, lines: list[_Line]) -> list[_Section]:
        inline: list[_Section] = []
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            if not line.text.strip() or re.fullmatch(r"\s*(?:-{3,}|\*{3,}|_{3,})\s*", line.text):
                continue
            if is_table_row(line.text):
                following = lines[index] if index < len(lines) else None
                if following and self.read_meta_columns(line, following, lines[index + 1 :]):
                    index += 2
                    continue
                self.read_meta_row(line)
                continue
            if self.read_meta_line(line):
                continue
            pair = _key_value(line.text)
            if pair and self.take_meta(*pair, line.no):
                continue
            kind, alias = section_kind(pair[0]) if pair else (None, "")
            if pair and kind != "metadata":
                # "**Resolution:** ..." and its wrapped lines: one block, mapped or not.
                body, index = _inline_body(pair[1], lines, index, line.no)
                if kind:
                    inline.append(_Section(pair[0], 6, line.no, kind, body, alias))
                    continue
            if not self.read_byline(line):
                self.unmapped(line)
        return inline

    def read_meta_line(self, line: _Line) -> bool:
        """Several fields on one line: "Severity: SEV2 · Date: 2026-04-15 · Author: @yara"."""
        parts = [part for part in re.split(r"\s+[·•]\s+", line.text) if part.strip()]
        if len(parts) < 2:
            return False
        pairs = [_key_value(part) for part in parts]
        if not all(pair and _meta_key(pair[0]) for pair in pairs):
            return False
        for pair in pairs:
            self.take_meta(*pair, line.no)
        return True

    def read_meta_columns(self, header: _Line, separator: _Line, rest: list[_Line]) -> bool:
        """A table with the field names as its header and one row of values."""
        if not is_separator_row(separator.text) or not rest or not is_table_row(rest[0].text):
            return False
        names = split_table_row(header.text)
        values = split_table_row(rest[0].text)
        known = [name for name in names if _meta_key(name)]
        if len(names) < 2 or len(known) * 2 < len(names) or len(values) != len(names):
            return False
        for name, value in zip(names, values, strict=True):
            if not self.take_meta(name, value, rest[0].no) and value.strip():
                self.unmapped(_Line(rest[0].no, f"{name}: {value}"))
        return True

    def read_byline(self, line: _Line) -> bool:
        """A severity or date given in passing: "Sev 3 - 12 May 2026 - written up by ravi"."""
        text = _plain(line.text)
        found = False
        severity = _SEVERITY_IN_TEXT.search(text)
        if severity and "severity" not in self.meta:
            self.meta["severity"] = (severity[0], line.no)
            found = True
        day = match_date(text)
        # "Last updated 2026-05-01" dates the document, not the incident.
        about_the_document = re.search(r"\b(?:updated|edited|modified|created|last)\b", text, re.I)
        if day and "date" not in self.meta and (found or len(text) < 80) and not about_the_document:
            self.meta["date"] = (text[day[1] : day[2]], line.no)
            found = True
        return found

    def read_meta_row(self, line: _Line) -> None:
        if is_separator_row(line.text):
            return
        cells = split_table_row(line.text)
        pairs = [_key_value(cell) for cell in cells]
        if len(cells) > 1 and all(pair and _meta_key(pair[0]) for pair in pairs):
            for pair in pairs:  # "**Severity:** SEV2 | **Date:** 2026-04-07 | ..."
                self.take_meta(*pair, line.no)
            return
        if len(cells) == 2 and self.take_meta(cells[0], cells[1], line.no):
            return
        if len(cells) == 2 and normalise_heading(cells[0]) in _GENERIC_TABLE_KEYS:
            return  # a "Field | Value" header row
        self.unmapped(line)

    def take_meta(self, key: str, value: str, line_no: int) -> bool:
        name = _meta_key(key)
        if name is None:
            return False
        value = value.strip()
        if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]  # quoted front matter
        if name not in self.meta and value:
            self.meta[name] = (_plain(value) if name != "duration" else value, line_no)
        return True

    def read_meta_field(self, section: _Section) -> None:
        """A metadata field given as a heading with its value beneath (GitHub issue forms)."""
        values = [line for line in section.lines if line.text.strip()]
        if values and self.take_meta(heading_name(section.heading), values[0].text, values[0].no):
            values = values[1:]
        for line in values:
            self.unmapped(line)

    def take_leading_meta(self, section: _Section) -> None:
        """Metadata lines at the top of a text section ("Overview" often starts with them)."""
        while section.lines:
            line = section.lines[0]
            if is_table_row(line.text) and self._meta_table_row(line):
                section.lines.pop(0)
                continue
            pair = _key_value(line.text) if line.text.strip() else ("", "")
            if pair is None or (pair[0] and not self.take_meta(*pair, line.no)):
                return
            section.lines.pop(0)

    def _meta_table_row(self, line: _Line) -> bool:
        """A row of a field/value table, its empty header, or the line under the header."""
        cells = split_table_row(line.text)
        if is_separator_row(line.text) or not any(cell.strip() for cell in cells):
            return True
        return len(cells) == 2 and self.take_meta(cells[0], cells[1], line.no)


def _inline_body(value: str, lines: list[_Line], index: int, line_no: int):
    """An inline section's text: the rest of its line and the lines up to a blank one."""
    body = [_Line(line_no, value)] if value else []
    if not value:
        while index < len(lines) and not lines[index].text.strip():
            index += 1
    while index < len(lines) and lines[index].text.strip():
        if _key_value(lines[index].text) and not _LIST_ITEM.match(lines[index].text):
            break
        body.append(lines[index])
        index += 1
    return body, index


# --- Reading metadata values -----------------------------------------------------------------

_SEVERITY_IN_TEXT = re.compile(r"\bsev(?:erity)?[\s\-–—:]*(\d)\b", re.I)
_SEVERITY_WORDS = {"critical": 1, "major": 2, "high": 2, "minor": 3, "moderate": 3, "low": 3}


def read_severity(text: str) -> tuple[int | None, str]:
    """Severity 1–3 from SEV1, Sev 2, S1, P0 (= SEV1), 1; a warning when the scale is stretched."""
    raw = _plain(text)
    found = _SEVERITY_IN_TEXT.search(raw) or re.search(r"\bs[\s-]*(\d)\b", raw, re.I)
    if found:
        return _clamp_severity(int(found[1]), raw)
    found = re.search(r"\bp(\d)\b", raw, re.I)
    if found:
        return _clamp_severity(int(found[1]) + 1, raw)
    if re.fullmatch(r"\d", raw):
        return _clamp_severity(int(raw), raw)
    word = re.search(r"[a-z]+", raw.lower())
    if word and word[0] in _SEVERITY_WORDS:
        level = _SEVERITY_WORDS[word[0]]
        return level, f"Severity {raw!r} read as SEV{level}."
    return None, f"Severity {raw!r} not understood." if raw else ""


def _clamp_severity(level: int, raw: str) -> tuple[int, str]:
    if 1 <= level <= 3:
        return level, ""
    clamped = min(max(level, 1), 3)
    return clamped, f"Severity {raw!r} has no equivalent here; read as SEV{clamped}."


_DOC_STATUS = [
    (Postmortem.Status.DRAFT, r"draft|in\s+progress|wip|todo|to\s+do"),
    (Postmortem.Status.IN_REVIEW, r"(?:in|under|for|ready\s+for)\s+review|reviewing|review"),
    (Postmortem.Status.PUBLISHED, r"published|final|complete[d]?|done|closed|approved"),
]


def read_document_status(text: str) -> str | None:
    # Earliest match wins: "Complete, action items in progress" is a complete document.
    best = None
    for status, words in _DOC_STATUS:
        found = re.search(rf"\b(?:{words})\b", text, re.I)
        if found and (best is None or found.start() < best[1]):
            best = (status, found.start())
    return best[0] if best else None


_LENGTH_PARTS = [
    (r"(\d+)\s*(?:d|days?)\b", "days"),
    (r"(\d+)\s*(?:h|hrs?|hours?)\b", "hours"),
    (r"(\d+)\s*(?:m|mins?|minutes?)\b", "minutes"),
]


def read_length(text: str) -> timedelta | None:
    """The length in "2 h 14 m", "134 minutes", "1 day 3 hours"."""
    parts = {}
    for pattern, unit in _LENGTH_PARTS:
        found = re.search(pattern, text, re.I)
        if found:
            parts[unit] = int(found[1])
    return timedelta(**parts) if parts else None


def _stamps(text: str) -> list:
    """Every timestamp in a piece of text, in order."""
    found, read_up_to = [], 0
    for candidate in re.finditer(r"(?<![\d:])\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}", text):
        if candidate.start() < read_up_to:
            continue  # the time part of a date-and-time already read
        read = leading_stamp(text[candidate.start() :])
        if read:
            found.append(read[0])
            read_up_to = len(text) - len(read[1])
    return found


def _moment(stamp, day: date, tz: tzinfo) -> datetime:
    return datetime.combine(stamp.day or day, stamp.clock, tzinfo=stamp.zone or tz).astimezone(UTC)


def read_duration(text: str, *, day: date | None, tz: tzinfo):
    """(start, end, length) from "14:02–16:16 UTC (2 h 14 m)", each None when not given.

    An end before its start is on the next day. `day` may only be None when `text` has no times.
    """
    zone = zone_hint(text) or tz
    if day:
        day = parse_loose_date(text, default_year=day.year) or day
    stamps = _stamps(text)
    length = read_length(re.sub(r"\d{1,2}:\d{2}(?::\d{2})?", "", text))
    start = _moment(stamps[0], day, zone) if stamps else None
    end = None
    if len(stamps) > 1:
        end = _moment(stamps[1], stamps[0].day or day, zone)  # a date given once covers both
        if end <= start:
            end += timedelta(days=1)
    elif start and length:
        end = start + length
    return start, end, length


# --- Lists -----------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+•]|\d{1,3}[.)])\s+(?P<body>.*)$")


@dataclass
class _Item:
    text: str
    line_no: int
    indent: int = 0
    children: list[_Item] = field(default_factory=list)
    listed: bool = False  # a list item, not a paragraph


def _read_blocks(lines: list[_Line]) -> list[_Item]:
    """Top-level list items (with nested children) and paragraphs, in document order."""
    blocks: list[_Item] = []
    stack: list[_Item] = []
    paragraph: _Item | None = None
    previous_blank = True
    for line in lines:
        raw = line.text.expandtabs(4).rstrip()
        if not raw.strip():
            paragraph, previous_blank = None, True
            continue
        found = _LIST_ITEM.match(raw)
        if found:
            item = _Item(found["body"].strip(), line.no, len(found["indent"]), listed=True)
            while stack and stack[-1].indent >= item.indent:
                stack.pop()
            (stack[-1].children if stack else blocks).append(item)
            stack.append(item)
            paragraph = None
        elif stack and (raw.startswith(" ") or not previous_blank):
            stack[-1].text += "\n" + raw.strip()  # continuation of the item above
        elif paragraph and not previous_blank:
            paragraph.text += "\n" + raw.strip()
        else:
            stack = []
            paragraph = _Item(raw.strip(), line.no)
            blocks.append(paragraph)
        previous_blank = False
    return blocks


def _subheading(text: str) -> str | None:
    found = _ATX.match(text)
    if found:
        return found[2].strip()
    found = _BOLD_LINE.match(text)
    return (found[1] or found[2]).strip() if found else None


def _groups(lines: list[_Line]) -> list[tuple[_Line | None, str, list[_Line]]]:
    """Lines split at sub-headings (ATX or bold-only lines): [(heading line, heading, lines)]."""
    groups: list[tuple[_Line | None, str, list[_Line]]] = [(None, "", [])]
    for line in lines:
        heading = _subheading(line.text)
        if heading is not None:
            groups.append((line, heading, []))
        elif re.fullmatch(r"\s*(?:=+|-{2,})\s*", line.text) and groups[-1][2] == []:
            continue  # the underline of a setext sub-heading
        else:
            groups[-1][2].append(line)
    return [group for group in groups if group[0] is not None or group[2]]


def _split_tables(lines: list[_Line]):
    """Markdown tables (header, rows) and the lines around them."""
    tables, rest = [], []
    index = 0
    while index < len(lines):
        line = lines[index]
        if (
            is_table_row(line.text)
            and index + 1 < len(lines)
            and is_separator_row(lines[index + 1].text)
        ):
            header, rows = line, []
            index += 2
            while index < len(lines) and is_table_row(lines[index].text):
                rows.append(lines[index])
                index += 1
            tables.append((header, rows))
            continue
        rest.append(line)
        index += 1
    return tables, rest


# --- Contributing factors --------------------------------------------------------------------

_CATEGORY_ALIASES = {
    Category.TECHNICAL: (
        "technical", "technology", "tech", "software", "system", "systems", "infrastructure",
        "code", "tooling", "tools", "design", "architecture", "configuration", "config",
    ),
    Category.PROCESS: (
        "process", "processes", "organisational", "organizational", "change management",
    ),
    Category.ALERTING: ("alerting", "alerts", "monitoring", "observability"),
    Category.TESTING: ("testing", "tests", "test", "qa", "test coverage"),
    Category.DOCUMENTATION: ("documentation", "docs", "runbook", "runbooks"),
    Category.OTHER: ("other", "misc", "miscellaneous", "others"),
}  # fmt: skip
_INLINE_CATEGORY = re.compile(
    r"^(?:\[(?P<a>[\w &-]+)\]|\((?P<b>[\w &-]+)\)|(?:\*\*|__)(?P<c>[\w &-]+?):?(?:\*\*|__):?"
    r"|(?P<d>[A-Za-z][\w &-]*?):|(?P<e>[A-Za-z][\w&]*)\s+[—–-])\s+(?P<rest>\S.*)$",
    re.S,
)


def _category(text: str) -> str | None:
    name = normalise_heading(text)
    for category, names in _CATEGORY_ALIASES.items():
        if name in names:
            return category
    return None


def _split_category(text: str) -> tuple[str | None, str]:
    """`**Technical:** x`, `[process] x`, `Testing: x` → (category, x); else (None, text)."""
    found = _INLINE_CATEGORY.match(text)
    if found:
        label = found["a"] or found["b"] or found["c"] or found["d"] or found["e"]
        category = _category(label)
        if category:
            return category, found["rest"].strip()
    return None, text


def _whys(items: list[_Item]) -> list[dict]:
    return [{"text": item.text, "children": _whys(item.children)} for item in items]


def _chain(items: list[_Item]) -> list[dict]:
    """A numbered five-whys list as one linear chain."""
    chain: list[dict] = []
    for item in reversed(items):
        chain = [{"text": item.text, "children": chain + _whys(item.children)}]
    return chain


def read_factors(reader: _Reader, section: _Section) -> None:
    for heading_line, heading, lines in _groups(section.lines):
        default = Category.OTHER
        if heading_line is not None:
            default = _category(heading) or Category.OTHER
            if not _category(heading):
                reader.warn(f"Factors under {heading!r} have no category; filed as other.")
        tables, rest = _split_tables(lines)
        for header, rows in tables:
            _read_factor_table(reader, header, rows, default)
        blocks = _content_blocks(reader, _read_blocks(rest), bool(tables))
        if section.kind == "whys":
            pairs = [(blocks[0], _whys(blocks[0].children) + _chain(blocks[1:]))] if blocks else []
        else:
            pairs = [(block, _whys(block.children)) for block in blocks]
        for block, whys in pairs:
            category, text = _split_category(block.text)
            if section.alias in ("trigger", "triggers") and not text.lower().startswith("trigger"):
                text = f"Trigger: {text}"
            reader.result.contributing_factors.append(
                ParsedFactor(category or default, text, whys, block.line_no)
            )


_FACTOR_COLUMNS = {
    "category": ("category", "type", "area", "kind", "class"),
    "description": (
        "example", "examples", "contributing factor", "factor", "description", "what happened",
        "what", "details", "finding", "cause", "condition", "observation",
    ),
    "improvement": (
        "improvement", "improvements", "what we will change", "what we'll change", "fix",
        "change", "remediation", "action", "follow up", "follow-up", "next step",
    ),
}  # fmt: skip


def _read_factor_table(reader: _Reader, header: _Line, rows: list[_Line], default) -> None:
    """A factor per row: its category cell, its example, and the improvement it calls for."""
    columns, _ = map_columns(split_table_row(header.text), _FACTOR_COLUMNS)
    for row in rows:
        cells = split_table_row(row.text)
        if _placeholder_row(cells):
            reader.unmapped(row, "template guidance")
            continue
        category = None
        if "category" in columns and columns["category"] < len(cells):
            category = _category(cells[columns["category"]])
        if category is None:  # or whichever cell names a category
            category = next((c for c in map(_category, cells) if c), None)
        text_cells = [c for c in cells if c.strip() and not _category(c)]
        index = columns.get("description")
        description = cells[index] if index is not None and index < len(cells) else ""
        if not description or _category(description):
            description = max(text_cells, key=len, default="")
        if not description:
            reader.unmapped(row)
            continue
        index = columns.get("improvement")
        improvement = cells[index].strip() if index is not None and index < len(cells) else ""
        if improvement and improvement != description:
            description = f"{description}\nImprovement: {improvement}"
        reader.result.contributing_factors.append(
            ParsedFactor(category or default, description, [], row.no)
        )


def _placeholder_row(cells: list[str]) -> bool:
    filled = [cell for cell in cells if cell.strip()]
    return bool(filled) and all(is_placeholder(cell) for cell in filled)


def _content_blocks(
    reader: _Reader, blocks: list[_Item], has_table: bool, *, prose: bool = True
) -> list[_Item]:
    """The blocks that are entries; template guidance is reported instead, and so is prose
    beside a list or table when `prose` is False (an introduction or a note on the table)."""
    listed = not prose and (has_table or any(block.listed for block in blocks))
    kept = []
    for block in blocks:
        if is_example(block.text) if block.listed else looks_like_guidance(block.text):
            reader.unmapped(_Line(block.line_no, block.text), "template guidance")
        elif block.text.lstrip().startswith("/"):
            reader.unmapped(_Line(block.line_no, block.text))  # a "/label" quick action
        elif listed and not block.listed:
            reader.unmapped(_Line(block.line_no, block.text))
        else:
            kept.append(block)
    return kept


# --- Action items ----------------------------------------------------------------------------

_ACTION_COLUMNS = {
    "number": ("#", "no", "id", "number"),
    "title": (
        "action", "action item", "item", "task", "title", "description", "what", "follow-up",
        "follow up", "todo", "remediation",
    ),
    "owner": ("owner", "owners", "assignee", "assigned to", "who", "responsible", "dri"),
    "due": ("due", "due date", "deadline", "due by", "target date", "target", "when", "eta"),
    "priority": ("priority", "prio", "pri"),
    "status": ("status", "state", "done"),
    "ticket": ("ticket", "tickets", "issue", "link", "jira", "tracking", "bug", "tracker", "url"),
    "leverage": ("type", "leverage", "kind", "category"),
}  # fmt: skip
_LEVERAGE_WORDS = {
    Leverage.PREVENTION: ("prevention", "prevent", "preventive", "preventative"),
    Leverage.DETECTION: ("detection", "detect", "detect sooner"),
    Leverage.MITIGATION: ("mitigation", "mitigate", "mitigations", "repair", "recover"),
}
_ITEM_STATUS = [
    (Status.WONT_DO, r"won'?t\s+(?:do|fix)|wontfix|will\s+not\s+do|cancell?ed|dropped|declined"),
    (Status.OPEN, r"not\s+started"),
    (Status.DONE, r"done|complete[d]?|closed|fixed|finished|shipped|merged|resolved"),
    (Status.BLOCKED, r"blocked|on\s+hold"),
    (Status.IN_PROGRESS, r"in[\s-]progress|doing|started|wip|ongoing|in\s+review"),
    (Status.OPEN, r"open|to\s*do|new|planned|backlog|pending"),
]
# Words teams use for priority, on the practice's scale (P0 today … P3 backlog).
_PRIORITY_WORDS = {"critical": 0, "urgent": 0, "high": 1, "medium": 2, "normal": 2, "low": 3}
_TICKET_KEY = re.compile(r"\b[A-Z][A-Z0-9]{1,9}-\d+\b")
_URL = re.compile(r"https?://[^\s)>\]]+")
_DETECTION_WORDS = re.compile(
    r"\b(?:alert\w*|alarm\w*|monitor\w*|dashboard\w*|pag(?:e|ing)|slo|probe\w*|synthetic|detect\w*)\b",
    re.I,
)
_MITIGATION_WORDS = re.compile(
    r"\b(?:runbook\w*|playbook\w*|roll\s?back\w*|failover|fail\s+over|kill\s+switch\w*"
    r"|feature\s+flag\w*|rate[\s-]limit\w*|circuit\s+breaker\w*|mitigat\w*|degrade\w*)\b",
    re.I,
)


def _leverage(text: str) -> str | None:
    name = normalise_heading(text)
    for leverage, names in _LEVERAGE_WORDS.items():
        if name in names:
            return leverage
    return None


def guess_leverage(title: str) -> str:
    """Detection for alerts and dashboards, mitigation for runbooks and switches, else
    prevention: a conservative guess the importing person can change."""
    if _DETECTION_WORDS.search(title):
        return Leverage.DETECTION
    if _MITIGATION_WORDS.search(title):
        return Leverage.MITIGATION
    return Leverage.PREVENTION


def read_item_status(text: str) -> tuple[str | None, str]:
    """(status, reason) from "Done", "Blocked: waiting on vendor", "[x]"."""
    raw = _plain(text)
    parts = re.split(r"\s*:\s*|\s+[—–-]\s+", raw, maxsplit=1)
    head, reason = parts[0], parts[1] if len(parts) > 1 else ""
    for status, words in _ITEM_STATUS:
        if re.fullmatch(rf"(?:{words})\.?", head.strip(), re.I):
            return status, reason.strip()
    return None, ""


def read_priority(text: str) -> int | None:
    raw = _plain(text).lower()
    found = re.fullmatch(r"p([0-9])(?:\b.*)?", raw)
    if found:
        return min(int(found[1]), 3)
    return _PRIORITY_WORDS.get(raw)


def read_ticket(text: str) -> tuple[str, str]:
    """(key, url) from "[PAY-123](https://…)", a bare URL, or a bare key."""
    url_found = _URL.search(text)
    url = url_found[0] if url_found else ""
    key_found = _TICKET_KEY.search(_plain(text)) or (_TICKET_KEY.search(url) if url else None)
    key = key_found[0] if key_found else ""
    if not key and url:
        issue = re.search(r"github\.com/[^/]+/([^/]+)/(?:issues|pull)/(\d+)", url)
        key = f"{issue[1]}#{issue[2]}" if issue else ""
    if not key and not url:
        key = _plain(text)
    return key, url


class _ItemReader:
    """Fills one ParsedActionItem from table cells or from a list line's loose attributes."""

    def __init__(self, reader: _Reader, item: ParsedActionItem):
        self.reader = reader
        self.item = item

    def owner(self, text: str) -> None:
        self.item.owner_text = _plain(text)
        self.item.owner, self.item.owner_problem = self.reader.people.match(text)

    def due(self, text: str) -> None:
        self.item.due_text = _plain(text)
        year = self.reader.result.date.year if self.reader.result.date else None
        self.item.due = parse_loose_date(text, default_year=year or date.today().year)

    def status(self, text: str) -> bool:
        status, reason = read_item_status(text)
        if status is None:
            return False
        self.item.status, self.item.reason = status, reason
        return True

    def ticket(self, text: str) -> None:
        self.item.ticket_key, self.item.ticket_url = read_ticket(text)

    def attribute(self, part: str) -> bool:
        """Reads one loose attribute ("@bob", "due 2026-04-10", "PAY-123", "P1", "done")."""
        part = part.strip()
        labelled = _LABELLED.match(_plain(part))
        if labelled:
            label = (labelled[1] or labelled[3]).lower()
            value = labelled[2] or labelled[4]
            if label in _ATTRIBUTE_LABELS:
                return self.labelled(_ATTRIBUTE_LABELS[label], value, part)
        return self.bare(part)

    def labelled(self, name: str, value: str, part: str) -> bool:
        if name == "owner":
            self.owner(value)
        elif name == "due":
            self.due(value)  # kept even when not a date, so the problem names it
        elif name == "priority":
            self.item.priority = read_priority(value)
        elif name == "ticket":
            self.ticket(part.split(":", 1)[1] if ":" in part else value)
        else:
            return self.status(value)
        return True

    def bare(self, part: str) -> bool:
        plain = _plain(part)
        if re.fullmatch(r"@[\w.\-]+", plain):
            self.owner(plain)
        elif re.fullmatch(r"[Pp][0-9]", plain):
            self.item.priority = read_priority(plain)
        elif _TICKET_KEY.fullmatch(plain) or _URL.fullmatch(part) or _LINK.fullmatch(part):
            self.ticket(part)
        elif _is_only_a_date(plain):
            self.due(plain)
        else:
            return self.status(plain)
        return True


_LABELLED = re.compile(r"^(\w[\w ]*?)\s*[:=]\s*(.+)$|^(owner|due|by)\s+(.+)$", re.I)
_ATTRIBUTE_LABELS = {
    "owner": "owner", "assignee": "owner", "assigned to": "owner", "who": "owner",
    "dri": "owner", "due": "due", "by": "due", "deadline": "due", "due by": "due",
    "due date": "due", "target": "due", "priority": "priority", "prio": "priority",
    "ticket": "ticket", "issue": "ticket", "jira": "ticket", "link": "ticket",
    "status": "status",
}  # fmt: skip
_LINK = re.compile(r"\[[^\]]+\]\(https?://[^)]+\)")


def _is_only_a_date(text: str) -> bool:
    # Any year will do for the test: a date without one ("Apr 30") still counts.
    found = match_date(text, default_year=2000)
    return bool(found) and found[1] == 0 and found[2] == len(text)


def _attribute_parts(text: str) -> list[str]:
    return [part for part in re.split(r"\s*[,;]\s*", text) if part.strip()]


def _take_attributes(items: _ItemReader, text: str) -> str:
    """The title left after loose attributes are read off its end and start."""
    text = text.strip()
    handle = re.match(r"^(@[\w.\-]+)\s*[:—–-]\s*(.+)$", text, re.S)
    if handle:
        items.owner(handle[1])
        text = handle[2].strip()
    ticket = re.match(r"^\[?([A-Z][A-Z0-9]{1,9}-\d+)\]?\s*[:—–-]?\s+(\S.*)$", text, re.S)
    if ticket:  # "OPS-4410 disable the slab automover" (Morgue remediations)
        items.ticket(ticket[1])
        text = ticket[2].strip()
    while True:
        token = _TRAILING_TOKEN.search(text)
        if token and _token_attribute(items, token):
            text = re.sub(r"\s*(?:[—–|·•,;]|-{1,2})?\s*$", "", text[: token.start()])
            continue
        group = _trailing_group(text)
        if group and _all_attributes(items, text[group + 1 : -1]):
            text = text[:group].rstrip()
            continue
        tail = re.search(r"(?:\s+(?:[—–|·•]|-{1,2})\s+|,\s+)([^—–|·•,]+)$", text)
        if tail and _all_attributes(items, tail[1]):
            text = text[: tail.start()].rstrip()
            continue
        return text.rstrip(" .;,")


# One attribute at the end, separated only by a space: "@marta ~"P2" due:2026-03-23 REG-120".
_TRAILING_TOKEN = re.compile(
    r"\s+(?:(?P<handle>@[\w.\-]*\w)|~?\"?(?P<priority>[Pp][0-9])\"?"
    r"|(?P<ticket>[A-Z][A-Z0-9]{1,9}-\d+)|(?:due|by)(?::\s*|\s+)(?P<due>\d{4}-\d{2}-\d{2}))$"
)


def _token_attribute(items: _ItemReader, token: re.Match) -> bool:
    if token["handle"]:
        if items.item.owner_text:
            return False
        items.owner(token["handle"])
    elif token["priority"]:
        items.item.priority = read_priority(token["priority"])
    elif token["ticket"]:
        items.ticket(token["ticket"])
    else:
        items.due(token["due"])
    return True


def _trailing_group(text: str) -> int | None:
    """Where the bracketed group closing `text` opens: "(…)" or "[…]", links inside allowed."""
    text = text.rstrip()
    pairs = {")": "(", "]": "["}
    if not text or text[-1] not in pairs:
        return None
    closing, opening = text[-1], pairs[text[-1]]
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        depth += (text[index] == closing) - (text[index] == opening)
        if depth == 0:
            return index if index > 0 else None
    return None


def _all_attributes(items: _ItemReader, text: str) -> bool:
    parts = _attribute_parts(text)
    if not parts:
        return False
    probe = _ItemReader(items.reader, ParsedActionItem(""))
    if not all(probe.attribute(part) for part in parts):
        return False
    for part in parts:
        items.attribute(part)
    return True


def read_actions(reader: _Reader, section: _Section) -> None:
    for heading_line, heading, lines in _groups(section.lines):
        leverage = _leverage(heading) if heading_line else None
        if heading_line and not leverage:
            reader.unmapped(heading_line)
        tables, rest = _split_tables(lines)
        for header, rows in tables:
            _read_action_table(reader, header, rows, leverage)
        for block in _content_blocks(reader, _read_blocks(rest), bool(tables), prose=False):
            _read_action_line(reader, block, leverage)


def _read_action_table(reader: _Reader, header: _Line, rows: list[_Line], leverage) -> None:
    """Each row read by what its cells hold (an @handle, a date, a ticket key, P1), so a
    header that does not match its columns still gives the right fields; the header decides
    only between cells of plain words (the action, a person's name, a priority word)."""
    columns, unknown = map_columns(split_table_row(header.text), _ACTION_COLUMNS)
    for name in unknown:
        reader.warn(f"Action items column {name!r} was not read.")
    for row in rows:
        cells = split_table_row(row.text)
        if _placeholder_row(cells):
            reader.unmapped(row, "template guidance")
            continue
        kinds = [_cell_kind(cell) for cell in cells]
        title_index = _title_cell(cells, kinds, columns)
        if title_index is None:
            reader.unmapped(row)
            continue
        item = ParsedActionItem(cells[title_index].strip(), row.no)
        items = _ItemReader(reader, item)
        words: dict[int, str] = {}
        for index, (cell, kind) in enumerate(zip(cells, kinds, strict=True)):
            if index == title_index or kind is None:
                continue
            if kind == "words":
                words[index] = cell
            else:
                _take_cell(items, kind, cell)
        _take_word_cells(reader, items, words, columns, row)
        item.leverage = item.leverage or leverage or ""
        _finish_item(reader, item)


def _cell_kind(cell: str) -> str | None:
    """What a cell holds, judged by its content alone; "words" when only the header can say."""
    plain = _plain(cell).strip()
    if not plain or re.fullmatch(r"(?i)n/?a|none|-+|—|–|\d{1,3}\.?", plain):
        return None
    if re.fullmatch(r"@[\w.\-]+", plain):
        return "owner"
    if re.fullmatch(r"[Pp][0-9]", plain):
        return "priority"
    if _is_only_a_date(plain):
        return "due"
    if _TICKET_KEY.match(plain) or _URL.match(cell.strip()) or _LINK.match(cell.strip()):
        return "ticket"
    if re.fullmatch(r"(?i)n/?a\s+\S+", plain) and read_item_status(plain.split(None, 1)[1])[0]:
        return "status"  # "n/a **DONE**": no ticket, but a status
    return "words"


def _title_cell(cells: list[str], kinds: list, columns: dict) -> int | None:
    """The action: the title column when it holds words, else the longest cell of words."""
    index = columns.get("title")
    if index is not None and index < len(cells) and kinds[index] == "words":
        return index
    candidates = [i for i, kind in enumerate(kinds) if kind == "words"]
    candidates = [i for i in candidates if len(_plain(cells[i]).split()) >= 3] or candidates
    return max(candidates, key=lambda i: len(cells[i]), default=None)


def _take_cell(items: _ItemReader, kind: str, cell: str) -> None:
    if kind == "owner":
        items.owner(cell)
    elif kind == "priority":
        items.item.priority = read_priority(cell)
    elif kind == "due":
        items.due(cell)
    elif kind == "status":
        items.status(_plain(cell).split(None, 1)[1])
    else:
        rest = _TICKET_KEY.sub("", _plain(cell), count=1).strip()
        items.ticket(cell if not rest or _URL.search(cell) else _TICKET_KEY.search(cell)[0])
        if rest and not _URL.search(cell):
            items.status(rest)  # "SHAKE-5554 **TODO**"


def _take_word_cells(reader, items: _ItemReader, words: dict, columns: dict, row: _Line) -> None:
    """Cells of plain words, given their meaning by the header of the column they sit in."""
    by_index = {index: name for name, index in columns.items()}
    item = items.item
    for index, cell in words.items():
        name = by_index.get(index)
        if name == "owner" and not item.owner_text:
            items.owner(cell)
        elif name == "priority" and item.priority is None:
            item.priority = read_priority(cell)
        elif name == "status":
            if not items.status(cell):
                reader.warn(f"Line {row.no}: status {cell!r} not understood; read as open.")
        elif name == "leverage":
            item.leverage = _leverage(cell) or item.leverage
        elif name == "due" and not item.due_text:
            items.due(cell)
        elif name == "ticket" and not item.ticket_key:
            items.ticket(cell)
        elif name is None and not item.owner_text and "owner" not in columns:
            _take_unnamed_cell(items, cell)


def _take_unnamed_cell(items: _ItemReader, cell: str) -> None:
    """A few words in a column the header does not name: a status, else a person's name."""
    if len(cell.split()) <= 3 and not items.status(cell):
        items.owner(cell)


def _read_action_line(reader: _Reader, block: _Item, leverage) -> None:
    text = block.text
    box = re.match(r"^\[([ xX])\]\s*", text)
    item = ParsedActionItem("", block.line_no)
    if box:
        item.status = Status.DONE if box[1].lower() == "x" else Status.OPEN
        text = text[box.end() :]
    if text.startswith("~~") and "~~" in text[2:]:
        item.status, text = Status.WONT_DO, text.replace("~~", "")
    items = _ItemReader(reader, item)
    item.title = _take_attributes(items, text.split("\n")[0])
    for child in block.children:
        # "  - Owner: @pia" under the item: its attributes, one a line.
        if _all_attributes(items, child.text):
            continue
        reader.unmapped(_Line(child.line_no, child.text))
    item.leverage = leverage or ""
    if not item.title:
        reader.unmapped(_Line(block.line_no, block.text))
        return
    _finish_item(reader, item)


def _finish_item(reader: _Reader, item: ParsedActionItem) -> None:
    if not item.leverage:
        item.leverage, item.leverage_guessed = guess_leverage(item.title), True
    if item.status in (Status.BLOCKED, Status.WONT_DO) and not item.reason:
        reader.warn(
            f"Line {item.line_no}: {item.title!r} is {Status(item.status).label.lower()}"
            " without a reason."
        )
    # The editor's own hint: a team as owner means nobody owns it.
    hints = action_item_hints(
        title=item.title,
        owner=item.owner,
        owner_text=item.owner_text,
        due_on=item.due,
        ticket_key=item.ticket_key,
        team_names=reader.team_names,
    )
    item.hints = [hint for hint in hints if hint.code == "team_owner"]
    reader.result.action_items.append(item)


# --- Timeline, related incidents, text sections ----------------------------------------------

_TIMES_NOTE = re.compile(
    r"^\s*[*_(]*(?:all\s+)?times?\s+(?:are\s+|shown\s+)?(?:in\s+)?(?P<zone>[\w/+:-]+)[.)*_]*\s*$",
    re.I,
)


def read_timeline(reader: _Reader, section: _Section) -> None:
    zone = zone_hint(section.heading) or reader.tz
    lines = []
    for line in section.lines:
        note = _TIMES_NOTE.match(line.text)
        if note and zone_hint(note["zone"]):
            zone = zone_hint(note["zone"])
            continue  # "All times UTC" is an instruction, not an event
        lines.append(line)
    if not lines:
        return
    first = lines[0].no
    by_no = {line.no: line.text for line in lines}
    text = "\n".join(by_no.get(no, "") for no in range(first, lines[-1].no + 1))
    try:
        parsed = parse_timeline(text, day=reader.placement_day(), tz=zone, first_line_no=first)
    except OverflowError:
        # A day at the end of the calendar (9999-12-31) has no next day to roll over to.
        reader.warn(OUT_OF_RANGE)
        for line in lines:
            if line.text.strip():
                reader.unmapped(line)
        return
    reader.result.timeline_events.extend(parsed.events)
    for line_no, line in parsed.unreadable:
        reader.unmapped(_Line(line_no, line))


def read_related(reader: _Reader, section: _Section) -> None:
    for line in section.lines:
        refs = [f"INC-{number}" for number in re.findall(r"\bINC[-\s]?(\d+)\b", line.text, re.I)]
        for ref in refs:
            if ref not in reader.result.related:
                reader.result.related.append(ref)
        if not refs and line.text.strip():
            reader.unmapped(line)


def read_text(reader: _Reader, section: _Section) -> None:
    reader.take_leading_meta(section)
    body = _body(section.lines)
    if not body:
        return
    name = section.kind
    sections = reader.result.sections
    if name in sections or section.alias in _LABELLED_ALIASES:
        body = f"**{section.heading.strip().rstrip(':')}**\n\n{body}"
    sections[name] = f"{sections[name]}\n\n{body}" if name in sections else body


def _body(lines: list[_Line]) -> str:
    return "\n".join(line.text.rstrip() for line in lines).strip("\n")


# --- Putting it together ---------------------------------------------------------------------


def parse_postmortem_markdown(
    text: str, *, users=None, tz: tzinfo = UTC, day: date | None = None, team_names=()
) -> ImportResult:
    """Read a Markdown postmortem; `users` (objects or dicts) are who owners may name.

    `day` is the incident's date as the importing person gave it, used only when the document
    itself gives none (its metadata, title, start or timeline). `team_names` are the known
    teams, so an item owned by one is flagged as the editor flags it.
    """
    lines = _normalise(text).split("\n")
    doc = _split_document(lines)
    reader = _Reader(users, tz, team_names)
    reader.given_day = day
    reader.result.title = _TITLE_PREFIX.sub("", _plain(doc.title)).strip()
    for line in doc.front_matter:
        pair = _key_value(line.text)
        if not (pair and reader.take_meta(*pair, line.no)):
            reader.unmapped(line)
    sections = reader.read_preamble(doc.preamble)
    for section in doc.sections:
        if section.kind == "metadata":
            sections += reader.read_preamble(section.lines)
            continue
        if section.kind == "meta_field":
            reader.read_meta_field(section)
            continue
        if section.kind in TEXT_FIELDS:
            reader.take_leading_meta(section)
        sections.append(section)
    _apply_meta(reader)
    reader.day = _document_day(reader, sections)
    for section in sections:
        _read_section(reader, section)
    try:
        _apply_times(reader)
    except OverflowError:
        reader.result.started_at = reader.result.ended_at = None
        reader.warn(OUT_OF_RANGE)
    for line in doc.guidance:
        reader.result.unmapped.append(Unmapped(line.no, line.text.strip(), "template guidance"))
    reader.result.unmapped.sort(key=lambda unmapped: unmapped.line_no)
    if not reader.result.title:
        reader.warn("No title found.")
    return reader.result


# Hyphens that look like "-" but are other characters: "SEV‑2" and "2026‑04‑07" from word
# processors use U+2011. En and em dashes stay: they separate, they do not join.
_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2212": "-", "\u00ad": ""})


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = text.replace("\x00", "").translate(_HYPHENS)
    # "##Timeline": a heading whose space was lost (CommonMark would read a paragraph).
    text = re.sub(r"(?m)^( {0,3}#{1,6})(?=[^\W\d_])", r"\1 ", text)
    # HTML comments are template instructions; keep their line breaks so numbers still match.
    return re.sub(r"<!--.*?-->", lambda found: "\n" * found[0].count("\n"), text, flags=re.S)


def _read_section(reader: _Reader, section: _Section) -> None:
    if section.kind in TEXT_FIELDS:
        read_text(reader, section)
    elif section.kind == "timeline":
        read_timeline(reader, section)
    elif section.kind in ("factors", "whys"):
        read_factors(reader, section)
    elif section.kind == "actions":
        read_actions(reader, section)
    elif section.kind == "related":
        read_related(reader, section)
    elif section.kind is None:
        reader.unmapped(_Line(section.line_no, section.heading))


def _apply_meta(reader: _Reader) -> None:
    result, meta = reader.result, reader.meta
    if "title" in meta and not result.title:
        result.title = _TITLE_PREFIX.sub("", meta["title"][0]).strip()
    if "severity" in meta:
        result.severity, warning = read_severity(meta["severity"][0])
        if warning:
            reader.warn(warning)
    if "date" in meta:
        result.date = parse_loose_date(meta["date"][0])
        if result.date is None:
            reader.warn(f"Date {meta['date'][0]!r} not understood.")
    if "duration" in meta:
        result.duration = meta["duration"][0]
    if "status" in meta:
        result.status = read_document_status(meta["status"][0])
        if result.status is None:
            reader.warn(f"Status {meta['status'][0]!r} not understood.")
    _apply_people(reader)
    if "incident" in meta:
        ref = re.search(r"\bINC[-\s]?(\d+)\b", meta["incident"][0], re.I)
        result.incident_ref = f"INC-{ref[1]}" if ref else meta["incident"][0]


def _apply_people(reader: _Reader) -> None:
    result, meta, people = reader.result, reader.meta, reader.people
    if "author" in meta:
        result.authors = _split_names(meta["author"][0])
        result.author = result.authors[0] if result.authors else ""
        result.author_user = people.match(result.author)[0] if result.author else None
        if len(result.authors) > 1:
            reader.warn(f"Several authors; the first, {result.author!r}, becomes the author.")
    if "reviewers" in meta:
        result.reviewers.extend(_split_names(meta["reviewers"][0]))
    result.reviewer_users = [
        user for user in (people.match(name)[0] for name in result.reviewers) if user is not None
    ]
    if "commander" in meta:
        result.commander = meta["commander"][0]
        result.commander_user = people.match(result.commander)[0]


def _document_day(reader: _Reader, sections: list[_Section]) -> date | None:
    """The day undated times fall on: the document date, else any date in the timeline."""
    result = reader.result
    if result.date:
        return result.date
    for key in ("start", "duration"):
        if key in reader.meta:
            found = parse_loose_date(reader.meta[key][0])
            if found:
                result.date = found
                return found
    found = parse_loose_date(result.title)
    if found:
        result.date = found
        return found
    for section in sections:
        if section.kind == "timeline":
            # "2026-02-14T23:30:00Z": the T joins the date to its time.
            body = re.sub(r"(\d{4}-\d{2}-\d{2})T(?=\d)", r"\1 ", _body(section.lines))
            found = parse_loose_date(body)
            if found:
                result.date = found
                return found
    summaries = [_body(section.lines) for section in sections if section.kind == "summary"]
    found = _only_date("\n".join(summaries))
    if found:
        reader.warn(f"Date {found.isoformat()} taken from the summary; check it is the incident's.")
        result.date = found
        return found
    if reader.given_day:
        result.date = reader.given_day
    return reader.given_day


def _only_date(text: str) -> date | None:
    """The one date a text gives; None when it gives none or several."""
    iso = re.findall(r"\b\d{4}-\d{2}-\d{2}\b", text)
    found = {parse_loose_date(day) for day in iso} - {None}
    return found.pop() if len(found) == 1 else None


def _apply_times(reader: _Reader) -> None:
    """Start and end: from the duration line, else start/end lines, else the timeline."""
    result, meta = reader.result, reader.meta
    clock_given = _stamps(result.duration) or any(key in meta for key in ("start", "end"))
    day = reader.placement_day() if clock_given else None
    length = None
    if result.duration:
        result.started_at, result.ended_at, length = read_duration(
            result.duration, day=day, tz=reader.tz
        )
    for key, attr in (("start", "started_at"), ("end", "ended_at")):
        if getattr(result, attr) is None and key in meta:
            stamps = _stamps(meta[key][0])
            moment_day = parse_loose_date(meta[key][0]) or day
            if stamps:
                setattr(result, attr, _moment(stamps[0], moment_day, reader.tz))
    events = sorted(result.timeline_events, key=lambda event: event.occurred_at)
    if result.started_at is None and events:
        result.started_at = events[0].occurred_at
    if result.ended_at is None and result.started_at and length:
        result.ended_at = result.started_at + length
    if result.ended_at is None:
        resolved = [e for e in events if e.phase == TimelineEvent.Phase.RESOLUTION]
        result.ended_at = resolved[-1].occurred_at if resolved else None
    if result.needs_date:
        # Times read against the stand-in day say nothing about when the incident was.
        result.started_at = result.ended_at = None
    elif result.date is None and result.started_at:
        result.date = result.started_at.date()
