"""No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked by reading."""

import json
import re
from urllib.parse import urlsplit

import pytest
import yaml

from .support import BASE_DIR, load_settings, settings_env_names

COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("web", "worker", "beat")
DOCKERFILE = (BASE_DIR / "Dockerfile").read_text()


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} against `env`."""

    def substitute(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg or ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", substitute, value)


def container_env(service: str, **dotenv: str) -> dict[str, str]:
    environment = SERVICES[service]["environment"]
    return {name: interpolate(str(value), dotenv) for name, value in environment.items()}


def dockerfile_instruction(name: str) -> str:
    (line,) = re.findall(rf"^{name} (.+)$", DOCKERFILE, flags=re.MULTILINE)
    return line


def published_ports(service: str) -> dict[int, int]:
    """Container port -> host port."""
    pairs = (str(port).rsplit(":", 2)[-2:] for port in SERVICES[service].get("ports", []))
    return {int(container): int(host) for host, container in pairs}


def test_the_six_services_exist():
    assert {"postgres", "redis", "web", "worker", "beat", "mailpit"} <= set(SERVICES)
    assert SERVICES["postgres"]["image"] == "postgres:16"
    assert SERVICES["redis"]["image"] == "redis:7"
    assert SERVICES["mailpit"]["image"].startswith("axllent/mailpit")


def test_web_worker_and_beat_run_one_build_with_one_configuration():
    builds = {json.dumps(SERVICES[name]["build"]) for name in APP_SERVICES}
    assert len(builds) == 1 and SERVICES["web"]["build"] == "."
    assert len({json.dumps(SERVICES[name]["environment"]) for name in APP_SERVICES}) == 1


def test_the_app_environment_uses_only_names_settings_reads():
    names = set(SERVICES["web"]["environment"])
    assert names <= settings_env_names(), names - settings_env_names()
    required = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}
    required |= {"CSRF_TRUSTED_ORIGINS", "SITE_URL", "EMAIL_HOST", "EMAIL_PORT"}
    required |= {"SECURE_SSL_REDIRECT"}
    assert required <= names


def test_the_secret_key_must_come_from_the_user():
    assert SERVICES["web"]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
    with pytest.raises(KeyError, match="SECRET_KEY"):
        container_env("web")


def test_the_compose_environment_gives_production_settings_on_the_compose_services():
    conf = load_settings(container_env("web", SECRET_KEY="k" * 50))
    assert conf.DEBUG is False
    database = conf.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["HOST"] == "postgres" and database["PORT"] == 5432
    assert urlsplit(conf.CELERY_BROKER_URL).hostname == "redis"
    assert conf.CELERY_RESULT_BACKEND == conf.CELERY_BROKER_URL
    assert conf.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    assert (conf.EMAIL_HOST, conf.EMAIL_PORT) == ("mailpit", 1025)
    # TLS ends at the user's proxy, which redirects; a second redirect here would loop.
    assert conf.SECURE_SSL_REDIRECT is False
    assert conf.SESSION_COOKIE_SECURE and conf.CSRF_COOKIE_SECURE


def test_behind_tls_proxy_makes_django_trust_the_forwarded_scheme():
    env = container_env("web", SECRET_KEY="k" * 50, BEHIND_TLS_PROXY="true")
    conf = load_settings(env)
    assert conf.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")


def test_exactly_one_beat_and_no_worker_runs_beat_too():
    commands = {name: service.get("command") or [] for name, service in SERVICES.items()}
    assert [name for name, argv in commands.items() if "beat" in argv] == ["beat"]
    assert not any({"-B", "--beat"} & set(argv) for argv in commands.values())


def test_commands_name_the_celery_app_and_the_wsgi_module():
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert SERVICES["web"]["command"][:2] == ["gunicorn", "config.wsgi"]
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_services_wait_for_healthy_dependencies_and_migrations():
    for name in (*APP_SERVICES, "migrate"):
        depends_on = SERVICES[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"
    for name in APP_SERVICES:
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert SERVICES["migrate"]["restart"] == "no"  # a one-shot job, not a daemon


def test_healthchecks_probe_postgres_redis_and_the_web_healthz():
    assert "pg_isready" in SERVICES["postgres"]["healthcheck"]["test"]
    assert SERVICES["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    probe = " ".join(SERVICES["web"]["healthcheck"]["test"])
    url = urlsplit(re.search(r"http://[^'\" ]+", probe).group())
    assert url.path == "/healthz"
    assert url.port == int(dockerfile_instruction("EXPOSE"))
    # The probe's Host header must be allowed, or /healthz answers 400 and web never gets healthy.
    conf = load_settings(container_env("web", SECRET_KEY="k" * 50, ALLOWED_HOSTS="debrief.io"))
    assert url.hostname in conf.ALLOWED_HOSTS and "debrief.io" in conf.ALLOWED_HOSTS


def test_the_dockerfile_and_compose_agree_on_the_web_server_and_its_port():
    port = int(dockerfile_instruction("EXPOSE"))
    assert port == 8000
    assert json.loads(dockerfile_instruction("CMD")) == SERVICES["web"]["command"]
    assert f"0.0.0.0:{port}" in SERVICES["web"]["command"]
    assert published_ports("web") == {port: 8000}
    assert published_ports("mailpit") == {8025: 8025}
    assert SERVICES["web"]["environment"]["EMAIL_PORT"] == "1025"  # mailpit's SMTP port


def test_the_image_is_slim_runs_unprivileged_and_builds_its_static_files():
    assert dockerfile_instruction("FROM") == "python:3.11-slim"
    assert dockerfile_instruction("USER") not in {"root", "0"}
    assert "pip install --require-hashes -r requirements.lock" in DOCKERFILE
    (collectstatic,) = [line for line in DOCKERFILE.splitlines() if "collectstatic" in line]
    assert collectstatic.startswith("RUN ") and "SECRET_KEY=" in collectstatic
    # The build's throwaway key lives only in that RUN step, never in the image's environment.
    assert not re.search(r"^(ENV|ARG)\b.*SECRET_KEY", DOCKERFILE, flags=re.MULTILINE)


def test_secrets_and_local_state_stay_out_of_the_image():
    ignored = set((BASE_DIR / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", "var"} <= ignored


def _env_example() -> dict[str, str]:
    """Variable name -> the comment line just above it, from .env.example."""
    lines = (BASE_DIR / ".env.example").read_text().splitlines()
    found = {}
    for before, line in zip(["", *lines], lines, strict=False):
        if match := re.match(r"^([A-Z][A-Z0-9_]*)=", line):
            found[match.group(1)] = before
    return found


def test_env_example_lists_exactly_the_variables_settings_reads():
    listed, read = set(_env_example()), settings_env_names()
    assert listed - read == set(), "listed in .env.example but never read by settings"
    assert read - listed == set(), "read by settings but missing from .env.example"


def test_every_env_example_variable_is_explained():
    for name, comment in _env_example().items():
        assert comment.startswith("# "), f"{name} needs a comment line above it"


def _pins(lock: str) -> dict[str, str]:
    """Package name -> pinned version, from a compiled lock."""
    text = (BASE_DIR / lock).read_text()
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s;]+)", text, flags=re.MULTILINE))


def test_the_image_installs_only_the_production_lock():
    instructions = [line for line in DOCKERFILE.splitlines() if not line.startswith("#")]
    installs = [line for line in instructions if "pip install" in line]
    assert installs == ["RUN pip install --require-hashes -r requirements.lock"]
    assert not [line for line in instructions if "requirements-dev" in line]
    # `COPY . .` brings the rest: the development lock is kept out of that too.
    assert "requirements-dev.lock" in (BASE_DIR / ".dockerignore").read_text().split()


def test_the_production_lock_holds_no_test_or_lint_tool():
    prod = _pins("requirements.lock")
    assert {"django", "celery", "gunicorn", "psycopg"} <= set(prod)
    tools = {"pytest", "pytest-django", "pytest-timeout", "playwright", "ruff", "factory-boy"}
    tools |= {"faker", "time-machine", "pyyaml", "pre-commit"}
    assert tools & set(prod) == set()
    # The development lock is the production one plus the tools, at the same versions.
    dev = _pins("requirements-dev.lock")
    assert tools <= set(dev)
    assert {name: dev.get(name) for name in prod} == prod


def test_every_pin_of_both_locks_carries_hashes():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (BASE_DIR / lock).read_text()
        blocks = re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2])
        pinned = [block for block in blocks if "==" in block.split("\n", 1)[0]]
        assert pinned and all("--hash=sha256:" in block for block in pinned), lock
