"""A list's filter fields, rendered once per distinct filter and kept in the cache.

Fields are written in Python (incidents/form_rendering.py), but the team and service options
behind them are a read each. What the fields render depends only on the filter's data and
those options, so the HTML is cached under both: the data's hash and the options' version
(incidents.widgets.options_version, which changes when a team or service does).
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe

from .form_rendering import field_html
from .widgets import OPTIONS_TIMEOUT, options_version


def filter_fields(filters, *, skip: tuple[str, ...] = ()) -> SafeString:
    """The fields of a FilterSet's form as `{% field %}` writes them, but those in `skip`."""
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
    html = "".join(field_html(field) for field in form if field.name not in skip)
    cache.set(key, (version, html), OPTIONS_TIMEOUT)
    return mark_safe(html)
