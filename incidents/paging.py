"""Paging for lists: Django's `paginate` (exact counts) for short lists, and `paginate_list` for
the big ones (incidents, action items, postmortems), which never count every row.

`paginate_list` counts at most COUNT_LIMIT rows (a LIMITed subquery: "1–50 of 1,000+"), so the
count costs the same whether the organisation has a thousand rows or a million. Shallow pages
are `?page=N` (an OFFSET); past COUNT_LIMIT the links carry a keyset cursor instead
(`?page=N&after=<the last row's sort values>`), which reads the next rows from the ordering's
index however deep the page. An old `?page=N` link still works at any depth.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q

# Rows counted at most; a list with more says "1,000+". About 20 pages of 50.
COUNT_LIMIT = 1000
CURSOR_PARAMS = {"page", "after", "before"}


def paginate(request, queryset, per_page: int | None = None, count: int | None = None) -> Page:
    """One page of results; a bad or too-large page number gives the nearest real page.
    `count`: the number of rows, when known without counting them."""
    paginator = Paginator(queryset, per_page or settings.PAGE_SIZE)
    if count is not None:
        paginator.count = count  # a cached_property: this value is used instead of a COUNT
    return paginator.get_page(request.GET.get("page"))


def query_without_page(request) -> str:
    """The current filters as a query string, so pagination links keep them."""
    pairs = [
        (name, value)
        for name, values in request.GET.lists()
        if name not in CURSOR_PARAMS
        for value in values
        if value != ""  # empty filters add nothing but noise to a shared link
    ]
    return urlencode(pairs)


@dataclass
class ListPage:
    """One page of a long list: its rows, where it sits, and the links to its neighbours."""

    object_list: list
    number: int
    per_page: int
    count: int  # exact when `more` is false, else COUNT_LIMIT
    more: bool = False  # more than COUNT_LIMIT rows: the total is not counted
    previous_url: str = ""
    next_url: str = ""
    start_index: int = field(init=False)
    end_index: int = field(init=False)

    def __post_init__(self):
        self.start_index = (self.number - 1) * self.per_page + 1 if self.object_list else 0
        self.end_index = self.start_index + len(self.object_list) - 1 if self.object_list else 0

    def has_next(self) -> bool:
        return bool(self.next_url)

    def has_previous(self) -> bool:
        return bool(self.previous_url)

    @property
    def num_pages(self) -> int | None:
        """The number of pages, or None when the list is too long to count."""
        if self.more:
            return None
        return max(1, -(-self.count // self.per_page))

    @property
    def total_text(self) -> str:
        return f"{self.count:,}+" if self.more else f"{self.count:,}"


def _order_fields(queryset) -> list[tuple[str, bool]]:
    """(lookup, descending) for each field the queryset orders by."""
    names = queryset.query.order_by or queryset.model._meta.ordering
    return [(n.lstrip("-"), n.startswith("-")) for n in names if isinstance(n, str)]


def _model_field(model, lookup: str):
    """The model field a lookup such as "incident__started_at" or "pk" ends at."""
    parts = lookup.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    last = parts[-1]
    return model._meta.pk if last == "pk" else model._meta.get_field(last)


def _keyset_fields(queryset) -> list[tuple[str, bool, object]] | None:
    """The ordering as (lookup, descending, model field), or None when a cursor cannot follow
    it: a nullable field (NULLs sort differently per database) or an expression."""
    fields = []
    try:
        for lookup, descending in _order_fields(queryset):
            model_field = _model_field(queryset.model, lookup)
            if model_field.null:
                return None
            fields.append((lookup, descending, model_field))
    except (FieldDoesNotExist, AttributeError):
        return None
    if not fields or fields[-1][0] not in {"pk", "id"}:
        return None  # without a unique last field, rows with equal values could be skipped
    return fields


def _row_values(row, fields) -> list:
    values = []
    for lookup, _, _ in fields:
        value = row
        for part in lookup.split("__"):
            value = getattr(value, part)
        values.append(value)
    return values


def _encode(row, fields) -> str:
    raw = [_plain(value) for value in _row_values(row, fields)]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _decode(token: str, fields) -> list | None:
    """The sort values a cursor holds, or None for a token that is not one of ours."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(raw, list) or len(raw) != len(fields):
            return None
        values = [f.to_python(v) for v, (_, _, f) in zip(raw, fields, strict=True)]
    except (ValueError, TypeError, ValidationError, binascii.Error, UnicodeDecodeError):
        return None
    return None if None in values else values


def _beyond(fields, values, *, forward: bool) -> Q:
    """Rows after (forward) or before the row with these sort values, in the list's order."""
    condition = Q(pk__in=[])
    for i, (lookup, descending, _) in enumerate(fields):
        greater = descending != forward  # ascending and forward: the greater values follow
        step = Q(**{f"{lookup}__{'gt' if greater else 'lt'}": values[i]})
        for j in range(i):
            step &= Q(**{fields[j][0]: values[j]})
        condition |= step
    return condition


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except (TypeError, ValueError):
        return 1


def paginate_list(request, queryset, per_page: int | None = None, *, counted=None) -> ListPage:
    """One page of an ordered queryset, counting at most COUNT_LIMIT rows.

    Queries: the capped count, then the rows (per_page + 1, to know whether a next page
    exists). A page number past the end of a counted list gives its last page. `counted` is
    the same rows filtered or ordered in a way cheaper to count, when the view has one.
    """
    # Unordered unless the view says otherwise: the database may stop at the limit on any
    # index instead of sorting first. A view whose order's index serves the filter passes it.
    counted = queryset.order_by() if counted is None else counted
    per_page = per_page or settings.PAGE_SIZE
    number = _page_number(request)
    query = query_without_page(request)
    fields = _keyset_fields(queryset)
    after, before = request.GET.get("after"), request.GET.get("before")
    cursor = None
    if fields and (after or before) and number > 1:
        values = _decode(after or before, fields)
        if values is not None:
            cursor = (values, bool(after))

    count = counted[: COUNT_LIMIT + 1].count()
    more = count > COUNT_LIMIT
    if not more:
        last = max(1, -(-count // per_page))
        if number > last:
            number, cursor = last, None

    if cursor is None:
        start = (number - 1) * per_page
        rows = list(queryset[start : start + per_page + 1])
        if not rows and number > 1:
            # An old link past the end of a long list: count it this once, show its last page.
            count, more = counted.count(), False
            number = max(1, -(-count // per_page))
            start = (number - 1) * per_page
            rows = list(queryset[start : start + per_page + 1])
        has_next = len(rows) > per_page
        rows = rows[:per_page]
    else:
        values, forward = cursor
        beyond = queryset.filter(_beyond(fields, values, forward=forward))
        if forward:
            rows = list(beyond[: per_page + 1])
            has_next = len(rows) > per_page
            rows = rows[:per_page]
        else:
            rows = list(beyond.reverse()[:per_page])[::-1]
            has_next = True  # it was reached from the page after it
        if not rows:  # a stale cursor (its rows were deleted): start again from the top
            number, has_next = 1, count > per_page
            rows = list(queryset[:per_page])

    page = ListPage(rows, number, per_page, min(count, COUNT_LIMIT), more=more)
    prefix = f"?{query}&" if query else "?"

    def link(n: int, row, direction: str) -> str:
        # Within the counted rows a page number is cheap and stays readable in the address bar.
        if fields is None or (n - 1) * per_page < COUNT_LIMIT:
            return f"{prefix}page={n}"
        return f"{prefix}page={n}&{direction}={_encode(row, fields)}"

    if rows and has_next:
        page.next_url = link(number + 1, rows[-1], "after")
    if rows and number > 1:
        page.previous_url = link(number - 1, rows[0], "before")
    return page
