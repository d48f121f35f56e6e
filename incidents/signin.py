"""Signing in with a password: the login page and the throttle on failed attempts.

django-axes counts failures in the database, per account and per address independently
(settings: LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES, TRUSTED_PROXY_COUNT). This module holds
the few places where Debrief differs from its defaults, each for a reason given below.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime

from axes.backends import AxesBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.shortcuts import render
from django.utils import timezone


def single_sign_on_name() -> str:
    """The provider the login page offers ("Sign in with …"), or "" when SSO is off."""
    return settings.OIDC_PROVIDER_NAME if settings.OIDC_ENABLED else ""


class SignInView(LoginView):
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(single_sign_on=single_sign_on_name(), **kwargs)


class ThrottleBackend(AxesBackend):
    """Refuses a locked account or address before any other backend checks a password.

    It authenticates no one itself (ModelBackend, next in the list, checks the password), but
    it can load a signed-in user, as code that signs people in with the first backend expects.

    Without a request (`authenticate()` called from code, or the test client's login) there is
    no address to count against; axes would raise, which breaks such callers for nothing, since
    no one reaches that path over HTTP.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class ThrottleHandler(AxesDatabaseHandler):
    """axes' database handler, except that a success clears only the signed-in account's
    failures. Axes clears every failure from the address too, so anyone with one account could
    guess at others without limit by signing into their own between guesses."""

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def client_address(request) -> str | None:
    """The address failures are counted against.

    X-Forwarded-For is trusted only as far as TRUSTED_PROXY_COUNT proxies say: each proxy
    appends the address it was reached from, so with N proxies the client is the N-th entry from
    the right, and anything to its left was written by the client and may be made up.
    """
    remote = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-hops]))
    except ValueError:
        return remote


def lockout_ends(request, credentials: dict | None) -> datetime | None:
    """When the lock on this account or address lifts: the failure that reached the limit,
    counting back from the latest, plus the cool-off."""
    cool_off = get_cool_off(request)
    limit = settings.AXES_FAILURE_LIMIT
    since = timezone.now() - cool_off
    username = get_client_username(request, credentials)
    scopes = [{"ip_address": getattr(request, "axes_ip_address", None) or client_address(request)}]
    if username:
        scopes.append({"username": username})
    ends = []
    for scope in scopes:
        rows = (
            AccessAttempt.objects.filter(**scope, attempt_time__gte=since)
            .order_by("-attempt_time")
            .values_list("attempt_time", "failures_since_start")
        )
        total = 0
        for attempt_time, failures in rows:
            total += failures
            if total >= limit:
                ends.append(attempt_time + cool_off)
                break
    return max(ends, default=None)


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, with the username kept and when to try again (HTTP 429)."""
    ends = lockout_ends(request, credentials) or timezone.now() + get_cool_off(request)
    minutes = max(1, math.ceil((ends - timezone.now()).total_seconds() / 60))
    username = get_client_username(request, credentials) or ""
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "single_sign_on": single_sign_on_name(),
        "lockout": {"ends": ends, "minutes": minutes},
    }
    return render(request, "registration/login.html", context, status=429)
