"""What handlers print goes to their invocation's log, as Lambda sends it to CloudWatch.

While a function runtime is up, ``sys.stdout`` is a :class:`LogRouter`: a write made inside
an invocation (its handler's thread, or a thread started in its context) is kept in that
invocation's ``logs``; any other write goes to the stdout that was there before (a notebook
cell's output, the CLI's JSON). So a handler's log lines never land in someone's output.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar
from typing import Any, TextIO

__all__ = ["MAX_LOG_WRITES", "LogRouter", "install", "uninstall"]

MAX_LOG_WRITES = 200  # kept per invocation; older writes are dropped


class LogRouter:
    """A stdout that routes invocation writes to the invocation."""

    def __init__(self, target: TextIO, current: ContextVar[Any]) -> None:
        self.target = target
        self.current = current  # the invocation running in this context, or None
        self.users = 0

    def write(self, text: str) -> int:
        invocation = self.current.get()
        if invocation is None:
            return self.target.write(text)
        logs = invocation.logs
        logs.append(text)
        if len(logs) > MAX_LOG_WRITES:
            del logs[0]
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


def install(current: ContextVar[Any]) -> None:
    """Route stdout by ``current`` (an invocation with a ``logs`` list, or None); once,
    however many runtimes are up."""
    router = sys.stdout if isinstance(sys.stdout, LogRouter) else LogRouter(sys.stdout, current)
    router.users += 1
    sys.stdout = router  # type: ignore[assignment]


def uninstall() -> None:
    """Undo :func:`install` when the last runtime closes (if stdout is still ours)."""
    router = sys.stdout
    if isinstance(router, LogRouter):
        router.users -= 1
        if router.users <= 0:
            sys.stdout = router.target
