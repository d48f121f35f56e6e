from django.shortcuts import render
from django.utils import timezone

from .bounds import query_problem
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


class QueryGuardMiddleware:
    """A query string holding control characters (a NUL) is answered 400 with a message, once
    for every filter and parameter, instead of reaching a database lookup that fails."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = query_problem(request.GET)
        if problem:
            return render_bad_request(request, problem)
        return self.get_response(request)


def render_bad_request(request, problem: str, *, status: int = 400, hint: str = ""):
    context = {"problem": problem, "hint": hint}
    return render(request, "bad_request.html", context, status=status)
