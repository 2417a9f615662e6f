"""The package's layers (docs/architecture.md), read from the code with `ast`: no import
points up a layer, there are no import cycles (function-local imports included), no module
is over 400 lines, and each on-disk name is spelled only by the module that owns it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gitflowml"

# Lowest first. A module may import from its own layer or below, never from above.
LAYERS: list[tuple[str, ...]] = [
    ("gitflowml", "gitflowml.errors"),
    ("gitflowml.util",),
    ("gitflowml.quick", "gitflowml.config", "gitflowml.project", "gitflowml.scm"),
    ("gitflowml.repolock",),
    ("gitflowml.storage",),
    ("gitflowml.pipeline",),
    ("gitflowml.index",),
    ("gitflowml.lineage",),
    ("gitflowml.remote", "gitflowml.registry"),
    ("gitflowml.revision",),
    ("gitflowml.executors",),
    ("gitflowml.repro",),
    (
        "gitflowml.gc",
        "gitflowml.metrics",
        "gitflowml.importdvc",
        "gitflowml.githooks",
        "gitflowml.hooks",
        "gitflowml.doctor",
    ),
    ("gitflowml.exps", "gitflowml.plots"),
    ("gitflowml.api",),
    ("gitflowml.cli",),
    ("gitflowml.entry", "gitflowml.__main__"),
]

# On-disk names (as whole string literals) and the modules allowed to spell them.
OWNERS: dict[str, set[str]] = {
    "pipeline.yaml": {"gitflowml.pipeline.model"},
    "pipeline.lock": {"gitflowml.pipeline.lockfile"},
    ".gfml": {"gitflowml.storage.pointer"},
    ".dir": {"gitflowml.storage.layout", "gitflowml.storage.dvc"},  # ours, and DVC's
    "dvc.lock": {"gitflowml.storage.dvc"},
    "dvc.yaml": {"gitflowml.storage.dvc"},
    ".dvc": {"gitflowml.storage.dvc"},
    "runs": {"gitflowml.storage.layout", "gitflowml.lineage.store"},
    "refs/notes/gitflowml": {"gitflowml.lineage.notes"},
    "state.db": {"gitflowml.project"},
    "config.yaml": {"gitflowml.config.levels"},
    "config.local.yaml": {"gitflowml.config.levels"},
    ".gitflowml": {"gitflowml.project", "gitflowml.quick"},
    "params.yaml": {"gitflowml.pipeline.params"},
    ".gfml-tmp.": {"gitflowml.util.tmpfiles"},
    "refs/gitflowml/exps/": {"gitflowml.scm.exprefs"},
    "refs/gitflowml/queue/": {"gitflowml.scm.exprefs"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The gitflowml modules `name` imports, at module level or inside functions."""
    out: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name.split(".") if is_package else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            targets = [base, *(f"{base}.{a.name}" for a in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def layer_of(module: str) -> int:
    best, rank = -1, -1
    for i, names in enumerate(LAYERS):
        for prefix in names:
            hit = module == prefix or module.startswith(prefix + ".")
            if hit and len(prefix) > best and not (prefix == "gitflowml" and module != prefix):
                best, rank = len(prefix), i
    return rank


def test_every_module_has_a_layer() -> None:
    assert [m for m in MODULES if layer_of(m) < 0] == []


def test_no_import_points_up_a_layer() -> None:
    upward = [
        f"{m} (layer {layer_of(m)}) imports {t} (layer {layer_of(t)})"
        for m, targets in GRAPH.items()
        for t in sorted(targets)
        # a package's __init__ may gather its own modules (api's facade)
        if layer_of(t) > layer_of(m) and not t.startswith(m + ".")
    ]
    assert upward == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    # a package's __init__ importing its own modules is not a cycle of the code
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in GRAPH.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layers_are_checked_against_function_local_imports() -> None:
    # repro's engine imports the Dask client only inside a function: still an edge
    assert "gitflowml.executors.remote_run" in GRAPH["gitflowml.repro.engine"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_400_lines(name: str) -> None:
    assert MODULES[name].read_text(encoding="utf-8").count("\n") <= 400


def _literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is str}


@pytest.mark.parametrize("literal", sorted(OWNERS))
def test_on_disk_names_are_spelled_by_their_owner_only(literal: str) -> None:
    spelled = {m for m, path in MODULES.items() if literal in _literals(path)}
    assert spelled <= OWNERS[literal]
    assert spelled, f"no owner spells {literal!r}: update OWNERS"
