"""Read a pasted incident timeline into events, without touching the database.

People paste from chat, notes, spreadsheets and other tools' documents, so each line is tried
against the shapes seen in practice. A line that cannot be read is handed back with its line
number instead of being guessed at: a wrong timestamp is worse than a missing one.

The table helpers (`split_table_row`, `is_separator_row`, `map_columns`) and the date helpers
(`match_date`, `parse_loose_date`, `zone_hint`) are shared with the postmortem Markdown import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .bounds import day_in_range
from .models import TimelineEvent

Source = TimelineEvent.Source
Phase = TimelineEvent.Phase

# A step back larger than this between dateless times is read as crossing midnight
# (23:50 then 00:10); a smaller one is a note written out of order and stays on the same day.
ROLLOVER_GAP = timedelta(hours=6)


@dataclass(frozen=True)
class ParsedEvent:
    occurred_at: datetime  # aware, UTC
    text: str
    source: str = Source.MANUAL
    source_detail: str = ""
    phase: str = Phase.OTHER
    line_no: int = 0


@dataclass
class ParseResult:
    events: list[ParsedEvent] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)


# --- Guessing source and phase ---------------------------------------------------------------

# First match wins, in this order: an alert posted in Slack is still an alert.
_SOURCE_WORDS = [
    (
        Source.ALERT,
        r"alert\w*|paged|paging|pager|pagerduty|opsgenie|victorops"
        r"|page\s+(?:fired|sent|went|to|for)|ack\w*\s+(?:the\s+)?page",
    ),
    (Source.DEPLOY, r"deploy\w*|roll(?:ed)?[\s-]?out|rollouts?|release[sd]?|argo\s?cd|spinnaker"),
    # Not a bare "log": "users could not log in" is not a log record.
    (
        Source.LOG,
        r"logs|log\s+(?:lines?|entr\w+|messages?|search|query)|kibana|splunk|loki|cloudwatch"
        r"|(?:error|app|application|server|access)\s+log",
    ),
    (Source.CHAT, r"slack|chat|zoom|#[a-z][\w-]*"),
    # "PR" must be upper case: lower-case "pr" turns up in ordinary prose.
    (Source.GIT, r"(?-i:PRs?)|#\d+|commit\w*|pull\s+request|git|github|gitlab|merged?"),
]
_SOURCE_PATTERNS = [
    (source, re.compile(rf"(?i)(?<![\w#])(?:{words})\b")) for source, words in _SOURCE_WORDS
]

# Conservative: only phrases that leave little doubt. Order matters ("alert resolved" is a
# resolution, "rolled back and recovered" a mitigation).
_PHASE_WORDS = [
    (
        Phase.DETECTION,
        r"alerts?\s+(?:fired|triggered|went\s+off)|paged\b"
        r"|page\s+(?:fired|went\s+out)|detected|customers?\s+reported",
    ),
    (
        Phase.MITIGATION,
        r"roll(?:ing|ed)?[\s-]?back|mitigat\w*|failed\s+over|failover"
        r"|reverted",
    ),
    (
        Phase.RESOLUTION,
        r"resolved|recovered|back\s+to\s+normal|all\s+clear|incident\s+closed",
    ),
    (
        Phase.DIAGNOSIS,
        r"identified\s+(?:the\s+)?(?:root\s+)?cause|root\s+cause\s+(?:found|identified)",
    ),
    (
        Phase.TRIGGER,
        r"(?:deploy|deployment|rollout|release|migration)\s+(?:started|began|kicked\s+off)",
    ),
]
_PHASE_PATTERNS = [(phase, re.compile(rf"\b(?:{words})", re.I)) for phase, words in _PHASE_WORDS]


def guess_source(text: str) -> str:
    """The kind of record a timeline line most likely came from; manual when unsure."""
    for source, pattern in _SOURCE_PATTERNS:
        if pattern.search(text):
            return source
    return Source.MANUAL


def guess_phase(text: str) -> str:
    """The incident phase a line clearly belongs to, or other."""
    for phase, pattern in _PHASE_PATTERNS:
        if pattern.search(text):
            return phase
    return Phase.OTHER


def read_source_cell(cell: str, text: str) -> tuple[str, str]:
    """Source and detail from an explicit source column ("alert: PagerDuty", "Slack")."""
    cell = cell.strip()
    if not cell:
        return guess_source(text), ""
    head, sep, rest = cell.partition(":")
    named = _choice(Source, head)
    if named and sep:
        return named, rest.strip()
    named = _choice(Source, cell)
    if named:
        return named, ""
    guessed = guess_source(cell)
    # A named tool we do not recognise is still a record, not something typed by hand.
    return (guessed if guessed != Source.MANUAL else Source.OTHER), cell


def read_phase_cell(cell: str, text: str) -> str:
    return _choice(Phase, cell) or guess_phase(text)


def _choice(choices, raw: str) -> str | None:
    wanted = raw.strip().lower()
    for value, label in choices.choices:
        if wanted in (value, label.lower()):
            return value
    return None


# --- Dates, times and zones ------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_DATE_FORMS = [
    re.compile(r"\b(?P<year>\d{4})[-/](?P<month>\d{1,2})[-/](?P<day>\d{1,2})\b"),
    re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?\b", re.I),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?\b", re.I),
    # 26.03.2026 is day-first wherever dots are used.
    re.compile(r"\b(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})\b"),
    # 26/03/2026 or 03/26/2026: read only when one side cannot be a month.
    re.compile(r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<year>\d{4})\b"),
]
_WEEKDAY = re.compile(
    r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday|rsday)?\.?,?\s+",
    re.I,
)


def match_date(text: str, *, default_year: int | None = None):
    """The first calendar date in `text` as (date, start, end), or None.

    Slash dates like 04/05/2026 are skipped as ambiguous between day-first and month-first.
    """
    for pattern in _DATE_FORMS:
        for found in pattern.finditer(text):
            day = _date_from_match(found, default_year)
            if day:
                return day, found.start(), found.end()
    return None


def parse_loose_date(text: str, *, default_year: int | None = None) -> date | None:
    found = match_date(text, default_year=default_year)
    return found[0] if found else None


def _date_from_match(found: re.Match, default_year: int | None) -> date | None:
    parts = found.groupdict()
    year = int(parts["year"]) if parts.get("year") else default_year
    if year is None:
        return None
    if parts.get("mon"):
        month = _MONTHS[parts["mon"][:3].lower()]
        day = int(parts["day"])
    elif parts.get("a"):
        a, b = int(parts["a"]), int(parts["b"])
        if a > 12 >= b:
            day, month = a, b
        elif b > 12 >= a:
            day, month = b, a
        else:
            return None
    else:
        month, day = int(parts["month"]), int(parts["day"])
    try:
        found_day = date(year, month, day)
    except ValueError:
        return None
    # Outside the range a date is not read as one: a paste or import never stores year 1.
    return found_day if day_in_range(found_day) else None


_ZONE_ABBREVIATIONS = {
    "utc": "UTC", "gmt": "UTC", "z": "UTC",
    "pt": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "ct": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago",
    "cet": "Europe/Paris", "cest": "Europe/Paris", "bst": "Europe/London",
}  # fmt: skip


def zone_hint(text: str) -> tzinfo | None:
    """A time zone named in a heading or note: "Timeline (UTC)", "Time (Europe/London)"."""
    for word in re.findall(r"[A-Za-z_]+(?:/[A-Za-z_]+)+|[A-Za-z]+", text):
        if "/" in word:
            try:
                return ZoneInfo(word)
            except (ZoneInfoNotFoundError, ValueError):
                continue
        # Abbreviations only in capitals: "et" and "pt" are ordinary words in lower case.
        name = _ZONE_ABBREVIATIONS.get(word.lower()) if word.isupper() else None
        if name:
            return UTC if name == "UTC" else ZoneInfo(name)
    return None


_TIME = r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?"
_AMPM = r"(?:\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?))?"
_ZONE = r"(?:\s*(?P<zone>(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?|Z|[+-]\d{2}:?\d{2}))?"
_STAMP = re.compile(
    rf"(?:(?P<date>\d{{4}}-\d{{2}}-\d{{2}})(?:T|\s+))?{_TIME}{_AMPM}{_ZONE}(?!\w|:\d)"
)
_WRAPPERS = [("[", "]"), ("**", "**"), ("__", "__"), ("`", "`"), ("*", "*"), ("(", ")")]


@dataclass(frozen=True)
class Stamp:
    clock: time
    day: date | None = None
    zone: tzinfo | None = None


def _stamp_from_match(found: re.Match) -> Stamp | None:
    hour, minute = int(found["h"]), int(found["m"])
    second = int(found["s"] or 0)
    ampm = (found["ampm"] or "").replace(".", "").replace(" ", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    day = None
    if found["date"]:
        try:
            day = date.fromisoformat(found["date"])
        except ValueError:
            return None
        if not day_in_range(day):
            return None
    return Stamp(time(hour, minute, second), day, _zone(found["zone"]))


def _zone(raw: str | None) -> tzinfo | None:
    if not raw:
        return None
    offset = raw[3:] if raw[:3] in ("UTC", "GMT") else ("" if raw == "Z" else raw)
    if not offset:
        return UTC
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def leading_stamp(text: str) -> tuple[Stamp, str] | None:
    """A timestamp at the start of `text` (bare or in [], **, `, ()) and the rest of it."""
    for opening, closing in _WRAPPERS:
        if text.startswith(opening):
            end = text.find(closing, len(opening))
            if end > 0:
                inner = text[len(opening) : end].strip().rstrip(":").strip()
                stamp = read_stamp(inner)
                if stamp:
                    return stamp, text[end + len(closing) :]
    found = _STAMP.match(text)
    if found:
        stamp = _stamp_from_match(found)
        if stamp:
            return stamp, text[found.end() :]
    return None


def read_stamp(text: str) -> Stamp | None:
    """A cell or fragment that is exactly one timestamp, possibly wrapped in emphasis."""
    text = text.strip()
    found = leading_stamp(text) if text else None
    if found and not found[1].strip():
        return found[0]
    return None


class _Clock:
    """Places times without a date on the incident's day, crossing midnight when needed."""

    def __init__(self, day: date, tz: tzinfo):
        self.day = day
        self.tz = tz
        self.last: datetime | None = None

    def set_day(self, day: date) -> None:
        self.day = day
        self.last = None

    def place(self, stamp: Stamp, default_zone: tzinfo | None = None) -> datetime:
        zone = stamp.zone or default_zone or self.tz
        if stamp.day:
            moment = _at(stamp.day, stamp.clock, zone)
            self.day = moment.astimezone(self.tz).date()
        else:
            moment = _at(self.day, stamp.clock, zone)
            if self.last and moment < self.last - ROLLOVER_GAP:
                self.day += timedelta(days=1)
                moment = _at(self.day, stamp.clock, zone)
        self.last = moment
        return moment.astimezone(UTC)


def _at(day: date, clock: time, zone: tzinfo) -> datetime:
    # fold=0 reads an hour repeated by a DST change as its first occurrence, and a time
    # skipped by one with the offset before the change, as a person reading a wall clock would.
    return datetime.combine(day, clock, tzinfo=zone)


# --- Markdown tables -------------------------------------------------------------------------

_SEPARATOR_CELL = re.compile(r"^\s*:?-{3,}:?\s*$")


def split_table_row(line: str) -> list[str]:
    """The cells of a Markdown table row, honouring escaped pipes and <br> line breaks."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells = re.split(r"(?<!\\)\|", body)
    return [_cell_text(cell) for cell in cells]


def _cell_text(cell: str) -> str:
    text = cell.strip().replace("\\|", "|")
    return re.sub(r"<br\s*/?>", "\n", text, flags=re.I)


def is_table_row(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("|") or bool(re.search(r"(?<!\\)\|", stripped))


def is_separator_row(line: str) -> bool:
    if "-" not in line or not is_table_row(line):
        return False
    return all(_SEPARATOR_CELL.match(cell) for cell in split_table_row(line))


def normalise_heading(text: str) -> str:
    """Lower-case words of a heading or column name, without markup or a trailing remark."""
    text = re.sub(r"[*_`]", "", text).replace("’", "'").lower()
    text = re.sub(r"\([^)]*\)", " ", text)
    text = re.sub(r"^\s*(?:\d+|[ivx]+)[.)]\s+", "", text)
    text = re.sub(r"[^\w#/&' -]+", " ", text)
    return re.sub(r"\s+", " ", text).strip(" :-")


def map_columns(headers: list[str], aliases: dict[str, tuple[str, ...]]):
    """Which column holds which field, and the headers no field claimed.

    A header matches an alias exactly, or starts with it ("Due date" → due); the first column
    that matches a field wins it.
    """
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, header in enumerate(headers):
        name = normalise_heading(header)
        for field_name, names in aliases.items():
            if field_name not in columns and _matches_alias(name, names):
                columns[field_name] = index
                break
        else:
            if header.strip():
                unknown.append(header.strip())
    return columns, unknown


def _matches_alias(name: str, names: tuple[str, ...]) -> bool:
    return any(name == alias or name.startswith(alias + " ") for alias in names)


_TIMELINE_COLUMNS = {
    "time": ("time", "timestamp", "when", "date/time", "date & time", "datetime", "utc", "at"),
    "date": ("date", "day"),
    "text": (
        "event", "events", "description", "what happened", "what", "details", "activity",
        "message", "update", "notes", "note", "summary", "action",
    ),
    "source": ("source", "sources", "evidence", "via", "from", "link", "reference", "ref"),
    "phase": ("phase", "stage"),
}  # fmt: skip


@dataclass
class _Table:
    columns: dict[str, int]
    zone: tzinfo | None


def _table_header(headers: list[str]) -> _Table | None:
    columns, _ = map_columns(headers, _TIMELINE_COLUMNS)
    if "time" not in columns and "date" in columns:
        columns["time"] = columns.pop("date")  # a lone Date column holds full timestamps
    if "time" not in columns or "text" not in columns:
        return None
    return _Table(columns, zone_hint(headers[columns["time"]]))


# --- Lines -----------------------------------------------------------------------------------

_BULLET = re.compile(r"^(?:[-*+•]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?")
_SEPARATOR_AFTER_STAMP = re.compile(r"^\s*(?:[—–|:>→]|-{1,2}>?|=>)?\s*")
_CHAT_LINE = re.compile(
    rf"^(?:(?P<handle>@[\w.\-]+)\s+|(?P<name>[A-Za-z][\w.\-]*)(?:\s{{2,}}|\t))"
    rf"\[?(?P<stamp>\d{{1,2}}:\d{{2}}(?::\d{{2}})?{_AMPM})\]?(?:\s*[:—–-]\s+|\s+)"
    rf"(?P<text>\S.*)$"
)
_MARKUP_AROUND = re.compile(r"^(?:#+\s*)?[*_]*\s*|\s*[*_]*:?\s*$")
# A speaker after the time, as chat clients copy out: "<alice> text" (IRC), "@alice: text",
# "alice: text" or "Alice Ng: text". Without the colon, "@alice acknowledged" is about alice.
_SPEAKER = re.compile(
    r"^(?:<(?P<nick>[\w.\-|]+)>\s+|(?P<handle>@[\w.\-]+):\s+"
    r"|(?P<name>[A-Za-z][\w.\-]*(?: [A-Z][\w.\-]*)?):\s+)(?P<text>\S.*)$"
)
# Words that begin ordinary notes ("Alert: CPU high"), never a person's name.
_NOT_SPEAKERS = {
    "action",
    "alert",
    "cause",
    "customer",
    "decision",
    "deploy",
    "error",
    "fix",
    "impact",
    "info",
    "issue",
    "log",
    "mitigation",
    "note",
    "problem",
    "question",
    "reason",
    "resolved",
    "result",
    "rollback",
    "status",
    "summary",
    "todo",
    "update",
    "warning",
}


@dataclass
class _Row:
    stamp: Stamp
    text: str
    source_cell: str | None = None
    phase_cell: str | None = None
    chat_name: str = ""


def _date_line(line: str, default_year: int) -> date | None:
    """A line that is only a date, like "### 2026-03-26" or "**Thursday, March 26**"."""
    body = _WEEKDAY.sub("", _MARKUP_AROUND.sub("", line)).strip().rstrip(",")
    found = match_date(body, default_year=default_year)
    if found and found[1] == 0 and found[2] == len(body):
        return found[0]
    return None


def _line_row(line: str) -> _Row | None:
    body = _BULLET.sub("", line.strip())
    if is_table_row(body):
        cells = split_table_row(body)
        stamp = read_stamp(cells[0]) if len(cells) >= 2 else None
        if stamp and cells[1]:
            return _Row(stamp, cells[1], cells[2] if len(cells) > 2 else None)
    found = leading_stamp(body)
    if found:
        stamp, rest = found
        text = _SEPARATOR_AFTER_STAMP.sub("", rest, count=1).strip()
        if not re.search(r"\w", text):
            return None
        speaker = _SPEAKER.match(text)
        if speaker:
            name = speaker["nick"] or speaker["handle"] or speaker["name"]
            if name.lower() not in _NOT_SPEAKERS and guess_source(name) == Source.MANUAL:
                handle = name if name.startswith("@") else "@" + name.replace(" ", ".").lower()
                return _Row(stamp, speaker["text"].strip(), chat_name=handle)
        return _Row(stamp, text)
    return _chat_row(body)


def _chat_row(body: str) -> _Row | None:
    """Slack-style "alice  2:02 PM  text": only with the wide gaps chat clients copy out."""
    found = _CHAT_LINE.match(body)
    if not found:
        return None
    stamp = read_stamp(found["stamp"])
    if not stamp:
        return None
    name = found["handle"] or "@" + found["name"]
    return _Row(stamp, found["text"].strip(), chat_name=name)


def _table_row(cells: list[str], table: _Table) -> _Row | None:
    def cell(name: str) -> str | None:
        index = table.columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    stamp = read_stamp(cell("time") or "")
    text = (cell("text") or "").strip()
    if not stamp or not text:
        return None
    day_cell = cell("date")
    if day_cell and not stamp.day:
        day = parse_loose_date(day_cell)
        if day:
            stamp = Stamp(stamp.clock, day, stamp.zone)
    return _Row(stamp, text, cell("source"), cell("phase"))


def _event(row: _Row, occurred_at: datetime, line_no: int) -> ParsedEvent:
    if row.chat_name:
        source, detail = Source.CHAT, row.chat_name
    elif row.source_cell is not None:
        source, detail = read_source_cell(row.source_cell, row.text)
    else:
        source, detail = guess_source(row.text), ""
    phase = read_phase_cell(row.phase_cell or "", row.text)
    return ParsedEvent(occurred_at, row.text, source, detail, phase, line_no)


def parse_timeline(text: str, *, day: date, tz: tzinfo, first_line_no: int = 1) -> ParseResult:
    """Events from pasted lines or Markdown tables; times without a date fall on `day` in `tz`.

    `first_line_no` numbers the lines when the text is a slice of a larger document.
    """
    reader = _TimelineReader(_Clock(day, tz))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        reader.read(line, first_line_no + index, following)
    return reader.result


class _TimelineReader:
    """Reads line by line, remembering the open table and the clock."""

    def __init__(self, clock: _Clock):
        self.clock = clock
        self.table: _Table | None = None
        self.result = ParseResult()

    def read(self, line: str, line_no: int, following: str) -> None:
        if not line.strip():
            self.table = None
            return
        if is_separator_row(line):
            return  # the |---| line under a header says nothing about events
        if is_table_row(line) and is_separator_row(following):
            self.table = _table_header(split_table_row(line))
            if self.table:
                return
        if self.table and is_table_row(line):
            row, zone = _table_row(split_table_row(line), self.table), self.table.zone
        else:
            self.table = None
            new_day = _date_line(line, self.clock.day.year)
            if new_day:
                self.clock.set_day(new_day)
                return
            row, zone = _line_row(line), None
        if row:
            event = _event(row, self.clock.place(row.stamp, zone), line_no)
            self.result.events.append(event)
        else:
            self.result.unreadable.append((line_no, line))
