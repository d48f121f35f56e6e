"""Non-blocking warnings shown beside the text they concern: blameless wording, quality hints.

The rules themselves live in postmortems/blameless.py and actions/quality.py; this module only
adapts them to what the editor's margin shows.
"""

from __future__ import annotations

import re

from .blameless import lint_text


def section_findings(text: str, system_names=()) -> list:
    """Blameless-language findings for one section's text."""
    return lint_text(text, system_names=system_names) if text.strip() else []


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
