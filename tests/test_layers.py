"""The import graph: no cycles among fewtag's modules, and imports flow one way
(store -> data -> methods -> eval/service/cli).

Cycles are looked for over every import, late ones inside functions too (the
old ``base -> pipeline -> registry -> base`` cycle was made of late imports).
The one-way rule counts module-level imports only: a function may reach a
higher layer late on purpose (the registry imports methods by name).
``if TYPE_CHECKING:`` blocks are skipped. ``python tests/test_layers.py``
prints the graph.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PKG = SRC / "fewtag"

#: layer of each top-level part; a module may import only from its own layer or lower ones.
LAYERS = {
    "_version": 0,
    "errors": 0,
    "io": 0,
    "labels": 0,
    "metrics": 0,
    "progress": 0,
    "decision": 1,
    "tuning": 1,
    "calibration": 1,
    "track": 1,
    "registry": 1,
    "models": 1,
    "hub": 1,
    "data": 1,
    "embed": 2,
    "augment": 2,
    "methods": 3,
    "crossval": 4,
    "pipeline": 4,
    "search": 4,
    "adapt": 4,
    "discover": 4,
    "distill": 4,
    "github": 4,
    "audit": 4,
    "active": 4,
    "engine": 4,
    "eval": 5,
    "service": 5,
    "annotate": 5,
    "deploy": 5,
    "cli": 6,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PKG.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.Module, late: bool) -> list[ast.stmt]:
    """Statements whose imports count: module level (``late=False``) or everywhere but TYPE_CHECKING."""
    out: list[ast.stmt] = []
    todo = list(tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, ast.If) and _is_type_checking(node):
            continue
        out.append(node)
        if isinstance(node, ast.If | ast.Try | ast.With):
            todo.extend(ast.iter_child_nodes(node))  # type: ignore[arg-type]
        elif late and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            todo.extend(n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom | ast.If))
    return out


def module_imports(path: Path, mods: dict[str, Path], *, late: bool = False) -> set[str]:
    """fewtag modules imported by the file at ``path`` (at module level, or anywhere with ``late``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in _nodes(tree, late):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("fewtag"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fewtag") and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in mods else node.module)
    this = module_name(path)
    return {m for m in found if m in mods and m != this}


def graph(*, late: bool = False) -> dict[str, set[str]]:
    mods = modules()
    return {name: module_imports(path, mods, late=late) for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in g:
        if v not in index:
            visit(v)
    return out


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_no_import_cycles_not_even_through_late_imports():
    assert cycles(graph(late=True)) == []


def test_imports_flow_one_way():
    wrong = [
        (a, b)
        for a, deps in graph().items()
        for b in deps
        if layer(a) is not None and layer(b) is not None and layer(b) > layer(a)
    ]
    assert wrong == [], "a lower layer imports a higher one"


def test_every_top_level_part_has_a_layer():
    parts = {m.split(".")[1] for m in modules() if m.count(".") >= 1}
    assert parts <= set(LAYERS) | {"__main__"}, sorted(parts - set(LAYERS))


if __name__ == "__main__":
    for name, deps in sorted(graph(late=True).items()):
        if deps:
            print(f"{name} -> {', '.join(sorted(deps))}")
