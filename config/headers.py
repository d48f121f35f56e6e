"""Response headers Django's own middleware does not set."""

from django.utils.cache import patch_vary_headers

# Debrief uses no camera, microphone, location, payment or sensors: a page that is ever
# injected with markup still cannot ask for them. Cross-origin pages may not embed its files.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)


class HtmxVaryMiddleware:
    """Pages answer an htmx request with a fragment and a plain one with the whole page, at the
    same URL (filters push their URL). Without `Vary: HX-Request` the browser's cache hands the
    fragment back for Back and Forward, and the person sees a bare, unstyled piece of page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method in ("GET", "HEAD"):
            patch_vary_headers(response, ["HX-Request"])
        return response


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
