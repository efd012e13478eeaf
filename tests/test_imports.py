"""The package's import graph has no cycle: registries (checks, probes, faults) import nothing
from the engine, and the engine, the plugin and the command sit above them.

Every ``import`` and ``from ... import`` counts, also those inside functions (a lazy import
that closes a circle still ties the modules together); only ``if TYPE_CHECKING:`` blocks are
left out. Importing ``a.b.c`` also imports the packages ``a.b`` and ``a``.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "conformance"


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, root: Path, modules: set[str]) -> set[str]:
    """The package modules ``path`` imports (each with the packages above it)."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                found.add(base)
                found.update(f"{base}.{a.name}" for a in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    out: set[str] = set()
    for target in found:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in modules and prefix != name:
                out.add(prefix)
    # a module's own packages are imported before it: no edge needed for those
    return {m for m in out if not name.startswith(m + ".")}


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    paths = sorted(root.rglob("*.py"))
    modules = {_module_name(p, root) for p in paths}
    return {_module_name(p, root): _imports(p, root, modules) for p in paths}


def test_the_import_graph_has_no_cycle() -> None:
    try:
        list(graphlib.TopologicalSorter(import_graph()).static_order())
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_registries_import_nothing_from_the_engine() -> None:
    graph = import_graph()
    engine = {"conformance._run", "conformance.plugin", "conformance._api", "conformance.cli"}
    for registry in ("conformance._catalog", "conformance._probes", "conformance.stub.faults"):
        reachable, todo = set(), [registry]
        while todo:
            for dep in graph.get(todo.pop(), ()):
                if dep not in reachable:
                    reachable.add(dep)
                    todo.append(dep)
        assert not reachable & engine, f"{registry} reaches {sorted(reachable & engine)}"


def test_a_lazy_import_closes_a_cycle_and_type_checking_does_not(tmp_path: Path) -> None:
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from p import b\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nimport p.a\nif TYPE_CHECKING:\n    from . import c\n")
    (pkg / "c.py").write_text("from .a import f\n")
    graph = import_graph(pkg)
    assert graph == {"p": set(), "p.a": {"p.b"}, "p.b": {"p.a"}, "p.c": {"p.a"}}
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError:
        return
    raise AssertionError("the cycle p.a -> p.b -> p.a was not reported")
