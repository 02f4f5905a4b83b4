"""docs/fidelity.md matches the tests: every row names a source, a status and (unless it is
a known gap) a test that exists and names the same source page in its module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(
    r"^\| (?P<behaviour>[^|]+) \| (?P<source>\S+) \| (?P<status>[^|]+) \| (?P<test>[^|]+) \|$"
)


def _rows() -> list[dict[str, str]]:
    rows = []
    for line in (ROOT / "docs" / "fidelity.md").read_text().splitlines():
        match = ROW.match(line)
        if match and match["source"] != "source" and not set(match["source"]) <= {"-"}:
            rows.append({k: v.strip() for k, v in match.groupdict().items()})
    return rows


ROWS = _rows()


def test_the_document_has_rows() -> None:
    assert len(ROWS) >= 30


@pytest.mark.parametrize("row", ROWS, ids=[r["behaviour"][:60] for r in ROWS])
def test_each_row_has_a_source_a_status_and_a_test_naming_that_source(row: dict[str, str]) -> None:
    assert row["source"].startswith("https://"), row
    status = row["status"]
    assert status.split(" ")[0].rstrip(":") in {"reproduced", "simplified", "not"}, status
    if status.startswith("not reproduced"):
        assert row["test"] == "—"
        return
    path, _, name = row["test"].strip("`").partition("::")
    text = (ROOT / path).read_text()
    assert re.search(rf"^(async )?def {name}\(", text, re.MULTILINE), f"{name} not in {path}"
    assert row["source"] in text, f"{path} does not name {row['source']}"
