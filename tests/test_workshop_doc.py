"""docs/workshop.md's 90-minute script adds up: its slots run from 0 to 90 without a gap or
an overlap, and every notebook it names exists."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLOT = re.compile(r"^\| (\d+)-(\d+) \| (.+?) \| (.*) \|$")


def _slots() -> list[tuple[int, int, str]]:
    text = (ROOT / "docs" / "workshop.md").read_text()
    script = text.split("## A 90-minute session", 1)[1].split("\n## ", 1)[0]
    return [(int(m[1]), int(m[2]), m[3]) for line in script.splitlines() if (m := SLOT.match(line))]


def test_the_script_runs_from_0_to_90_without_gaps() -> None:
    slots = _slots()
    assert slots[0][0] == 0 and slots[-1][1] == 90
    assert all(a[1] == b[0] for a, b in itertools.pairwise(slots))
    assert all(start < end for start, end, _ in slots)


def test_every_notebook_the_script_names_exists() -> None:
    named = {n for _, _, what in _slots() for n in re.findall(r"`(\d\d\w*)`", what)}
    assert "09_the_room" in named
    for name in named:
        assert (ROOT / "notebooks" / f"{name}.ipynb").exists(), name
