"""The import graph follows the layers of docs/architecture.md: no circles, nothing imports
a higher layer, moto is imported only in its wing, and the handlers stay deployable.

Read from the source text (every ``import`` / ``from ... import`` at any depth, including
``TYPE_CHECKING`` blocks), so a new import that breaks the rules fails here at once.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "fanoutsim"

#: Lowest first; a module may import its own layer and lower ones only.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "errors",
        "stages",
        "stats",
        "datafiles",
        "data",
        "feed",
        "arguments",
        "html_text",
        "addresses",
        "qr",
        "open_guard",
    ),
    ("aws", "functions", "timing", "tracing", "deliveries", "room", "sample_flights"),
    ("runtime", "stack"),
    ("model", "provision", "ledger"),
    ("moto",),
    ("report", "faults", "options", "builder", "snapshot"),
    ("clients", "flights", "pipeline", "one_at_a_time", "simulator", "deploy"),
    ("notebook", "serve", "doctor", "cli", "__main__", "__init__"),
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = found
    return graph


def _own(graph: dict[str, set[str]], name: str) -> set[str]:
    """The fanoutsim modules ``name`` imports (``from pkg import mod`` counts as ``mod``;
    the package root, whose heavy exports load lazily, is left out)."""
    return {m for m in graph[name] if m in graph and m not in (name, "fanoutsim")}


def _layer(module: str) -> int:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    if module == "fanoutsim.__main__":
        key = "__main__"
    for index, names in enumerate(LAYERS):
        if key in names:
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")


def test_every_module_has_a_layer() -> None:
    for module in _imports():
        _layer(module)


def test_no_module_imports_a_higher_layer() -> None:
    graph = _imports()
    upward = [
        f"{module} (layer {_layer(module)}) -> {target} (layer {_layer(target)})"
        for module in graph
        for target in _own(graph, module)
        if _layer(target) > _layer(module) and not target.startswith(module + ".")
    ]
    assert upward == []


def test_the_import_graph_has_no_circles() -> None:
    graph = _imports()
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(_own(graph, module)):
            if target.startswith(module + "."):
                continue  # a package's __init__ naming its own modules
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_moto_is_imported_only_in_its_wing() -> None:
    outside = [
        f"{module} imports {target}"
        for module, targets in _imports().items()
        for target in targets
        if (target == "moto" or target.startswith("moto."))
        and not module.startswith("fanoutsim.moto")
    ]
    assert outside == []


def test_runtime_imports_neither_functions_model_nor_moto() -> None:
    graph = _imports()
    bad = [
        f"{module} -> {target}"
        for module in graph
        if module.startswith("fanoutsim.runtime")
        for target in _own(graph, module)
        if target.split(".")[1] in ("functions", "model", "moto", "simulator", "builder")
    ]
    assert bad == []


def test_handlers_import_only_what_a_deployment_ships() -> None:
    """The functions need boto3 and the standard library, plus three tiny stdlib modules of
    ours (errors, stages and the package root, whose heavy exports are lazy)."""
    graph = _imports()
    allowed = {"fanoutsim.errors", "fanoutsim.stages"}
    bad = [
        f"{module} -> {target}"
        for module in graph
        if module.startswith("fanoutsim.functions")
        for target in _own(graph, module)
        if not target.startswith("fanoutsim.functions") and target not in allowed
    ]
    assert bad == []
