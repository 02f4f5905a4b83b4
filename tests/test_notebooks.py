"""The committed notebooks: no outputs, short cells, and the shape every tutorial shares.

Running them is ``pytest --nbmake notebooks/`` (part of ``make test``); this file checks what
is committed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
ALL = sorted(p for p in NOTEBOOKS_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
#: The stage-by-stage tutorial notebooks; the structure checks apply to these.
TUTORIAL = (
    "00_overview",
    "01_connect",
    "02_events_and_view_model",
    "03_stream",
    "04_fanout",
    "06_beyond",
    "06b_limits_and_faults",
    "07_real_stack",
    "08_choosing_a_pattern",
)
MAX_CODE_LINES = 10
MAX_MARKDOWN_LINES = 20
MAX_LINE_CHARS = 100


def _cells(path: Path) -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = json.loads(path.read_text())["cells"]
    return cells


def _source(cell: dict[str, Any]) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else str(source)


def _hidden(cell: dict[str, Any]) -> bool:
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))


def test_the_tutorial_is_there() -> None:
    assert {p.stem for p in ALL} >= set(TUTORIAL)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_committed_without_outputs(path: Path) -> None:
    notebook = json.loads(path.read_text())
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {index} has outputs"
            assert cell["execution_count"] is None, f"cell {index} has an execution count"
    assert "widgets" not in notebook["metadata"], "saved widget state is an output too"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_cells_are_short(path: Path) -> None:
    for index, cell in enumerate(_cells(path)):
        lines = _source(cell).splitlines()
        limit = MAX_CODE_LINES if cell["cell_type"] == "code" else MAX_MARKDOWN_LINES
        assert len(lines) <= limit, f"cell {index} has {len(lines)} lines (at most {limit})"


@pytest.mark.parametrize("stem", TUTORIAL)
def test_tutorial_shape(stem: str) -> None:
    cells = _cells(NOTEBOOKS_DIR / f"{stem}.ipynb")
    texts = [_source(c) for c in cells]
    kinds = [c["cell_type"] for c in cells]
    assert kinds[0] == "markdown" and texts[0].startswith("# "), "opens with a title"
    assert "%matplotlib inline" in texts[1], "sets up inline plots first"
    assert any(t.startswith("## Summary") for t in texts)
    # markdown and code alternate: never more than three code cells in a row
    assert "code" * 4 not in "".join("code" if k == "code" else "|" for k in kinds)
    code = [
        t
        for c, t in zip(cells, texts, strict=True)
        if c["cell_type"] == "code" and t.strip() != "# your answer here"
    ]
    # Run All leaves the simulator up for the widgets; a marked clean-up cell says how to
    # close it (and the kernel's exit closes it anyway).
    everything = "".join(code)
    live = any(name in everything for name in ("Panel(", "Dashboard(", "View("))
    if live:
        assert "sim.close()" not in code[-1], "Run All must not end by closing the simulator"
    if "Simulator(" in everything and "sim.close()" not in code[-1]:
        cleanups = [t for t in texts if t.startswith("## Clean up")]
        assert cleanups and "sim.close()" in cleanups[0], "a clean-up cell says how to close"
    for index, text in enumerate(texts):
        longest = max((len(line) for line in text.splitlines()), default=0)
        assert longest <= MAX_LINE_CHARS, f"cell {index} has a {longest}-character line"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_numbered_lists_render_as_written(path: Path) -> None:
    """Markdown renumbers a list by its first item and reads "4." at a line's start as an
    item: every numbered item starts its own line, and the numbers run 1, 2, 3 ..."""
    for index, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "markdown":
            continue
        text = _source(cell)
        assert not re.search(r"[,;:] \d\. [a-z]", text), f"cell {index}: an item inside a line"
        for block in re.split(r"\n\s*\n", text):
            numbers = [int(m) for m in re.findall(r"^(\d+)\. ", block, re.MULTILINE)]
            assert numbers == list(range(1, len(numbers) + 1)), f"cell {index}: {numbers}"


@pytest.mark.parametrize("stem", TUTORIAL)
def test_each_exercise_has_a_collapsed_solution(stem: str) -> None:
    cells = _cells(NOTEBOOKS_DIR / f"{stem}.ipynb")
    exercises = [i for i, c in enumerate(cells) if "### Exercise" in _source(c)]
    assert 2 <= len(exercises) <= 3
    for start in exercises:
        following = cells[start + 1 : start + 3]
        solutions = [c for c in following if is_solution(c)]
        assert len(solutions) == 1, f"exercise at cell {start} has no collapsed solution"
        assert _solution_code(solutions[0]).strip(), "the solution is not empty"
    hidden = [i for i, c in enumerate(cells) if _hidden(c)]
    assert len(hidden) == len(exercises), "only solutions are collapsed"
    # Run All runs code cells only: a solution is a raw cell, so it never answers for you
    # (and, unlike a markdown cell, Run All does not render it open).
    assert not any(c["cell_type"] == "code" and _hidden(c) for c in cells)


#: A collapsed cell still shows its first line in JupyterLab: it must give nothing away.
SOLUTION_FIRST_LINE = (
    "# Solution: what a collapsed cell shows is only this line; open it to read the answer"
)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_a_collapsed_solution_shows_no_answer(path: Path) -> None:
    for index, cell in enumerate(_cells(path)):
        if is_solution(cell):
            first = _source(cell).splitlines()[0]
            assert first == SOLUTION_FIRST_LINE, f"cell {index} opens with {first!r}"


def is_solution(cell: dict[str, Any]) -> bool:
    """A collapsed raw cell tagged solution: shown folded, never run by Run All."""
    return (
        cell["cell_type"] == "raw"
        and _hidden(cell)
        and "solution" in cell.get("metadata", {}).get("tags", [])
    )


def _solution_code(cell: dict[str, Any]) -> str:
    """The code of a solution cell (a raw cell holds it as it is)."""
    return _source(cell)


def with_solutions(path: Path) -> dict[str, Any]:
    """The notebook as a trainee who runs each solution in its answer cell would have it."""
    notebook = json.loads(path.read_text())
    cells = []
    for cell in notebook["cells"]:
        if is_solution(cell):
            cell = {**cell, "cell_type": "code", "source": _solution_code(cell), "outputs": []}
            cell["execution_count"] = None
        cells.append(cell)
    return {**notebook, "cells": cells}


@pytest.mark.parametrize("stem", TUTORIAL)
def test_the_solutions_run(stem: str) -> None:
    """Run All never runs the solutions, so they are run here: every cell, each solution
    in its place, in a fresh kernel started in the notebooks' folder."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.reads(json.dumps(with_solutions(NOTEBOOKS_DIR / f"{stem}.ipynb")), 4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()
    errors = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("output_type") == "error"
    ]
    assert errors == []
