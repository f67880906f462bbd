"""The import graph of ``src/memae``: no cycles, no memae imports hidden in functions.

Every module is parsed with :mod:`ast`, never imported. Every import statement counts,
at module level or inside a function, except those under ``if TYPE_CHECKING:``, which
never run. Each statement is resolved to the memae modules it loads:

- ``import memae.a.b`` loads ``memae.a.b``; ``from memae.a import y`` loads
  ``memae.a.y`` when ``memae/a/y.py`` or ``memae/a/y/`` exists, and ``memae.a`` itself
  (its ``__init__``) when ``y`` is a name defined there; relative imports are resolved
  against the importing module's package first.
- Loading ``memae.a.b`` also runs the ``__init__`` of every package above it, so the
  importer depends on those packages too, *except* the packages the importer itself
  lives in: ``memae.video.train`` importing ``memae.video.score`` depends on
  ``memae.video.score`` only. By the time a submodule runs, its own packages are being
  initialised already, so that edge exists for every submodule and says nothing;
  counting it would make every package whose ``__init__`` re-exports its submodules a
  cycle. Naming the package explicitly (``from memae.video import score_frames``, or
  ``import memae`` to read an attribute) is a real dependency on its ``__init__`` and
  is counted.

A cycle is a strongly connected component of that graph with more than one module, or a
module importing itself; each is reported as a chain ``a -> b -> a``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "memae"




@dataclass(frozen=True)
class Import:
    """One memae module loaded by one import statement."""

    importer: str
    target: str
    line: int
    in_function: bool


def module_files(src: Path = SRC) -> dict[str, Path]:
    """Every module under ``src/memae`` by dotted name (a package by its ``__init__``)."""
    modules = {}
    for path in sorted((src / ROOT).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def is_type_checking(test: ast.expr) -> bool:
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def import_nodes(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """``(statement, inside a function)`` for every import that can run."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.AST, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and is_type_checking(child.test):
                for other in child.orelse:
                    yield from walk_one(other, in_function)
                continue
            yield from walk_one(child, in_function)

    def walk_one(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.AST, bool]]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, in_function
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        yield from walk(node, inner)

    yield from walk(tree, False)


def resolve(node: ast.Import | ast.ImportFrom, importer: str,
            modules: dict[str, Path]) -> set[str]:
    """The memae modules ``node`` names explicitly (their parent packages not included)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    if node.level:
        package = importer if is_package(importer, modules) else importer.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    if base not in modules:
        return set()
    targets = set()
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        targets.add(submodule if submodule in modules else base)
    return targets


def with_parent_packages(target: str, importer: str) -> set[str]:
    """``target`` and the packages above it that the importer does not live in."""
    loaded = {target}
    parts = target.split(".")
    for end in range(1, len(parts)):
        package = ".".join(parts[:end])
        if importer != package and not importer.startswith(package + "."):
            loaded.add(package)
    return loaded


def memae_imports(src: Path = SRC) -> list[Import]:
    modules = module_files(src)
    found = []
    for importer, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, in_function in import_nodes(tree):
            for named in resolve(node, importer, modules):
                for target in sorted(with_parent_packages(named, importer)):
                    found.append(Import(importer, target, node.lineno, in_function))
    return found


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, each sorted, in a stable order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def shortest_cycle(start: str, graph: dict[str, set[str]], within: set[str]) -> list[str]:
    """The shortest chain ``start -> ... -> start`` through modules of ``within``."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(graph.get(node, ()) & within):
                if successor == start:
                    return [*paths[node], start]
                if successor not in paths:
                    paths[successor] = [*paths[node], successor]
                    following.append(successor)
        frontier = following
    raise AssertionError(f"{start} is on no cycle")


def cycles(graph: dict[str, set[str]]) -> list[tuple[set[str], list[list[str]]]]:
    """Each cycle's modules and readable chains: one through every module of it."""
    found = []
    for component in strongly_connected(graph):
        members = set(component)
        if len(component) == 1 and component[0] not in graph.get(component[0], ()):
            continue
        chains: list[list[str]] = []
        for module in component:
            if not any(module in chain for chain in chains):
                chains.append(shortest_cycle(module, graph, members))
        found.append((members, chains))
    return found


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in module_files(src)}
    for found in memae_imports(src):
        graph[found.importer].add(found.target)
    return graph


def describe(found: list[tuple[set[str], list[list[str]]]]) -> str:
    return "\n".join(" -> ".join(chain) for _, chains in found for chain in chains)


def test_the_graph_sees_imports_the_way_python_runs_them(tmp_path: Path) -> None:
    files = {
        "__init__.py": "from memae.video import score_frames\n",
        "video/__init__.py": "from memae.video.score import score_frames\n",
        "video/score.py": "from . import frames\nimport memae.video.frames\n",
        "video/frames.py": ("from typing import TYPE_CHECKING\n"
                            "if TYPE_CHECKING:\n    from memae.video.score import score_frames\n"
                            "def read():\n    from memae.data import load\n"),
        "data/__init__.py": "import numpy\n",
        "cli.py": "from memae.video.score import score_frames\n",
    }
    for name, text in files.items():
        (tmp_path / ROOT / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / ROOT / name).write_text(text)
    assert import_graph(tmp_path) == {
        "memae": {"memae.video"},  # a name from a package: its __init__
        "memae.video": {"memae.video.score"},  # a package re-exporting its submodule
        # A sibling, relative or through the package path: the sibling only.
        "memae.video.score": {"memae.video.frames"},
        # Inside a function it counts; under TYPE_CHECKING it does not.
        "memae.video.frames": {"memae.data"},
        "memae.data": set(),
        # A submodule of another package: that package's __init__ runs too.
        "memae.cli": {"memae.video", "memae.video.score"},
    }
    assert [(found.importer, found.target) for found in memae_imports(tmp_path)
            if found.in_function] == [("memae.video.frames", "memae.data")]


def test_cycles_are_found_and_shown_as_chains() -> None:
    graph = {"memae.a": {"memae.b"}, "memae.b": {"memae.a", "memae.c"}, "memae.c": set(),
             "memae.d": {"memae.d"}}
    assert describe(cycles(graph)) == "memae.a -> memae.b -> memae.a\nmemae.d -> memae.d"


def test_no_import_cycles() -> None:
    unexpected = cycles(import_graph())
    assert not unexpected, "import cycles:\n" + describe(unexpected)


def test_no_memae_imports_inside_functions() -> None:
    hidden = sorted({f"{found.importer}:{found.line} imports {found.target}"
                     for found in memae_imports()
                     if found.in_function})
    assert not hidden, (
        "functions may import only optional third-party packages; move the code to the "
        "module it belongs to instead:\n" + "\n".join(hidden))
