"""The programs an execution environment runs: fanoutsim's own runtimes for Python
(:mod:`python_runtime`, standard library only) and Node.js (``node_runtime.mjs``). Each
polls the Lambda Runtime API (:mod:`fanoutsim.aws.runtime_api`) as Lambda's runtimes do."""

from pathlib import Path
from typing import Final

__all__ = ["NODE_RUNTIME", "PYTHON_RUNTIME"]

HERE: Final = Path(__file__).resolve().parent
PYTHON_RUNTIME: Final = HERE / "python_runtime.py"
NODE_RUNTIME: Final = HERE / "node_runtime.mjs"
