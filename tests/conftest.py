import os

import pytest
from django.conf import settings
from django.core.cache import cache

from .browser import BROWSER_USED
from .factories import UserFactory
from .races import DESCRIPTION as RACES


def _backends() -> str:
    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    database = (
        f"PostgreSQL at {db.get('HOST') or 'local socket'}:{db.get('PORT') or 5432}"
        if engine == "postgresql"
        else f"{engine} (embedded)"
    )
    broker = settings.CELERY_BROKER_URL
    broker = (
        "Redis at " + broker.split("@")[-1]
        if broker.startswith("redis")
        else ("embedded filesystem broker")
    )
    return (
        f"Debrief test backends: database = {database}; Celery broker = {broker}; "
        f"concurrency tests = {RACES}"
    )


def _browser_chosen() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    found = "" if os.path.exists(path) else " (missing: browser tests will fail)"
    return f"browser = Chromium at {path}{found}"


def pytest_report_header(config):
    return f"{_backends()}; {_browser_chosen()}"


def pytest_terminal_summary(terminalreporter):
    used = terminalreporter.config.stash.get(BROWSER_USED, None)
    browser = f"browser = {used}" if used else "browser = none launched (no browser test ran)"
    terminalreporter.write_line(f"{_backends()}; {browser}")


@pytest.fixture
def user(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Ng")


@pytest.fixture
def other_user(db):
    return UserFactory(username="bob", first_name="Bob", last_name="Reyes")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    # A fast hasher: PBKDF2's deliberate slowness only slows the suite down.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests never write into the developer's var/mail.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    # What one test cached (rendered options, say) must not leak into the next one's database.
    cache.clear()


@pytest.fixture
def on_postgres():
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop


from .outbox.smtp import smtp_sink  # noqa: E402, F401 - the real SMTP server fixture


@pytest.fixture
def in_every_team(db, user, other_user):
    """alice and bob are members and managers of every team, made before or during the test:
    for tests of editing itself, where the editor's role is not the point (the roles are tested
    in tests/test_permission_matrix.py and tests/incidents/test_roles.py)."""
    from django.db.models.signals import post_save

    from incidents.models import Team

    people = [user, other_user]
    if not Team.objects.exists():
        Team.objects.create(name="Checkout", slug="checkout")
    for team in Team.objects.all():
        team.members.add(*people)
        team.managers.add(*people)

    def join(sender, instance, created, **kwargs):
        if created:
            instance.members.add(*people)
            instance.managers.add(*people)

    post_save.connect(join, sender=Team, dispatch_uid="in_every_team")
    yield
    post_save.disconnect(sender=Team, dispatch_uid="in_every_team")
