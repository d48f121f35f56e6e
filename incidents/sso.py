"""Single sign-on through OpenID Connect: the backend, the two routes, and the groups mapping.

mozilla-django-oidc runs the authorization-code flow (state, nonce, PKCE). Debrief adds what it
leaves to the site: the ID token must be addressed to this client (and come from OIDC_ISSUER
when set), an account is found by the provider's subject rather than by an email the provider
asserts, and every sign-on applies OIDC_GROUP_ROLES (incidents/group_roles.py) to the account.
"""

from __future__ import annotations

import logging
import re

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .group_roles import ADMIN, MEMBER, TEAM_ROLES, VIEWER, GroupRule
from .models import Profile, SingleSignOnIdentity, Team

logger = logging.getLogger(__name__)
User = get_user_model()
_NOT_IN_USERNAMES = re.compile(r"[^\w.@+-]")


class SingleSignOnBackend(OIDCAuthenticationBackend):
    """Answers OpenID Connect callbacks; with SSO off it answers nothing (and needs no settings)."""

    def __init__(self, *args, **kwargs):
        self.enabled = settings.OIDC_ENABLED
        if self.enabled:
            super().__init__(*args, **kwargs)
        else:
            self.UserModel = User

    def authenticate(self, request, **kwargs):
        if not self.enabled:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        # The library checks the signature, expiry and nonce but not the audience or issuer: a
        # token the same provider issued to another application must not sign anyone in here.
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("the ID token is addressed to another client")
        if settings.OIDC_OP_ISSUER and payload.get("iss") != settings.OIDC_OP_ISSUER:
            raise SuspiciousOperation(f"the ID token comes from {payload.get('iss')!r}")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if not payload.get("iss") or not payload.get("sub"):
            raise SuspiciousOperation("the ID token names no issuer or subject")
        if claims.get("sub") != payload["sub"]:
            raise SuspiciousOperation("the userinfo answer is about someone else")
        # Some providers put the groups in the ID token only; userinfo wins where both say.
        return sign_on(issuer=payload["iss"], claims={**payload, **claims})


@transaction.atomic
def sign_on(*, issuer: str, claims: dict):
    """The account of the person the provider vouched for, created on their first sign-on, with
    name, email and roles brought up to date. No `by=`: the provider is the authority here."""
    identity = (
        SingleSignOnIdentity.objects.select_related("user")
        .filter(issuer=issuer, subject=claims["sub"])
        .first()
    )
    if identity is None:
        user = _account_to_link(issuer, claims) or _new_account(claims)
        identity = SingleSignOnIdentity(user=user, issuer=issuer, subject=claims["sub"])
    user = identity.user
    _copy_name_and_email(user, claims)
    Profile.objects.get_or_create(user=user)
    groups = groups_in(claims)
    if groups is None:
        logger.warning(
            "single sign-on: no %r claim for %s; roles left as they were",
            settings.OIDC_GROUPS_CLAIM,
            user.username,
        )
    else:
        apply_group_roles(user=user, groups=groups)
    identity.last_sign_in_at = timezone.now()
    identity.save()
    return user


def _account_to_link(issuer: str, claims: dict):
    """An existing account with the provider's (not unverified) email, signing on for the first
    time; None when there is none. Two such accounts are refused rather than guessed between."""
    email = (claims.get("email") or "").strip()
    if not email or claims.get("email_verified") is False:
        return None
    matches = list(
        User.objects.filter(email__iexact=email).exclude(sso_identities__issuer=issuer)[:2]
    )
    if len(matches) > 1:
        raise SuspiciousOperation(f"several accounts have the email {email}")
    return matches[0] if matches else None


def _new_account(claims: dict):
    email = (claims.get("email") or "").strip()
    wanted = claims.get("preferred_username") or email.partition("@")[0] or "user"
    base = _NOT_IN_USERNAMES.sub("", str(wanted))[:140] or "user"
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}-{n}"
    return User.objects.create_user(username, email=email)  # no password: SSO only


def _copy_name_and_email(user, claims: dict) -> None:
    fields = {
        "first_name": (claims.get("given_name") or "")[:150],
        "last_name": (claims.get("family_name") or "")[:150],
        "email": (claims.get("email") or "")[:254],
    }
    changed = [name for name, value in fields.items() if value and getattr(user, name) != value]
    for name in changed:
        setattr(user, name, fields[name])
    if changed:
        user.save(update_fields=changed)


def groups_in(claims: dict) -> set[str] | None:
    """The person's groups, or None when the provider sent no groups claim at all (likely a
    missing scope or mapper at the provider: that must not strip everyone's roles)."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    if value is None:
        return None
    if isinstance(value, str):
        return {value}
    return {str(group) for group in value}


def apply_group_roles(*, user, groups: set[str], rules: tuple[GroupRule, ...] | None = None):
    """Grant what the person's groups map to and take away what the mapping governs but no
    group of theirs grants. Roles and teams the mapping never mentions are left alone."""
    rules = settings.OIDC_GROUP_ROLES if rules is None else rules
    granted = {rule.target for rule in rules if rule.group in groups}
    governed = {rule.target for rule in rules}
    if (ADMIN, "") in governed:
        is_admin = (ADMIN, "") in granted
        if (user.is_superuser, user.is_staff) != (is_admin, is_admin):
            user.is_superuser = user.is_staff = is_admin
            user.save(update_fields=["is_superuser", "is_staff"])
    if (VIEWER, "") in governed:
        Profile.objects.filter(user=user).update(read_only=(VIEWER, "") in granted)

    names = {team for role, team in governed if role in TEAM_ROLES}
    teams = {}
    for team in Team.objects.filter(Q(name__in=names) | Q(slug__in=names)):
        teams[team.name] = teams[team.slug] = team
    # Resolve names to teams first, so a team named by its name in one pair and by its slug in
    # another is one target, granted if either pair grants it.
    governed_teams = {(role, teams[name]) for role, name in governed if name in teams}
    granted_teams = {(role, teams[name]) for role, name in granted if name in teams}
    for name in sorted(names - teams.keys()):
        logger.warning("OIDC_GROUP_ROLES names a team %r that does not exist", name)
    for role, team in sorted(governed_teams, key=lambda target: (target[0], target[1].pk)):
        relation = team.members if role == MEMBER else team.managers
        if (role, team) in granted_teams:
            relation.add(user)
        else:
            relation.remove(user)


# --- Routes: /oidc/authenticate/ starts a sign-on, /oidc/callback/ finishes it -------------


class _Finish(OIDCAuthenticationCallbackView):
    def login_failure(self):
        messages.error(
            self.request,
            f"Signing in with {settings.OIDC_PROVIDER_NAME} did not complete. "
            "Try again, or log in with a Debrief password.",
        )
        return redirect("login")

    def get(self, request):
        try:
            return super().get(request)
        except (SuspiciousOperation, jwt.PyJWTError, requests.RequestException) as err:
            # A forged or replayed callback, a bad token, or the provider unreachable.
            logger.warning("single sign-on refused: %s", err)
            return self.login_failure()


@login_not_required
@require_GET
def start_sign_on(request):
    if not settings.OIDC_ENABLED:
        raise Http404("Single sign-on is not configured.")
    return OIDCAuthenticationRequestView.as_view()(request)


@login_not_required
@require_GET
def finish_sign_on(request):
    if not settings.OIDC_ENABLED:
        raise Http404("Single sign-on is not configured.")
    return _Finish.as_view()(request)
