"""docs/architecture.md stays true to the code: every file, function, class and method it
cites in backticks exists, and its list of what the moto wing patches is what
:class:`~fanoutsim.moto.hooks.MotoHooks` installs."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fanoutsim"
DOC = (ROOT / "docs" / "architecture.md").read_text()

_FILE_CITE = re.compile(r"^(?:fanoutsim/)?((?:\w+/)*\w+\.py)(?::\s*([\w.]+))?")
_MEMBER_CITE = re.compile(r"^([A-Z]\w+)\.(\w+)(?:\(.*\))?$")


def _spans() -> list[str]:
    return re.findall(r"`([^`\n]+)`", DOC.replace("`\n", "` "))


@cache
def _definitions(path: Path) -> dict[str, set[str]]:
    """Top-level names of a module, each with the names defined in it (a class's methods,
    properties and fields)."""
    found: dict[str, set[str]] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    members.update(t.id for t in item.targets if isinstance(t, ast.Name))
            found[node.name] = members
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = set()
        elif isinstance(node, ast.Assign):
            found.update({t.id: set() for t in node.targets if isinstance(t, ast.Name)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = set()
    return found


def _defines(path: Path, dotted: str) -> bool:
    name, _, member = dotted.partition(".")
    definitions = _definitions(path)
    return name in definitions and (not member or member in definitions[name])


def _module_files() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts]


def _file(cited: str) -> Path | None:
    """The package file a citation names: by its path, or by its name when unique."""
    for base in (PACKAGE, ROOT):
        if (base / cited).exists():
            return base / cited
    matches = [p for p in _module_files() if p.as_posix().endswith("/" + cited)]
    return matches[0] if len(matches) == 1 else None


def test_every_cited_file_and_name_exists() -> None:
    wrong = []
    for span in _spans():
        cite = _FILE_CITE.match(span)
        if cite is None:
            continue
        path = _file(cite.group(1))
        if path is None:
            wrong.append(f"{span}: no such file")
        elif cite.group(2) and not _defines(path, cite.group(2)):
            wrong.append(f"{span}: {cite.group(2)} is not defined in {path.relative_to(ROOT)}")
    assert wrong == []


def test_every_cited_method_exists_on_its_class() -> None:
    wrong = []
    for span in _spans():
        cite = _MEMBER_CITE.match(span)
        if cite is None:
            continue
        cls, member = cite.groups()
        homes = [p for p in _module_files() if cls in _definitions(p)]
        if not homes:
            wrong.append(f"{span}: no class {cls}")
        elif not any(member in _definitions(p)[cls] for p in homes):
            wrong.append(f"{span}: {cls} has no {member}")
    assert wrong == []


def test_the_moto_patches_listed_are_what_the_hooks_install() -> None:
    section = DOC.split("- `hooks.py`:", 1)[1].split("\n- ", 1)[0]
    listed = set(re.findall(r"^  - `(\w+)`:", section, re.M))
    methods = _definitions(PACKAGE / "moto" / "hooks.py")["MotoHooks"]
    installs = {m for m in methods if not m.startswith("_")} - {"remove", "installed"}
    assert listed == installs


def test_the_service_index_names_existing_files() -> None:
    index = DOC.split("## Which files make each service", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in index.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 6  # the header and the five services
    for row in rows[1:]:
        for cited in re.findall(r"`([\w/]+\.py)", row):
            assert _file(cited) is not None, f"{cited} in the service index"
