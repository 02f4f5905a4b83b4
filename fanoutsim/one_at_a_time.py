"""One simulator per process: the handlers read their configuration from the process
environment, as on Lambda, so two stacks in one process would read each other's.

:func:`claim` takes the process's slot (or says how to free it), :func:`release` gives it
back, and the interpreter's exit closes what is still open (a notebook's kernel keeps a
simulator up after Run All for its widgets; nothing outlives the kernel). In a Jupyter
kernel, one kernel runs one notebook, so a simulator still open there was left by an
earlier run of the same notebook: Run All a second time closes it instead of stopping.
"""

from __future__ import annotations

import atexit
import contextlib
import sys
import threading
from typing import Protocol

from fanoutsim.errors import SimulatorError

__all__ = ["Closable", "claim", "in_notebook_kernel", "release"]


class Closable(Protocol):
    def close(self) -> None: ...


_lock = threading.Lock()
_open: list[Closable] = []


def in_notebook_kernel() -> bool:
    """Whether this process is a Jupyter kernel."""
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and type(get()).__name__ == "ZMQInteractiveShell"


def claim(owner: Closable) -> None:
    """Take the process's slot for ``owner``; in a notebook's kernel, close the simulator an
    earlier run left open first. Raises :class:`SimulatorError` if another is open."""
    if _open and in_notebook_kernel():
        for previous in list(_open):
            previous.close()
        print("fanoutsim: closed the simulator an earlier run of this notebook left open")
    with _lock:
        if _open:
            raise SimulatorError(
                "another Simulator is open in this process; close it first "
                "(sim.close(), or leave its `with` block)"
            )
        _open.append(owner)


def release(owner: Closable) -> None:
    """Give the slot back (safe to call twice)."""
    with _lock:
        if owner in _open:
            _open.remove(owner)


@atexit.register
def _close_at_exit() -> None:
    for owner in list(_open):
        with contextlib.suppress(Exception):
            owner.close()
