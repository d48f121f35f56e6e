import secrets
import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured

from .support import BASE_DIR, PYTHON, child_env, load_settings

VAR = BASE_DIR / "var"


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=BASE_DIR,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_checks_without_warnings():
    done = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="debrief.example.com",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_refuses_to_start_without_a_secret_key():
    done = _manage("check", DEBUG="false", ALLOWED_HOSTS="debrief.example.com")
    assert done.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off" in done.stderr


def test_debug_must_be_true_or_false():
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be true or false, not 'maybe'"):
        load_settings({"DEBUG": "maybe"})


def test_the_default_database_is_a_sqlite_file_under_var():
    conf = load_settings({"DEBUG": "true"})
    assert conf.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert conf.DATABASES["default"]["NAME"] == str(VAR / "debrief.sqlite3")


def test_database_url_selects_postgresql():
    conf = load_settings({"DEBUG": "true", "DATABASE_URL": "postgres://u:p@db:5432/debrief"})
    assert conf.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert conf.DATABASES["default"]["HOST"] == "db"


def test_without_redis_the_broker_is_the_filesystem_transport_under_var():
    conf = load_settings({"DEBUG": "true"})
    assert conf.CELERY_BROKER_URL == "filesystem://"
    folders = conf.CELERY_BROKER_TRANSPORT_OPTIONS.values()
    assert all(str(f).startswith(str(VAR / "celery")) for f in folders if isinstance(f, str))
    results = VAR / "celery" / "results"
    assert conf.CELERY_RESULT_BACKEND.split("://") == ["file", str(results)]


def test_redis_url_is_both_broker_and_result_backend():
    conf = load_settings({"DEBUG": "true", "REDIS_URL": "redis://redis:6379/0"})
    assert conf.CELERY_BROKER_URL == conf.CELERY_RESULT_BACKEND == "redis://redis:6379/0"
    assert not hasattr(conf, "CELERY_BROKER_TRANSPORT_OPTIONS")


def test_every_process_shares_redis_as_its_cache_when_there_is_one():
    conf = load_settings({"DEBUG": "true", "REDIS_URL": "redis://redis:6379/0"})
    cache = conf.CACHES["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://redis:6379/0"
    embedded = load_settings({"DEBUG": "true"}).CACHES["default"]
    assert embedded["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_emails_are_written_to_files_under_var_mail_by_default():
    conf = load_settings({"DEBUG": "true"})
    assert conf.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend"
    assert conf.EMAIL_FILE_PATH == VAR / "mail"


def test_email_host_switches_to_smtp():
    conf = load_settings({"DEBUG": "true", "EMAIL_HOST": "mailpit", "EMAIL_PORT": "1025"})
    assert conf.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    assert (conf.EMAIL_HOST, conf.EMAIL_PORT) == ("mailpit", 1025)
