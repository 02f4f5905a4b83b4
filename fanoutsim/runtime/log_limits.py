"""Repeated log lines, rate-limited: a server short of file descriptors must not also flood
its log.

asyncio logs ``socket.accept() out of system resource`` on every failed accept; with the
process at its descriptor limit that was ~1,400 lines a second. :class:`RepeatFilter` lets
the first line of each kind through, then one per interval that says how many it held back.
A kind is the logger and the message's template (``record.msg``, before its arguments), so
distinct errors still show at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["LIMITED_LOGGERS", "RepeatFilter", "install"]

#: The loggers that log per connection or per failed accept (a logger's filters see only
#: its own records, not its children's, so each is named).
LIMITED_LOGGERS = ("asyncio", "websockets.server", "websockets.client", "fanoutsim.descriptors")


class RepeatFilter(logging.Filter):
    """Passes a kind of warning or error at most once per ``interval_s``; the next one to
    pass says how many were held back in between. Debug and info lines, asked for, pass."""

    def __init__(self, interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval_s = interval_s
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind = (record.name, str(record.msg)[:200])
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self.interval_s:
            self._held[kind] = self._held.get(kind, 0) + 1
            return False
        if len(self._last) > 1000:  # bounded: past 1,000 kinds, start afresh
            self._last.clear()
            self._held.clear()
        self._last[kind] = now
        held = self._held.pop(kind, 0)
        if held and last is not None:
            record.msg = f"{record.msg} ({held} more like this in the last {now - last:.0f} s)"
        return True


def install(interval_s: float = 10.0) -> RepeatFilter:
    """Put one :class:`RepeatFilter` on each of :data:`LIMITED_LOGGERS` (once per process;
    later calls return the filter already there)."""
    for name in LIMITED_LOGGERS:
        for existing in logging.getLogger(name).filters:
            if isinstance(existing, RepeatFilter):
                return existing
    limiter = RepeatFilter(interval_s)
    for name in LIMITED_LOGGERS:
        logging.getLogger(name).addFilter(limiter)
    return limiter
