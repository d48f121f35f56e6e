"""The suite's settings: the shipped ones, plus the OpenID Connect provider that the single
sign-on tests start (django-oauth-toolkit, a dev dependency; its tables exist only in test
databases and its URLs only in tests/signin/provider.py)."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "oauth2_provider"]

# Each test starts with an empty cache (tests/conftest.py clears it); in memory even when
# REDIS_URL is set, so clearing it never touches the broker's keys.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
