"""Postmortems to and from Markdown files: one import for views and commands.

Writing lives in md_export, reading (pure, no database writes) in md_import, and saving a
read document into an incident in services_import.
"""

from .md_export import export_filename, export_postmortem
from .md_import import (
    ImportResult,
    ParsedActionItem,
    ParsedFactor,
    Unmapped,
    parse_postmortem_markdown,
)
from .services_import import (
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
