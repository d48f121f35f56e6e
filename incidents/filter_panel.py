"""A list's filter fields, rendered once per distinct filter and kept in the cache.

Each field goes through includes/field.html and its widget's templates: about a millisecond a
field, ten to twelve fields a list. What they render depends only on the filter's data and the
team and service options, so the HTML is cached under both: the data's hash and the options'
version (incidents.widgets.options_version, which changes when a team or service does).
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from .widgets import OPTIONS_TIMEOUT, options_version


def filter_fields(filters, *, skip: tuple[str, ...] = ()) -> SafeString:
    """The fields of a FilterSet's form as includes/field.html writes them, but those in `skip`."""
    form = filters.form
    data = form.data
    values = sorted(
        (name, tuple(data.getlist(name)) if hasattr(data, "getlist") else (data.get(name),))
        for name in form.fields
        if name in data
    )
    digest = hashlib.sha256(repr((form.is_bound, values, skip)).encode()).hexdigest()
    key = f"filter-panel:{type(filters).__module__}.{type(filters).__qualname__}:{digest}"
    version = options_version()
    cached = cache.get(key)
    if cached is not None and cached[0] == version:
        return mark_safe(cached[1])
    html = "".join(
        render_to_string("includes/field.html", {"field": field})
        for field in form
        if field.name not in skip
    )
    cache.set(key, (version, html), OPTIONS_TIMEOUT)
    return mark_safe(html)
