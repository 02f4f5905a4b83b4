"""``python -m fanoutsim``: the same command line as ``fanoutsim``."""

from __future__ import annotations

from fanoutsim.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())
