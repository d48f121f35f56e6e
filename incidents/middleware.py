from django.utils import timezone

from .zones import zone_of


class ViewerTimezoneMiddleware:
    """Show times in the viewer's own timezone; everything is stored in UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.activate(zone_of(getattr(request, "user", None)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
