"""The boundaries between packages, read from the source with `ast`: no import cycle between
top-level packages or between domains (services/<domain>), and the shared library imports
neither the worker nor any domain."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cli", "common", "services", "worker", "bench", "tools")


def _imported(tree: ast.AST) -> Iterator[str]:
    """Every module an import names, at any depth (a lazy import inside a function counts)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _unit(module: str) -> str | None:
    """The unit a module belongs to: a domain (services.auth) or a top-level package."""
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    if parts[0] == "services" and len(parts) > 1:
        return f"services.{parts[1]}"
    return parts[0]


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            source = _unit(module)
            assert source is not None
            edges = graph.setdefault(source, set())
            for name in _imported(ast.parse(path.read_text(), str(path))):
                target = _unit(name)
                if target is not None and target != source:
                    edges.add(target)
    return graph


def _top_level(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for source, targets in graph.items():
        top = source.split(".")[0]
        merged.setdefault(top, set()).update(t.split(".")[0] for t in targets if t.split(".")[0] != top)
    return merged


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle found by a depth-first walk, as the path that closes it."""
    found: list[list[str]] = []
    done: set[str] = set()

    def walk(node: str, path: list[str]) -> None:
        if node in path:
            found.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            walk(target, [*path, node])
        done.add(node)

    for node in sorted(graph):
        walk(node, [])
    return found


def test_no_cycle_between_top_level_packages() -> None:
    assert cycles(_top_level(import_graph())) == []


def test_no_cycle_between_domains() -> None:
    assert cycles(import_graph()) == []


def test_the_shared_library_imports_neither_the_worker_nor_a_domain() -> None:
    graph = import_graph()
    assert {t for t in graph["common"] if t == "worker" or t.startswith("services")} == set()
    domains = [unit for unit in graph if unit.startswith("services.")]
    assert domains, "the domains were not found"
    for domain in domains:
        assert "worker" not in graph[domain], domain


def test_identity_reaches_other_domains_through_grpc_only() -> None:
    assert {t for t in import_graph()["services.identity"] if t.startswith("services.")} == set()


def test_the_walk_finds_a_cycle(tmp_path: Path) -> None:
    # The detector itself: two domains that import each other, one of them lazily.
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "services" / "a").mkdir()
    (tmp_path / "services" / "b").mkdir()
    (tmp_path / "services" / "a" / "x.py").write_text("from services.b.y import f\n")
    (tmp_path / "services" / "b" / "y.py").write_text("def f():\n    import services.a.x\n")
    (tmp_path / "common" / "z.py").write_text("from worker import main\n")
    (tmp_path / "worker" / "main.py").write_text("import common.z\n")
    graph = import_graph(tmp_path)
    assert cycles(graph) == [
        ["common", "worker", "common"],
        ["services.a", "services.b", "services.a"],
    ]
    assert cycles(_top_level(graph)) == [["common", "worker", "common"]]
