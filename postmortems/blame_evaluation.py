"""Precision and recall of the blameless-language check on the labelled corpus.

The corpus lives in tests/corpus/blame/: ``dev.jsonl`` is the half the rules were tuned on,
``test.jsonl`` the half written first and only ever reported. Each line is one sentence:
``{"text": ..., "label": "blame" | "neutral", "class": ...}``. A sentence counts as flagged when
the check returns at least one finding for it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from django.conf import settings

from . import blameless
from .blameless import lint_text

CORPUS = Path(settings.BASE_DIR) / "tests" / "corpus" / "blame"
HALVES = ("dev", "test")
DOC = Path(settings.BASE_DIR) / "docs" / "evaluation.md"


@dataclass
class Score:
    half: str
    sentences: int = 0
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    seconds: float = 0.0
    # class -> [flagged, total]: recall per blame class, false alarms per neutral class
    by_class: dict[str, list[int]] = field(default_factory=dict)
    misses: list[dict] = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_pos + self.false_pos
        return self.true_pos / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        blameful = self.true_pos + self.false_neg
        return self.true_pos / blameful if blameful else 1.0

    @property
    def ms_per_sentence(self) -> float:
        return 1000 * self.seconds / self.sentences if self.sentences else 0.0


def load(half: str) -> list[dict]:
    with open(CORPUS / f"{half}.jsonl", encoding="utf-8") as corpus:
        return [json.loads(line) for line in corpus if line.strip()]


def score(half: str, rows: list[dict] | None = None, label: str = "") -> Score:
    rows = load(half) if rows is None else rows
    lint_text("Warm-up: the rules compile once per process.")  # not counted per sentence
    result = Score(half=label or half, sentences=len(rows))
    for row in rows:
        started = time.perf_counter()
        findings = lint_text(row["text"])
        result.seconds += time.perf_counter() - started
        flagged, blameful = bool(findings), row["label"] == "blame"
        counts = result.by_class.setdefault(f"{row['label']}/{row['class']}", [0, 0])
        counts[0] += flagged
        counts[1] += 1
        if flagged and blameful:
            result.true_pos += 1
        elif flagged:
            result.false_pos += 1
        elif blameful:
            result.false_neg += 1
        if flagged != blameful:
            result.misses.append({**row, "rules": [f.rule for f in findings]})
    return result


START, END = "<!-- blame:start -->", "<!-- blame:end -->"


def report(scores: list[Score]) -> str:
    """The Markdown section written between the blame markers of docs/evaluation.md."""
    lines = [
        "## Blameless-language check",
        "",
        "Sentences from `tests/corpus/blame/`; a sentence counts as flagged when the check "
        "returns any finding. The rules were tuned on the development half only; the test "
        "half was written first and is only reported. Both halves were written for this "
        "project by the same hand, in many voices; the list of first names was written by "
        "that hand too, so the last row shows the test half without it.",
        "",
        "| Half | Sentences | Precision | Recall | False alarms | Missed | ms / sentence |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        lines.append(
            f"| {s.half} | {s.sentences} | {s.precision:.1%} | {s.recall:.1%} | {s.false_pos} "
            f"| {s.false_neg} | {s.ms_per_sentence:.2f} |"
        )
    lines += [
        "",
        "Flagged per class (blame classes: found / all; neutral classes: false alarms / all):",
        "",
    ]
    classes = sorted({c for s in scores for c in s.by_class})
    lines.append("| Class | " + " | ".join(s.half for s in scores) + " |")
    lines.append("|---|" + "---:|" * len(scores))
    for cls in classes:
        cells = []
        for s in scores:
            flagged, total = s.by_class.get(cls, [0, 0])
            cells.append(f"{flagged} / {total}")
        lines.append(f"| {cls} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_section(path: Path, start: str, end: str, body: str) -> None:
    """Replace what lies between two markers of a Markdown file, leaving the rest alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + ("\n\n" if text else "") + block + "\n"
    path.write_text(text, encoding="utf-8")


def run(*, write: bool = True) -> list[Score]:
    scores = [score(half) for half in HALVES]
    # How much rests on the first-names list: the same test half with the list emptied, so
    # only capitals, roles and sentence structure tell people from things.
    with mock.patch.object(blameless, "_first_names", lambda: frozenset()):
        scores.append(score("test", label="test, no first-names list"))
    if write:
        write_section(DOC, START, END, report(scores))
    return scores
