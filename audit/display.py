"""Reading entries back: what each one changed, in the words of the page, without queries.

auditlog stores each change as text ("2026-03-02 14:07:00", "True", "in_review"); here a value
becomes what the reader knows (a time shown in their timezone, "yes", "In review"). Related
rows were stored by name when the change was made, so nothing is looked up again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from .trail import SECRET

ACTIONS = {0: "created", 1: "changed", 2: "deleted", 3: "viewed"}


@dataclass(frozen=True)
class Value:
    text: str | None = None
    moment: datetime | None = None  # shown in the viewer's timezone
    secret: bool = False


@dataclass(frozen=True)
class FieldChange:
    name: str  # the model field, or the collection a bulk insert added to
    label: str
    before: Value = Value()
    after: Value = Value()
    added: list[str] = field(default_factory=list)  # a collection (members, reviewers, …)
    removed: list[str] = field(default_factory=list)

    @property
    def is_collection(self) -> bool:
        return bool(self.added or self.removed)


def kind_of(entry) -> str:
    """'timeline event', 'action item', … (the model's name, or the stored one if it is gone)."""
    model = entry.content_type.model_class()
    return str(model._meta.verbose_name) if model else entry.content_type.model


def action_of(entry) -> str:
    return ACTIONS.get(entry.action, "changed")


def changes_of(entry) -> list[FieldChange]:
    model = entry.content_type.model_class()
    rows = []
    for name, change in (entry.changes or {}).items():
        model_field = _field(model, name)
        label = _label(model_field, name)
        if isinstance(change, dict) and change.get("type") == "m2m":
            objects = [str(o) for o in change.get("objects", [])]
            if change.get("operation") == "add":
                rows.append(FieldChange(name, label, added=objects))
            else:
                rows.append(FieldChange(name, label, removed=objects))
            continue
        before, after = (list(change) + [None, None])[:2]
        before, after = _value(model_field, before), _value(model_field, after)
        if before == after == Value():
            continue  # created or deleted with the field empty: nothing to say
        rows.append(FieldChange(name, label, before=before, after=after))
    return rows


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _label(model_field, name: str) -> str:
    verbose = getattr(model_field, "verbose_name", None)
    text = str(verbose) if verbose else name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _value(model_field, raw) -> Value:
    if raw is None or raw == "None":
        return Value()
    raw = str(raw)
    if raw == SECRET:
        return Value(text="secret", secret=True)
    if raw == "":
        return Value()
    if isinstance(model_field, models.BooleanField):
        return Value(text={"True": "yes", "False": "no"}.get(raw, raw))
    if isinstance(model_field, models.DateTimeField):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return Value(text=raw)
        # auditlog stores times as naive UTC
        return Value(moment=moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    choices = getattr(model_field, "flatchoices", None)
    if choices:
        labels = {str(key): str(label) for key, label in choices}
        return Value(text=labels.get(raw, raw))
    return Value(text=raw)
