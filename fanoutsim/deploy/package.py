"""The functions' deployment zip: every handler module and exactly the fanoutsim modules
they import (found by reading their imports), nothing else. boto3 is what Lambda's Python
runtime provides, so the zip carries no third-party code.

The zip is reproducible (sorted entries, fixed timestamps), so unchanged code gives the
same bytes and the same S3 key, and a redeploy with nothing new is "no changes".
"""

from __future__ import annotations

import ast
import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fanoutsim import stack

__all__ = ["Package", "build_package", "module_closure"]

_ROOT: Final = Path(__file__).resolve().parent.parent  # the fanoutsim package
_EPOCH: Final = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


@dataclass(frozen=True)
class Package:
    """The zip's bytes, its content hash and the files inside it."""

    data: bytes
    sha256: str
    files: tuple[str, ...]

    @property
    def key(self) -> str:
        """The S3 key: named by content, so new code gets a new key."""
        return f"fanoutsim/functions-{self.sha256[:16]}.zip"


def _path_of(module: str) -> Path | None:
    parts = module.split(".")[1:]
    if not parts:
        return _ROOT / "__init__.py"
    for candidate in (
        _ROOT.joinpath(*parts, "__init__.py"),
        _ROOT.joinpath(*parts[:-1], f"{parts[-1]}.py"),
    ):
        if candidate.is_file():
            return candidate
    return None


def _runtime_nodes(node: ast.AST) -> Iterable[ast.AST]:
    """Every node under ``node`` except those inside ``if TYPE_CHECKING:`` blocks."""
    for child in ast.iter_child_nodes(node):
        if (
            isinstance(child, ast.If)
            and isinstance(child.test, ast.Name)
            and child.test.id == "TYPE_CHECKING"
        ):
            yield from (n for branch in child.orelse for n in (branch, *_runtime_nodes(branch)))
            continue
        yield child
        yield from _runtime_nodes(child)


def _imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "fanoutsim"}


def module_closure(roots: Iterable[str]) -> list[str]:
    """Every fanoutsim module ``roots`` need at import time, their packages included
    (read from the text; ``if TYPE_CHECKING:`` imports are not run, so they are left out:
    the package root names its heavy entry points only there, and loads them lazily)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in seen or _path_of(module) is None:
            continue
        seen.add(module)
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parent packages
        path = _path_of(module)
        assert path is not None
        todo.extend(_imports_of(path))
    return sorted(seen)


def build_package(functions: Iterable[str] | None = None) -> Package:
    """Zip the handlers of ``functions`` (every function of the stack by default)."""
    names = list(functions) if functions is not None else list(stack.FUNCTIONS)
    roots = [stack.FUNCTIONS[name].handler.split(":")[0] for name in names]
    files = []
    for module in module_closure(roots):
        path = _path_of(module)
        assert path is not None
        files.append(str(path.relative_to(_ROOT.parent)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (_ROOT.parent / name).read_bytes())
    data = buffer.getvalue()
    return Package(data, hashlib.sha256(data).hexdigest(), tuple(sorted(files)))
