"""Stand-in pages for the benchmark's Visitor tests."""

import json

from django.http import HttpResponse, JsonResponse
from django.urls import path


def boom(request):
    raise RuntimeError("the view broke")


def remember(request):
    response = HttpResponse("ok")
    response.set_cookie("seen", "yes")
    return response


def echo(request):
    return JsonResponse(
        {
            "user": request.user.username,
            "cookies": sorted(request.COOKIES),
            "htmx": request.headers.get("HX-Request"),
            "query": request.GET.get("q"),
            "secure": request.is_secure(),
        },
        json_dumps_params={"default": json.JSONEncoder().default},
    )


urlpatterns = [
    path("boom/", boom),
    path("remember/", remember),
    path("echo/", echo),
]
