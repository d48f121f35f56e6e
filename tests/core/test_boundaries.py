"""What shipped code may import: never the test tools, and the domain never the tooling."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["incidents", "postmortems", "actions", "core", "config"]
DOMAIN = ["incidents", "postmortems", "actions"]


def imported_modules(source: str) -> set[str]:
    """Every module a source imports, at any depth (functions included), as dotted names."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            # `from django import test` imports the module django.test.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def offenders(packages: list[str], forbidden: str) -> list[str]:
    found = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in imported_modules(path.read_text()):
                if name == forbidden or name.startswith(forbidden + "."):
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from django.test import Client",
        "import django.test.utils",
        "from django import test",
        "def f():\n    from django.test.utils import override_settings",
    ],
)
def test_the_check_sees_every_way_of_importing_the_test_tools(source):
    assert any(n == "django.test" or n.startswith("django.test.") for n in imported_modules(source))


def test_the_check_does_not_flag_lookalikes():
    names = imported_modules("from django.testing_aid import x\nimport django.template")
    assert not any(n == "django.test" or n.startswith("django.test.") for n in names)


def test_shipped_code_never_imports_django_test():
    assert offenders(SHIPPED, "django.test") == []


def test_the_domain_apps_never_import_core():
    assert offenders(DOMAIN, "core") == []
