"""Postmortems to and from Markdown files, action items included: one import for views and commands.

Writing lives in export, reading (pure, no database writes) in parse, and saving a
read document into an incident in save. It sits in `actions` because a whole document
includes its action items, and only the top domain app may import all three (README).
"""

from .export import export_filename, export_postmortem
from .parse import (
    ImportResult,
    ParsedActionItem,
    ParsedFactor,
    Unmapped,
    parse_postmortem_markdown,
)
from .save import (
    ImportOutcome,
    action_item_problems,
    due_rule,
    import_as_new_incident,
    import_into_incident,
)

__all__ = [
    "ImportOutcome",
    "ImportResult",
    "ParsedActionItem",
    "ParsedFactor",
    "Unmapped",
    "action_item_problems",
    "due_rule",
    "export_filename",
    "export_postmortem",
    "import_as_new_incident",
    "import_into_incident",
    "parse_postmortem_markdown",
]
