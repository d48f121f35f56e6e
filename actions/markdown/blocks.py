"""A Markdown document as top-level blocks, found by markdown-it-py, each with its source lines.

The grammar decides what is a heading, list, table, quote or code (setext underlines, fences,
lazy continuation lines, escaped pipes); the importer then decides what each block means.
Template guidance left under a heading is recognised here, so it can be reported rather than
read as content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from markdown_it import MarkdownIt
from markdown_it.token import Token

_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

_KINDS = {
    "heading_open": "heading",
    "paragraph_open": "paragraph",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "table_open": "table",
    "blockquote_open": "quote",
    "fence": "code",
    "code_block": "code",
    "html_block": "html",
    "hr": "hr",
}


@dataclass
class Block:
    kind: str
    start: int  # index of its first source line
    end: int  # index after its last source line
    source: list[str]  # the document's lines, shared by every block
    tokens: list[Token] = field(default_factory=list, repr=False)
    level: int = 0  # for headings
    guidance: bool = False

    @property
    def line_no(self) -> int:
        return self.start + 1

    @property
    def lines(self) -> list[tuple[int, str]]:
        return [(index + 1, self.source[index]) for index in range(self.start, self.end)]

    @property
    def text(self) -> str:
        """The inline Markdown of a heading or paragraph; the source lines otherwise."""
        if self.kind in ("heading", "paragraph") and len(self.tokens) > 1:
            return self.tokens[1].content
        return "\n".join(self.source[self.start : self.end])

    def rest(self) -> Block | None:
        """The block without its first line (a paragraph whose first line is a heading)."""
        if self.end - self.start < 2:
            return None
        return replace(self, start=self.start + 1, tokens=[], kind="paragraph")


def split_blocks(text: str) -> list[Block]:
    source = text.split("\n")
    blocks: list[Block] = []
    tokens = _MD.parse(text)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = _KINDS.get(token.type)
        if token.level != 0 or kind is None or token.map is None:
            index += 1
            continue
        end = index + 1
        if token.nesting == 1:
            while end < len(tokens) and not (tokens[end].level == 0 and tokens[end].nesting == -1):
                end += 1
            end += 1
        start_line, end_line = token.map
        level = int(token.tag[1]) if kind == "heading" else 0
        blocks.append(Block(kind, start_line, end_line, source, tokens[index:end], level))
        index = end
    return blocks


def table_rows(block: Block) -> list[tuple[int, list[str]]]:
    """(line number, cells) for each row of a table block, the header row first."""
    rows: list[tuple[int, list[str]]] = []
    line_no, cells = 0, None
    for token in block.tokens:
        if token.type == "tr_open":
            line_no, cells = (token.map[0] + 1 if token.map else line_no), []
        elif token.type == "inline" and cells is not None:
            cells.append(_cell(token.content))
        elif token.type == "tr_close" and cells is not None:
            rows.append((line_no, cells))
            cells = None
    return rows


def _cell(content: str) -> str:
    return re.sub(r"<br\s*/?>", "\n", content.replace("\\|", "|"), flags=re.I).strip()


# --- Template guidance -----------------------------------------------------------------------

# Instructions a template gives the writer: they open with an imperative or a prompt.
_PROMPT = re.compile(
    r"^(?:describe|list|explain|include|summari[sz]e|provide|insert|enter|fill\s+in|replace"
    r"|delete|remove\s+this|use\s+(?:this|utc|the\s+following)|write\s+(?:a|one|two|here)\b"
    r"|link\s+to|attach|note\s*:|tip\s*:|hint\s*:|optional\s*:|"
    + r"(?:example\s*:|for\s+example|e\.\s?g\.)"
    r"|what\s+(?:was|were|did|is|are)|who\s+(?:was|were|is)|how\s+(?:was|were|did|many|long)"
    r"|why\s+(?:was|were|did)"
    # A definition of the section itself: "Contributing factors are the conditions that..."
    r"|(?:an?\s+|the\s+)?(?:contributing\s+factors?|action\s+items?|root\s+causes?|timeline"
    r"|impact|summary|lessons?)\s+(?:is|are|should|must|describes?|lists?)\b)\b",
    re.I,
)
_PLACEHOLDER = re.compile(
    r"^\s*(?:\[[^\]]*\]|<[^>]*>|\{\{?[^}]*\}\}?|tbd|tba|todo|to\s+do|n/?a|none\s+yet|\.\.\.|…|-+)"
    r"\s*\.?\s*$",
    re.I,
)
_RULES_INTRO = re.compile(
    r"\b(?:good|great|should|must|guidelines?|rules?|tips?|remember|criteria|checklist)\b.*:\s*$",
    re.I | re.S,
)
_WHOLLY_EMPHASISED = re.compile(r"^\s*([*_])(?!\1)(?:(?!\1).)+\1\s*$", re.S)


def is_placeholder(text: str) -> bool:
    return bool(_PLACEHOLDER.match(_strip_marks(text)))


def _strip_marks(text: str) -> str:
    return re.sub(r"^\s*(?:[-*+]\s+)?(?:\[[ xX]\]\s+)?", "", text).strip()


def looks_like_guidance(text: str) -> bool:
    """Text a template left for the writer: a prompt, an example, or a placeholder."""
    plain = _strip_marks(text)
    if not plain:
        return False
    if _WHOLLY_EMPHASISED.match(plain) or is_placeholder(plain):
        return True
    words = re.sub(r"[*_`>]", "", plain).strip()
    if _PROMPT.match(words):
        return True
    return bool(re.search(r"\be\.\s?g\.", words, re.I)) and len(words) < 300


_EXAMPLE = re.compile(r"^(?:example\s*:|for\s+example|e\.\s?g\.)", re.I)


def is_example(text: str) -> bool:
    """A list entry a template gives as a model: emphasised, an "Example:", a placeholder."""
    plain = _strip_marks(text)
    if _WHOLLY_EMPHASISED.match(plain) or is_placeholder(plain):
        return True
    return bool(_EXAMPLE.match(re.sub(r"[*_`]", "", plain).strip()))


def mark_guidance(blocks: list[Block]) -> None:
    """Flag blocks that are template guidance; a rules list after "Good items are:" too."""
    previous: Block | None = None
    for block in blocks:
        if block.kind in ("paragraph", "quote", "html"):
            block.guidance = looks_like_guidance(_quote_text(block))
        elif block.kind == "list" and previous is not None and previous.kind == "paragraph":
            block.guidance = previous.guidance and bool(_RULES_INTRO.search(previous.text))
        if block.kind == "paragraph" and _RULES_INTRO.search(block.text) and not block.guidance:
            block.guidance = len(block.text) < 200 and block.end - block.start == 1
        previous = block


def _quote_text(block: Block) -> str:
    if block.kind == "quote":
        return " ".join(re.sub(r"^\s*>\s?", "", line) for _, line in block.lines).strip()
    return block.text
