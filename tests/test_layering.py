"""The apps import one way and no module imports itself round a circle.

Layers, lowest first: outbox (sending email exactly once) ← audit (the audit trail) ← incidents
← postmortems ← actions ← config ← core (demo data, benchmark, process supervision). A module
may import its own app and apps below it. Imports inside functions count too: a circle hidden
in a function is still a circle. Checked on the source with `ast`, so nothing is imported to
find out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["outbox", "audit", "incidents", "postmortems", "actions", "config", "core"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {}
    for app in LAYERS:
        for path in (ROOT / app).rglob("*.py") if (ROOT / app).is_dir() else []:
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


SOURCES = _sources()


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """Every project module this one imports, with the line, wherever the import sits."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from pkg import name` imports the submodule pkg.name when there is one.
            targets = [
                f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in SOURCES else stem
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in LAYERS:
                found.append((target, node.lineno))
    return found


GRAPH = {module: _imports(module, path) for module, path in SOURCES.items()}


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_the_sources_were_found():
    assert {"incidents.models", "postmortems.models", "actions.models"} <= set(SOURCES)
    assert sum(len(edges) for edges in GRAPH.values()) > 100


def test_no_app_imports_an_app_above_it():
    upward = [
        f"{SOURCES[module].relative_to(ROOT)}:{line} imports {target}"
        for module, edges in GRAPH.items()
        for target, line in edges
        if _layer(target) > _layer(module)
    ]
    assert upward == [], "imports against the layering:\n" + "\n".join(upward)


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def _edges_without_packages() -> dict[str, set[str]]:
    # A package's __init__ re-exporting its submodules is not a circle with them.
    return {
        module: {t for t, _ in edges if t != module and not module.startswith(t + ".")}
        for module, edges in GRAPH.items()
    }


def test_no_module_imports_itself_round_a_circle():
    assert _circles(_edges_without_packages()) == []


@pytest.mark.parametrize(
    "graph, expected",
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
    ],
)
def test_the_circle_finder_finds_circles(graph, expected):
    assert _circles(graph) == expected


def test_the_base_app_names_the_published_status_as_postmortems_do():
    from incidents.models import POSTMORTEM_PUBLISHED
    from postmortems.models import Postmortem

    assert POSTMORTEM_PUBLISHED == Postmortem.Status.PUBLISHED


def _imported_names(node) -> list[str]:
    """Dotted names an import statement can bring in (`from django import test` included)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and not node.level:
        return [node.module or "", *(f"{node.module}.{alias.name}" for alias in node.names)]
    return []


def _is_test_tooling(name: str) -> bool:
    return name == "django.test" or name.startswith("django.test.")


def _names_in(source: str) -> list[str]:
    return [n for node in ast.walk(ast.parse(source)) for n in _imported_names(node)]


@pytest.mark.parametrize(
    "source, caught",
    [
        ("from django.test import Client", True),
        ("import django.test.utils", True),
        ("from django import test", True),
        ("def f():\n    from django.test.utils import override_settings", True),
        ("from django.testing_aid import x\nimport django.template", False),
    ],
)
def test_the_test_client_check_sees_every_way_of_importing_it(source, caught):
    assert any(_is_test_tooling(n) for n in _names_in(source)) is caught


def test_shipped_code_never_imports_the_test_client():
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in SOURCES.values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if any(_is_test_tooling(n) for n in _imported_names(node))
    ]
    assert offenders == []


def test_only_views_and_the_outbox_queue_import_a_tasks_module():
    """Tasks import the domain; the domain enqueues through outbox.queue or by task name, so
    a service and its task never import each other."""

    def may_import_tasks(module: str) -> bool:
        last = module.rpartition(".")[2]
        return module == "outbox.queue" or last == "views" or last.endswith("_views")

    importers = [
        f"{module} imports {target}"
        for module, edges in GRAPH.items()
        for target, _ in edges
        if target.endswith(".tasks") and target != module and not may_import_tasks(module)
    ]
    assert importers == []


def test_the_base_app_names_the_postmortem_sections_as_postmortems_do():
    from incidents.models import POSTMORTEM_SECTION_FIELDS
    from postmortems.models import Postmortem

    assert list(POSTMORTEM_SECTION_FIELDS) == Postmortem.SECTION_FIELDS
