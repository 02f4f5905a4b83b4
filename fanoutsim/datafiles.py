"""Reading the packaged (or a user's own) TOML data files, with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from fanoutsim.errors import DataFileError

__all__ = ["read_toml"]


def read_toml(file: Path, what: str) -> dict[str, Any]:
    """Parse ``file``; ``what`` names it in errors (e.g. ``"price file"``)."""
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataFileError(f"cannot read {what} {file}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(f"{what} {file} is not valid TOML: {exc}") from exc
