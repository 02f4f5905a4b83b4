"""What ``deploy`` remembers about a stack on this machine: its outputs, its code bucket
(and whether deploy created it), and the authorizer's secret, which CloudFormation keeps
hidden (``NoEcho``) and tokens are minted with.

One private JSON file per stack and region, under ``$FANOUTSIM_STATE_DIR`` or
``~/.fanoutsim/stacks``, readable by its owner only (it holds a secret).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["forget", "load", "path_of", "save"]


def path_of(stack_name: str, region: str) -> Path:
    root = Path(os.environ.get("FANOUTSIM_STATE_DIR") or Path.home() / ".fanoutsim" / "stacks")
    return root / f"{region}-{stack_name}.json"


def load(stack_name: str, region: str) -> dict[str, Any]:
    """What was saved for the stack, or {} if nothing was."""
    path = path_of(stack_name, region)
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def save(stack_name: str, region: str, data: dict[str, Any]) -> Path:
    path = path_of(stack_name, region)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(data, file, indent=2, sort_keys=True)
    return path


def forget(stack_name: str, region: str) -> None:
    path_of(stack_name, region).unlink(missing_ok=True)
