from django import template

from .. import heartbeat

register = template.Library()


@register.simple_tag
def beat_warning() -> str:
    """The admin banner's sentence when beat has stopped ticking, or ""."""
    return heartbeat.beat_warning()
