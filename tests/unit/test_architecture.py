"""The architecture as tests: dependencies point one way, queries only read, and no module imports its caller.

docs/architecture.md draws the layers: web and cli -> reports -> ledger ->
domain (demo and bench sit beside the interfaces). These tests read every
module's imports (the ones that run: not those under ``if TYPE_CHECKING``)
and hold the code to that drawing, so a shortcut fails here rather than in a
review.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "ledger", "reports", "web", "cli", "demo", "bench")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _runtime_imports(path: Path) -> Iterator[str]:
    """Every module a file imports when it runs (``if TYPE_CHECKING:`` blocks are for type checkers only)."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(child) for inner in node.body for child in ast.walk(inner))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)



def _imports_of(prefix: str) -> dict[str, set[str]]:
    return {
        name: set(_runtime_imports(path)) for name, path in MODULES.items() if name == prefix or name.startswith(prefix + ".")
    }


def _within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_domain_imports_only_the_stdlib_pydantic_and_eventsourcing_domain():
    allowed_third_party = ("pydantic", "pydantic_core", "eventsourcing.domain")
    stray = {
        module: sorted(
            i for i in imports
            if not _within(i, "domain", *allowed_third_party) and i.split(".")[0] not in sys.stdlib_module_names
        )
        for module, imports in _imports_of("domain").items()
    }  # fmt: skip
    assert {m: i for m, i in stray.items() if i} == {}


@pytest.mark.parametrize(
    ("layer", "never"),
    [
        ("domain", ("ledger", "reports", "web", "cli", "demo", "bench")),
        ("ledger", ("reports", "web", "cli", "demo", "bench")),
        ("reports", ("web", "cli", "demo", "bench")),
        ("demo", ("reports", "web", "cli", "bench")),
        ("web", ("cli", "demo", "bench")),
        ("cli", ("web.views", "bench")),
    ],
)
def test_dependencies_point_one_way(layer, never):
    wrong = {m: sorted(i for i in imports if _within(i, *never)) for m, imports in _imports_of(layer).items()}
    assert {m: i for m, i in wrong.items() if i} == {}


def test_queries_only_read_the_read_models():
    """A query never loads an aggregate, never records, never runs a use case: it reads tables."""
    writers = ("ledger.records", "ledger.application", "ledger.bootstrap", "ledger.usecases", "ledger.projections.runner")
    wrong = {m: sorted(i for i in imports if _within(i, *writers)) for m, imports in _imports_of("ledger.queries").items()}
    assert {m: i for m, i in wrong.items() if i} == {}


def test_the_interfaces_show_only_what_an_access_allows():
    """Every provider's figures at once (``ledger.queries.every_provider``) are for commands, never for a page or
    the command line: those read the views, which narrow by an access."""
    for layer in ("web", "cli"):
        wrong = {
            m: sorted(i for i in imports if _within(i, "ledger.queries.every_provider"))
            for m, imports in _imports_of(layer).items()
        }
        assert {m: i for m, i in wrong.items() if i} == {}, layer


def test_read_models_and_files_never_reach_for_the_use_cases_or_the_queries():
    for layer in ("ledger.projections", "ledger.files", "ledger.persistence"):
        wrong = {
            m: sorted(i for i in imports if _within(i, "ledger.usecases", "ledger.queries", "ledger.bootstrap"))
            for m, imports in _imports_of(layer).items()
        }
        assert {m: i for m, i in wrong.items() if i} == {}, layer


def test_no_module_imports_its_caller():
    """No cycle among the modules' imports, at import time or inside a function (a blueprint importing the app that
    imports it, say: a late import only hides the cycle)."""
    graph = {
        name: {i for i in _runtime_imports(path) if i in MODULES and i != name} for name, path in MODULES.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append(trail[trail.index(target) :] + [target] if target in trail else [name, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # A package's __init__ importing its own submodule is not a cycle of callers.
    real = [c for c in cycles if not all(_within(x, c[0]) or _within(c[0], x) for x in c)]
    assert real == []
