"""Non-blocking warnings shown beside the text they concern: blameless wording, quality hints.

The rules themselves live in postmortems/blameless.py and actions/quality.py; this module only
adapts them to what the editor's margin shows.
"""

from __future__ import annotations


def section_findings(text: str) -> list:
    """Blameless-language findings for one section's text."""
    if not text.strip():
        return []
    try:
        from .blameless import lint_text
    except ImportError:  # the linter module has not landed yet
        return []
    return lint_text(text)
