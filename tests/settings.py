"""The suite's settings: the shipped ones, plus the OpenID Connect provider that the single
sign-on tests start (django-oauth-toolkit, a dev dependency; its tables exist only in test
databases and its URLs only in tests/signin/provider.py)."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "oauth2_provider"]
