"""Non-blocking warnings shown beside the text they concern: blameless wording, quality hints.

The rules themselves live in postmortems/blameless.py and actions/quality.py; this module only
adapts them to what the editor's margin shows.
"""

from __future__ import annotations

import hashlib
import re

from django.contrib.auth import get_user_model

from .blameless import Finding, lint_text, rules_signature
from .models import CheckedText


def section_findings(text: str, system_names=(), people=()) -> list:
    """Blameless-language findings for one text, computed now (short texts: titles, factors)."""
    return lint_text(text, system_names=system_names, people=people) if text.strip() else []


def people_names() -> list[str]:
    """First and last names of active users: the directory the check reads, once per page."""
    rows = get_user_model().objects.filter(is_active=True).values_list("first_name", "last_name")
    return sorted({name for row in rows for name in row if name})


def stored_findings(texts: list[str], system_names=(), people=()) -> list[list[Finding]]:
    """Findings for each text, read from CheckedText; a text never seen is checked once and
    stored. One query for all texts, plus one insert when something was new.

    `people` may be a function returning the names (`people_names`): it is then called only
    when a text has to be checked, so a page of stored texts does not read the directory.

    The key holds the rules and the service names but not the directory: a new colleague
    would otherwise make every stored result stale at once. Findings reflect the directory as
    it was when the text was saved, like the revision they belong to."""
    context = _context_key(system_names)
    keys = [_digest(text, context) if text.strip() else "" for text in texts]
    wanted = {key for key in keys if key}
    stored = (
        dict(CheckedText.objects.filter(digest__in=wanted).values_list("digest", "findings"))
        if wanted
        else {}
    )
    new = {}
    for key, text in zip(keys, texts, strict=True):
        if key and key not in stored and key not in new:
            if callable(people):
                people = people()
            new[key] = [f.as_dict() for f in section_findings(text, system_names, people)]
    if new:
        # A parallel request may store the same digest first; its result is the same.
        CheckedText.objects.bulk_create(
            [CheckedText(digest=key, findings=found) for key, found in new.items()],
            ignore_conflicts=True,
        )
        stored.update(new)
    return [[Finding(**found) for found in stored[key]] if key else [] for key in keys]


def _context_key(system_names) -> str:
    names = "\x1f".join(sorted(system_names))
    return rules_signature() + hashlib.sha256(names.encode()).hexdigest()


def _digest(text: str, context: str) -> str:
    return hashlib.sha256(f"{context}\x1d{text}".encode()).hexdigest()


# --- "Five whys" chains ------------------------------------------------------------------------

_BULLET = re.compile(r"^(?:[-*+•]|\d+[.)])\s+")


def parse_whys(outline: str) -> list[dict]:
    """An indented outline into a why tree; deeper indentation is a child, siblings branch.

    Why did the deploy skip the canary?
      - the pipeline let a flag skip it
        - the flag was never restricted
      - nobody is asked to approve a skip
    """
    roots: list[dict] = []
    stack: list[tuple[int, dict]] = []
    for raw in outline.replace("\t", "    ").splitlines():
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        text = _BULLET.sub("", raw.strip()).strip()
        if not text:
            continue
        node = {"text": text, "children": []}
        while stack and stack[-1][0] >= indent:
            stack.pop()
        (stack[-1][1]["children"] if stack else roots).append(node)
        stack.append((indent, node))
    return roots


def whys_outline(nodes: list[dict], depth: int = 0) -> str:
    """The tree back as the outline people edit (inverse of parse_whys)."""
    lines = []
    for node in nodes or []:
        lines.append("  " * depth + "- " + node.get("text", ""))
        child = whys_outline(node.get("children", []), depth + 1)
        if child:
            lines.append(child)
    return "\n".join(lines)


def leaves(nodes: list[dict]) -> list[str]:
    found = []
    for node in nodes or []:
        children = node.get("children") or []
        found.extend(leaves(children) if children else [node.get("text", "")])
    return found


# A chain that stops at someone ("because Dana was tired", "the engineer forgot") has not yet
# reached the system property that let one action matter.
_PERSON_END = re.compile(
    # a person or role as the subject of the last answer...
    r"^(?:because\s+|since\s+)?(?:the\s+|an?\s+|our\s+)?(?:@\w[\w.-]*|he|she|I|they|"
    r"engineer|developer|operator|on-?call(?:\s+engineer)?|admin|intern|reviewer|author|"
    r"[A-Z][a-z]+(?=\s+(?:was|did|didn|forgot|missed|skipped|ran|typed|pushed|made)\b))\b"
    # ...or blame words anywhere in it
    r"|\b(?:human error|forgot|careless|mistake|not careful|lazy|tired|inattentive|"
    r"should have|failed to|ignored|overlooked|negligen\w*|"
    r"didn'?t (?:check|notice|bother|read|follow))\b",
    re.IGNORECASE,
)


def chain_warnings(nodes: list[dict], system_names=()) -> list[str]:
    """Warnings for why-chains that end at a person rather than a system property."""
    warnings = []
    for leaf in leaves(nodes):
        if _PERSON_END.search(leaf) or lint_text(leaf, system_names=system_names):
            warnings.append(
                f"The chain ends at a person: “{leaf}”. Ask one more why — what let one "
                "action have this impact, and what would make it impossible for anyone?"
            )
    return warnings
