"""The 500 handler: a database outage raised outside a view (sessions, sign-in) also gets the
503 retry page rather than a 500."""

import sys

from django.views.defaults import server_error as django_server_error

from .middleware import database_unavailable, is_database_outage


def server_error(request, *args, **kwargs):
    if is_database_outage(sys.exc_info()[1]):
        return database_unavailable()
    return django_server_error(request, *args, **kwargs)
