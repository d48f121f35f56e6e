"""Debrief settings: everything comes from the environment, with local-friendly defaults.

`make run` needs no configuration (SQLite, a filesystem Celery broker, emails written to
files under var/). Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from incidents.group_roles import parse_group_roles

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DEBRIEF_VAR_DIR") or BASE_DIR / "var")

DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production-8f2c1e7a9b4d6"


def env_flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name, "true" if default else "false").strip().lower()
    if raw not in {"true", "false"}:
        raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")
    return raw == "true"


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as err:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from err


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_approvals(name: str) -> dict[int, int]:
    """Approvals needed to publish, by severity: "SEV1=2,SEV2=2,SEV3=1" → {1: 2, 2: 2, 3: 1}.

    Severities left out keep the default: two for SEV1 and SEV2, one for SEV3 and lower.
    """
    needed = {1: 2, 2: 2, 3: 1}
    for part in env_list(name):
        severity, _, count = part.upper().partition("=")
        number = severity.strip().removeprefix("SEV")
        if not (number.isdigit() and count.strip().isdigit()):
            raise ImproperlyConfigured(f"{name} must look like SEV1=2,SEV2=2,SEV3=1, not {part!r}")
        needed[int(number)] = int(count)
    return needed


def _missing(name: str) -> str:
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")


DEBUG = env_flag("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY") or (DEV_SECRET_KEY if DEBUG else _missing("SECRET_KEY"))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Absolute links in emails and calendar feeds.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "template_partials",
    "auditlog",
    "axes",
    "outbox",
    "audit",
    "incidents",
    "postmortems",
    "actions",
    "core",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Names the signed-in person on changes made outside a service (the Django admin); services
    # name their `by` themselves (audit.trail.acting), which also holds in tasks and commands.
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.headers.PermissionsPolicyMiddleware",
    "config.headers.HtmxVaryMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "incidents.middleware.ViewerTimezoneMiddleware",
    "incidents.middleware.QueryGuardMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
            "builtins": [
                "template_partials.templatetags.partials",
                "core.templatetags.debrief",
            ],
        },
    },
]
# Django's widget templates, with the text-like inputs and the textarea written in Python.
FORM_RENDERER = "incidents.form_rendering.WidgetRenderer"

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'debrief.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the Celery worker share the file without "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password is checked.
    "incidents.signin.ThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Answers only OpenID Connect callbacks, and only when OIDC_CLIENT_ID is set.
    "incidents.sso.SingleSignOnBackend",
]

# Sign-in throttling (django-axes, counted in the database): LOGIN_FAILURE_LIMIT failures for
# one account, or from one address, lock that account or address for LOGIN_LOCKOUT_MINUTES
# after the last failure. A successful sign-in clears the account's failures. Admins unlock
# in the admin (Axes > Access attempts) or with `manage.py axes_reset_username NAME`.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks, independently
AXES_RESET_ON_SUCCESS = True  # only the account's own failures (ThrottleHandler says why)
AXES_HANDLER = "incidents.signin.ThrottleHandler"
AXES_LOCKOUT_CALLABLE = "incidents.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "incidents.signin.client_address"
# A failure while locked is not counted, so the time the page promises stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
# How many reverse proxies in front of Debrief append to X-Forwarded-For. 0 (the default):
# the header is ignored, since anyone can send it, and the connection's address counts.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Single sign-on through OpenID Connect (mozilla-django-oidc), on when OIDC_CLIENT_ID is set.
OIDC_ENABLED = bool(os.environ.get("OIDC_CLIENT_ID"))
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME") or "single sign-on"
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_JWKS_ENDPOINT", "")
# When set, an ID token from any other issuer is refused.
OIDC_OP_ISSUER = os.environ.get("OIDC_ISSUER", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGO") or "RS256"
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES") or "openid email profile"
OIDC_USE_PKCE = env_flag("OIDC_USE_PKCE", default=True)
OIDC_TIMEOUT = 10
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM") or "groups"
try:
    OIDC_GROUP_ROLES = parse_group_roles(os.environ.get("OIDC_GROUP_ROLES", ""))
except ValueError as err:
    raise ImproperlyConfigured(f"OIDC_GROUP_ROLES: {err}") from err
if OIDC_ENABLED:
    _needed = {
        "OIDC_CLIENT_SECRET": OIDC_RP_CLIENT_SECRET,
        "OIDC_AUTHORIZATION_ENDPOINT": OIDC_OP_AUTHORIZATION_ENDPOINT,
        "OIDC_TOKEN_ENDPOINT": OIDC_OP_TOKEN_ENDPOINT,
        "OIDC_USERINFO_ENDPOINT": OIDC_OP_USER_ENDPOINT,
    }
    if not OIDC_RP_SIGN_ALGO.startswith("HS"):  # HS* tokens are checked with the secret
        _needed["OIDC_JWKS_ENDPOINT"] = OIDC_OP_JWKS_ENDPOINT
    _unset = [name for name, value in _needed.items() if not value]
    if _unset:
        raise ImproperlyConfigured(
            f"OIDC_CLIENT_ID is set, so single sign-on also needs {', '.join(_unset)}"
        )

# --- Time and language: stored in UTC, shown in the viewer's timezone ----------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Tests and `make run` serve straight from static/ without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG

# --- Email --------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Debrief <debrief@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_flag("EMAIL_USE_TLS")
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "filesystem://"  # embedded default: no service needed
if not REDIS_URL:
    _broker_dir = VAR_DIR / "celery" / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        # kombu's default is ./control, which litters whatever directory the worker starts in.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
# One cache for every web and worker process (Redis when there is one), so anything put in
# Django's cache is shared and invalidated everywhere at once; one process's memory otherwise.
# Tests and the embedded defaults use memory.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "debrief",
            "TIMEOUT": 3600,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "TIMEOUT": 3600}
    )
}
CELERY_RESULT_BACKEND = REDIS_URL or f"file://{VAR_DIR / 'celery' / 'results'}"
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"  # beat's schedule is in UTC so DST never doubles or skips a tick
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves it for another worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_flag("CELERY_TASK_ALWAYS_EAGER")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "incidents.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    # Hourly: each owner is reminded once their local reminder hour has passed (ledger: once a day).
    "action-item-reminders": {
        "task": "actions.tasks.send_reminders",
        "schedule": crontab(minute=5),
    },
    # Every minute: emails whose next try is due (retries with backoff, lost tasks); also the
    # heartbeat /healthz reads to tell whether beat is alive.
    "outbox-send-due": {
        "task": "outbox.tasks.send_due",
        "schedule": crontab(),
    },
    # Daily: last month's digests if not sent yet, so a missed first-of-month tick is harmless.
    "monthly-review-digests": {
        "task": "actions.tasks.send_digests",
        "schedule": crontab(hour=6, minute=20),
    },
}

# --- Security: strict unless DEBUG --------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Every script and stylesheet is a file of our own: no inline script, style element or style
# attribute, no eval (htmx's is switched off in base.html), so injected markup cannot run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_flag("BEHIND_TLS_PROXY"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain").strip().lower() or "plain"
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # axes logs every sign-in at INFO; failures and lockouts are WARNING and stay.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
# With JSON logs the worker keeps this configuration instead of installing Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"

# --- Audit trail (django-auditlog, entries in audit.Entry) ---------------------------------
AUDITLOG_LOGENTRY_MODEL = "audit.Entry"
# A changed owner or commander reads as the person's name, as it was then, not a bare id.
AUDITLOG_USE_FK_STRING_REPRESENTATION = True
# Fixtures and migrations loading rows are not anyone's change.
AUDITLOG_DISABLE_ON_RAW_SAVE = True
# X-Forwarded-For is whatever the client sends unless a proxy rewrites it: not evidence.
AUDITLOG_DISABLE_REMOTE_ADDR = True

# --- Debrief ------------------------------------------------------------------------------
PAGE_SIZE = 50
# Action item reminders: items due within this many days are listed with the overdue ones.
DEBRIEF_REMINDER_DUE_SOON_DAYS = env_int("DEBRIEF_REMINDER_DUE_SOON_DAYS", 3)
# Items overdue longer than this go into the weekly note to their team's managers.
DEBRIEF_MANAGER_OVERDUE_DAYS = env_int("DEBRIEF_MANAGER_OVERDUE_DAYS", 14)
# Tries per email (of any kind) before the ledger gives up and marks it failed (10 tries with
# the default backoff span about 14 hours: an outage overnight loses nothing).
DEBRIEF_EMAIL_MAX_ATTEMPTS = env_int("DEBRIEF_EMAIL_MAX_ATTEMPTS", 10)
# A failed email is tried again after this many seconds, doubling each time up to the cap
# (2 min, 4, 8 … up to 6 h), until DEBRIEF_EMAIL_MAX_ATTEMPTS tries have been made.
DEBRIEF_EMAIL_RETRY_SECONDS = env_int("DEBRIEF_EMAIL_RETRY_SECONDS", 120)
DEBRIEF_EMAIL_RETRY_MAX_SECONDS = env_int("DEBRIEF_EMAIL_RETRY_MAX_SECONDS", 6 * 3600)
# /healthz and the admin pages warn once beat's last tick is older than this.
DEBRIEF_BEAT_STALE_MINUTES = env_int("DEBRIEF_BEAT_STALE_MINUTES", 120)
# Webhooks reach public addresses only; these hosts or networks (CIDR) are let through for
# on-premise trackers, e.g. "jira.corp.example,10.20.0.0/16".
DEBRIEF_WEBHOOK_ALLOWED_HOSTS = env_list("DEBRIEF_WEBHOOK_ALLOWED_HOSTS")
# Reviewers' approvals (of the current text) a postmortem needs before it is published.
DEBRIEF_REQUIRED_APPROVALS = env_approvals("DEBRIEF_REQUIRED_APPROVALS")
# Largest postmortem section, in bytes of UTF-8: bigger text is refused with a message (and the
# typed text kept), so one pasted log cannot make the document slow for every reader.
DEBRIEF_SECTION_MAX_BYTES = env_int("DEBRIEF_SECTION_MAX_BYTES", 200_000)
# Who reads public incidents: "organisation" (every signed-in person) or "team" (the owning
# team, the commander, the postmortem's authors and reviewers, the incident's members; admins
# read everything). Private incidents are read by their members and the team's managers.
DEBRIEF_READ_ACCESS = os.environ.get("DEBRIEF_READ_ACCESS", "organisation").strip().lower()
if DEBRIEF_READ_ACCESS not in {"organisation", "team"}:
    raise ImproperlyConfigured("DEBRIEF_READ_ACCESS must be organisation or team")
