"""Three-way merge of one section's text: the revision both editors started from, the text
saved since, and the text just typed.

Sections are prose, where one line is often a whole paragraph, so texts are compared
sentence by sentence: two people editing different sentences of the same paragraph is not a
conflict. The whitespace between sentences and lines is a token of its own, so an edit that
adds a sentence after the last one leaves the neighbouring sentence untouched.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import merge3

# A line break, or the spaces after a sentence's closing punctuation (with any closing quote
# or bracket): each is kept as its own token, so joining the tokens gives the text back.
_BREAK = re.compile(r"(\n|(?<=[.!?…][\"'”’)\]])[ \t]+|(?<=[.!?…])[ \t]+)")


def tokens(text: str) -> list[str]:
    """Sentences and the whitespace between them; `"".join(tokens(t)) == t`."""
    return [part for part in _BREAK.split(text) if part]


class _Matcher(difflib.SequenceMatcher):
    # difflib's "popular element" heuristic would treat the many identical space tokens of a
    # long section as junk and align sentences badly; prose sections are small enough.
    def __init__(self, isjunk=None, a="", b=""):
        super().__init__(isjunk, a, b, autojunk=False)


@dataclass(frozen=True)
class Conflict:
    """One place both sides changed differently: the text there in each."""

    base: str
    theirs: str
    mine: str

    @property
    def both(self) -> str:
        """Theirs followed by mine, for when both belong."""
        if not self.theirs or not self.mine:
            return self.theirs or self.mine
        if self.theirs[-1].isspace() or self.mine[0].isspace():
            gap = ""
        elif not self.base or "\n" in self.theirs or "\n" in self.mine:
            gap = "\n"  # two drafts, or whole lines: one below the other
        else:
            gap = " "  # two versions of a sentence within a paragraph
        return f"{self.theirs}{gap}{self.mine}"


@dataclass(frozen=True)
class Merge:
    """The merged text as pieces: agreed text (str) and the conflicts between them."""

    pieces: tuple[str | Conflict, ...]

    @property
    def conflicts(self) -> list[Conflict]:
        return [p for p in self.pieces if isinstance(p, Conflict)]

    @property
    def clean(self) -> bool:
        return not self.conflicts

    def text(self, prefer: str = "mine") -> str:
        """The whole text, taking `prefer` ("mine", "theirs" or "both") at each conflict."""
        return "".join(p if isinstance(p, str) else getattr(p, prefer) for p in self.pieces)

    def parts(self) -> list[dict]:
        """Pieces for a template: {"text": …} or {"conflict": Conflict, "index": n}."""
        out, index = [], 0
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append({"text": piece})
            else:
                index += 1
                out.append({"conflict": piece, "index": index})
        return out


def merge(base: str, theirs: str, mine: str) -> Merge:
    """Combine the changes base→theirs and base→mine; where both changed the same sentences
    differently, keep both sides as a Conflict instead of guessing."""
    z, a, b = tokens(base), tokens(mine), tokens(theirs)
    m3 = merge3.Merge3(z, a, b, sequence_matcher=_Matcher)
    pieces: list[str | Conflict] = []
    for region in m3.merge_regions():
        kind = region[0]
        if kind == "unchanged":
            pieces.append("".join(z[region[1] : region[2]]))
        elif kind in ("a", "same"):
            pieces.append("".join(a[region[1] : region[2]]))
        elif kind == "b":
            pieces.append("".join(b[region[1] : region[2]]))
        else:  # "conflict"
            _, z1, z2, a1, a2, b1, b2 = region
            zs, mine_s, theirs_s = z[z1:z2], a[a1:a2], b[b1:b2]
            around = _wrapped(zs, theirs_s, mine_s) or _wrapped(zs, mine_s, theirs_s)
            if around is not None:
                pieces.append("".join(around))
            else:
                pieces.append(
                    Conflict(base="".join(zs), theirs="".join(theirs_s), mine="".join(mine_s))
                )
    return Merge(tuple(_joined(pieces)))


def _wrapped(base: list[str], outer: list[str], inner: list[str]) -> list[str] | None:
    """When one side only added text before or after an untouched stretch (a line added
    below the sentence the other side rewrote), both changes apply: the other side's
    rewrite goes where the stretch was. None when that is not the case."""
    n = len(base)
    if not n or len(outer) <= n:
        return None
    for i in range(len(outer) - n + 1):
        if outer[i : i + n] == base:
            return outer[:i] + inner + outer[i + n :]
    return None


def _joined(pieces: list[str | Conflict]) -> list[str | Conflict]:
    """Adjacent agreed pieces as one string, and no empty ones."""
    out: list[str | Conflict] = []
    for piece in pieces:
        if isinstance(piece, str):
            if not piece:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += piece
                continue
        out.append(piece)
    return out
