"""Request ids for the logs, and a 503 "try again" page instead of a 500 while the database
is unreachable (a PostgreSQL restart, a failover)."""

from __future__ import annotations

import re
import uuid

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from . import logs

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

RETRY_AFTER_SECONDS = 5
# Plain HTML without templates or context processors: those may need the database that is down.
UNAVAILABLE_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{RETRY_AFTER_SECONDS}">
<title>Debrief is briefly unavailable</title></head>
<body><main><h1>Debrief is briefly unavailable</h1>
<p>The database did not answer, usually for a few seconds during a restart. Nothing you sent
was half-saved: this page tries again by itself in {RETRY_AFTER_SECONDS} seconds.</p>
<p><a href="">Try again now</a></p></main></body></html>
"""


def database_unavailable() -> HttpResponse:
    response = HttpResponse(UNAVAILABLE_PAGE, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def is_database_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


class RequestIdMiddleware:
    """Give each request an id (a proxy's sane X-Request-ID, or a new one) for every log line
    it causes, and answer a database outage in a view with a 503 retry page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get("X-Request-ID", "")
        rid = offered if _SAFE_ID.match(offered) else uuid.uuid4().hex
        request.request_id = rid
        token = logs.request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            logs.request_id.reset(token)
        response["X-Request-ID"] = rid
        return response

    def process_exception(self, request, exception):
        if is_database_outage(exception):
            return database_unavailable()
        return None
