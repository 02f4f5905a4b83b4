"""Service size limits from the packaged data file, each with its source and date.

AWS moves these (a 2026 change raised EventBridge and asynchronous Lambda payloads from
256 KB to 1 MB), so they live in ``fanoutsim/data/limits.toml`` rather than in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from fanoutsim.datafiles import read_toml
from fanoutsim.errors import DataFileError

__all__ = ["LIMITS_PATH", "Limit", "limit", "limits"]

LIMITS_PATH: Final = Path(__file__).resolve().parent.parent / "data" / "limits.toml"


@dataclass(frozen=True)
class Limit:
    """One limit: its value, what it bounds, where it comes from and when it was checked."""

    name: str
    value: int
    what: str
    source: str
    as_of: str
    #: Whether a Service Quotas request can raise it (None: the source does not say).
    adjustable: bool | None = None
    #: How the figure is known: "published quota", "secondary" or "assumption".
    basis: str = "published quota"


@cache
def limits(path: Path = LIMITS_PATH) -> dict[str, Limit]:
    """Every limit in ``path`` (default: the packaged file)."""
    table = read_toml(path, "limits file").get("limits")
    if not isinstance(table, dict) or not table:
        raise DataFileError(f"limits file {path}: no [limits.<name>] entries")
    found = {}
    for name, entry in table.items():
        fields = {k: entry.get(k) for k in ("value", "what", "source", "as_of")}
        if not isinstance(fields["value"], int) or not all(
            isinstance(fields[k], str) and fields[k] for k in ("what", "source", "as_of")
        ):
            raise DataFileError(f"limits file {path}: {name} needs value, what, source, as_of")
        adjustable = entry.get("adjustable")
        basis = entry.get("basis", "published quota")
        if adjustable is not None and not isinstance(adjustable, bool):
            raise DataFileError(f"limits file {path}: {name}: adjustable must be true or false")
        if basis not in ("published quota", "secondary", "assumption"):
            raise DataFileError(f"limits file {path}: {name}: unknown basis {basis!r}")
        found[name] = Limit(name, adjustable=adjustable, basis=basis, **fields)  # type: ignore[arg-type]
    return found


def limit(name: str) -> int:
    """The value of limit ``name``."""
    try:
        return limits()[name].value
    except KeyError:
        raise DataFileError(f"no limit {name!r} in {LIMITS_PATH}") from None
