"""Plain-text renderings of incident figures, shared by pages, charts and exports.

Templates reach these through the `debrief` tag library (core/templatetags/debrief.py).
"""

from datetime import timedelta


def duration(value: timedelta | None) -> str:
    """2 h 14 m style, the way responders say it."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return "<1 m"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours:
        parts.append(f"{hours} h")
    if mins and not days:
        parts.append(f"{mins} m")
    return " ".join(parts)
