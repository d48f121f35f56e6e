"""Column sorting for the lists: `?sort=<column>` ascending, `?sort=-<column>` descending.

Each column names the fields it orders by, ending in a unique tie-breaker so pages never
overlap. Descending reverses every field, so one index (or its backward scan) serves both
directions; each ordering has an index (see the models' Meta.indexes).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    fields: tuple[str, ...]  # the ascending order
    descending_first: bool = False  # dates and counts: newest or largest first on a first click
    num: bool = False


def _reverse(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


class Sorting:
    """The sort in force, read from the query string; an unknown value means the default."""

    def __init__(self, request, columns: list[Column], default: str):
        get = request.GET
        self.path = request.path
        self.columns = {c.key: c for c in columns}
        self.default = default
        raw = (get.get("sort") or "").strip()
        if raw.lstrip("-") not in self.columns:
            raw = default
        self.key = raw.lstrip("-")
        self.descending = raw.startswith("-")
        self.params = [(k, v) for k, v in get.lists() if k not in {"sort", "page"}]

    @property
    def value(self) -> str:
        """The `sort` parameter to carry along, or "" for the default (kept out of URLs)."""
        current = f"-{self.key}" if self.descending else self.key
        return "" if current == self.default else current

    def order(self, queryset):
        fields = self.columns[self.key].fields
        if self.descending:
            fields = tuple(_reverse(f) for f in fields)
        return queryset.order_by(*fields)

    def _href(self, sort: str) -> str:
        pairs = [(k, v) for k, values in self.params for v in values if v != ""]
        if sort != self.default:
            pairs.append(("sort", sort))
        return f"{self.path}?{urlencode(pairs)}" if pairs else self.path

    def headers(self) -> dict[str, dict]:
        """Per column: its label, the link that sorts by it (flipping the current one), and
        its aria-sort value ("" when the list is not sorted by it)."""
        heads = {}
        for key, column in self.columns.items():
            if key == self.key:
                aria = "descending" if self.descending else "ascending"
                following = key if self.descending else f"-{key}"
            else:
                aria = ""
                following = f"-{key}" if column.descending_first else key
            heads[key] = {
                "key": key,
                "label": column.label,
                "href": self._href(following),
                "aria_sort": aria,
                "num": column.num,
            }
        return heads
