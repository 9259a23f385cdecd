"""The structure of ``server/`` (issue 18; docs/architecture.md, "Layers"): import-linter's
contracts (``make lint``) keep the layers; this keeps the import graph free of circles.

- Between the subpackages and top-level modules of ``server/``, counting every import but
  those only for type checking (grimp's graph, as import-linter reads it), no group of two or
  more reaches each other: a feature can be read, tested and changed from its dependencies up.
- Between modules, counting the imports run when a module is loaded (at its top level, not
  inside a function), there is no circle at all: importing any module first works.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of ``graph`` (iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph.get(start, ())))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, ()))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    found.append(component)
    return found


def test_the_subpackages_of_server_form_no_circle() -> None:
    graph = grimp.build_graph("server", exclude_type_checking_imports=True)

    def part(module: str) -> str:
        return ".".join(module.split(".")[:2])

    parts: dict[str, set[str]] = {}
    for module in graph.modules:
        imported = graph.find_modules_directly_imported_by(module)
        parts.setdefault(part(module), set()).update(
            part(i) for i in imported if i.startswith("server.") and part(i) != part(module)
        )
    circles = [sorted(c) for c in strongly_connected(parts) if len(c) > 1]
    assert circles == [], circles


def _loaded_imports(path: Path, module: str) -> set[str]:
    """The ``server`` modules that loading ``module`` imports (its top-level statements,
    ``if`` and ``try`` blocks included; not ``if TYPE_CHECKING:``, nor function bodies)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    names: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for statement in statements:
            if isinstance(statement, ast.Import):
                names.update(a.name for a in statement.names)
            elif isinstance(statement, ast.ImportFrom):
                base = statement.module or ""
                if statement.level:
                    parent = package.rsplit(".", statement.level - 1)[0]
                    base = f"{parent}.{base}" if base else parent
                names.add(base)
                names.update(f"{base}.{a.name}" for a in statement.names)
            elif isinstance(statement, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(statement.test):
                    visit(statement.body)
                visit(statement.orelse)
            elif isinstance(statement, ast.Try):
                visit(statement.body)
                for handler in statement.handlers:
                    visit(handler.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {n for n in names if n.startswith("server")}


def test_loading_no_module_of_server_needs_itself() -> None:
    modules: dict[str, Path] = {}
    for path in (ROOT / "server").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph = {name: _loaded_imports(path, name) & modules.keys() for name, path in modules.items()}
    circles = [sorted(c) for c in strongly_connected(graph) if len(c) > 1]
    assert circles == [], circles
    assert graph["server.app"], "the reader found no imports: it reads nothing"
