"""What input may hold, defined once: the range of dates and times, the characters, the sizes.

Every form (through `BoundedForm`), filter, paste, import, dashboard parameter and feed asks
these. A date outside the range is refused with a message rather than stored: year 1 cannot
be read back from PostgreSQL once a timezone shifts it into 1 BC, and 9999-12-31 overflows as
soon as a page shows it in a timezone east of UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Case, F, Q, Value, When

EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2100, 12, 31)
EARLIEST = datetime.combine(EARLIEST_DAY, time.min, tzinfo=UTC)
LATEST = datetime.combine(LATEST_DAY, time(23, 59, 59), tzinfo=UTC)
RANGE_TEXT = f"{EARLIEST_DAY:%Y-%m-%d} and {LATEST_DAY:%Y-%m-%d}"

# Lengths for text that has no natural limit of its own: a line typed in a box, a paragraph
# or a document typed in a text area (as large as a postmortem section may be).
LINE_LIMIT = 500
TEXT_LIMIT = 200_000

# C0 controls, DEL and C1 controls. Multi-line text keeps tab, newline and the carriage
# return browsers send with it; one-line text keeps none of them.
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_MESSAGE = (
    "Remove the invisible control character (%(name)s) from this text; it was probably "
    "pasted along with it. Nothing else was changed."
)


def day_in_range(value: date) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_DAY <= day <= LATEST_DAY


def check_day(value: date | datetime | None) -> None:
    """Refuse a date (or the calendar day of a time, as typed) outside the range."""
    if value is not None and not day_in_range(value):
        raise ValidationError(
            "Choose a date between %(range)s.", code="out_of_range", params={"range": RANGE_TEXT}
        )


check_moment = check_day  # a time is judged by its day as typed, in the zone it was typed in


def control_character(text: str, *, multiline: bool = False) -> str | None:
    """The first control character `text` may not hold, as U+XXXX, or None."""
    found = (_CONTROL_TEXT if multiline else _CONTROL_LINE).search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def check_line(value) -> None:
    """Validator for one-line text: no control characters at all."""
    _refuse_control(value, multiline=False)


def check_text(value) -> None:
    """Validator for multi-line text: tabs and line breaks, but no other control characters."""
    _refuse_control(value, multiline=True)


def _refuse_control(value, *, multiline: bool) -> None:
    values = value if isinstance(value, list | tuple) else [value]
    for one in values:
        if isinstance(one, str):
            name = control_character(one, multiline=multiline)
            if name:
                raise ValidationError(CONTROL_MESSAGE, code="control", params={"name": name})


def clamp(value: datetime) -> datetime:
    """A time brought into the range (for rows stored before the range was enforced)."""
    return min(max(value, EARLIEST), LATEST)


def clamp_stored(model, fields: list[str]) -> int:
    """Bring stored dates and times of `model` into the range (for data migrations).

    Each row is updated in one statement, so a constraint comparing its fields (detected after
    started) holds throughout: clamping keeps their order. Returns how many rows moved.
    """
    outside = Q()
    changes = {}
    for name in fields:
        kind = model._meta.get_field(name).get_internal_type()
        low, high = (EARLIEST_DAY, LATEST_DAY) if kind == "DateField" else (EARLIEST, LATEST)
        below, above = {f"{name}__lt": low}, {f"{name}__gt": high}
        outside |= Q(**below) | Q(**above)
        changes[name] = Case(
            When(**below, then=Value(low)), When(**above, then=Value(high)), default=F(name)
        )
    return model.objects.filter(outside).update(**changes)


def _multiline(field: forms.Field) -> bool:
    return isinstance(field.widget, forms.Textarea)


def _guard(field: forms.Field) -> None:
    """Refuse control characters before the field reads the value (a NUL sent to a database
    lookup fails there, not as a message), and bound its length and dates."""
    multiline = _multiline(field)
    clean = field.clean

    def guarded_clean(value, *args):
        _refuse_control(value, multiline=multiline)
        return clean(value, *args)

    field.clean = guarded_clean
    if multiline:
        # The browser would cut a long paste short without a word; the server says why instead.
        field.widget.attrs.pop("maxlength", None)
    if isinstance(field, forms.CharField) and field.max_length is None:
        field.max_length = TEXT_LIMIT if multiline else LINE_LIMIT
        field.validators.append(MaxLengthValidator(field.max_length))
        if not multiline:  # a text area is not cut short silently in the browser
            field.widget.attrs.setdefault("maxlength", str(field.max_length))
    if isinstance(field, forms.DateField | forms.DateTimeField):
        field.validators.append(check_day)
        field.widget.attrs.setdefault("min", _widget_bound(field, EARLIEST_DAY, "00:00"))
        field.widget.attrs.setdefault("max", _widget_bound(field, LATEST_DAY, "23:59"))


def _widget_bound(field, day: date, clock: str) -> str:
    if getattr(field.widget, "input_type", "") == "datetime-local":
        return f"{day:%Y-%m-%d}T{clock}"
    return f"{day:%Y-%m-%d}"


class BoundedForm:
    """Mixin for every form: control characters refused with a message, every text field
    with a length limit, every date within the range. The typed values stay in the form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field, forms.FileField):
                _guard(field)


def query_problem(params) -> str | None:
    """Why a query string cannot be read (a control character), or None."""
    for key, values in params.lists():
        for text in (key, *values):
            name = control_character(text)
            if name:
                return f"The address holds a control character ({name}) in “{key[:40]}”."
    return None


class FilterForm(BoundedForm, forms.Form):
    """The form of every FilterSet (`Meta.form`): a bad value is dropped from the filter and
    shown with its message, never sent to the database."""
