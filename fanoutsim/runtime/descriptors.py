"""How many file descriptors this process has left, so servers refuse new clients in time.

A process at its descriptor limit cannot even accept a connection to refuse it: asyncio's
accept fails with EMFILE and the client waits in the kernel's backlog until it times out
(20 s and more with 256 descriptors, macOS's default). The gateway asks :func:`spare`
before each upgrade and answers 503 while fewer than :data:`RESERVE` remain, so new
clients hear "no" at once, the reserve keeps the running pipeline's own calls working, and
new clients are let in again as soon as descriptors free.
"""

from __future__ import annotations

import logging
import os
import resource

__all__ = ["RESERVE", "limit", "open_count", "running_short", "spare"]

_log = logging.getLogger("fanoutsim.descriptors")  # rate-limited: see log_limits

#: Descriptors kept for the pipeline itself (its HTTP calls to @connections and the AWS
#: endpoint use both ends of a loopback socket, up to a pool of 10 per client).
RESERVE = 64

_LISTINGS = ("/proc/self/fd", "/dev/fd")  # Linux, then macOS and the BSDs


def limit() -> int | None:
    """The soft ``RLIMIT_NOFILE`` (``ulimit -n``), or None when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def open_count() -> int | None:
    """Descriptors open in this process now, or None where the system does not list them."""
    for listing in _LISTINGS:
        try:
            return len(os.listdir(listing)) - 1  # the listing's own descriptor
        except OSError:
            continue
    return None


def spare() -> int | None:
    """Descriptors this process can still open, or None when it cannot be told."""
    most, now = limit(), open_count()
    return None if most is None or now is None else most - now


def running_short() -> bool:
    """True (and a log line saying so and what to do) while fewer than :data:`RESERVE`
    descriptors are left."""
    left = spare()
    if left is None or left >= RESERVE:
        return False
    _log.warning(
        "refusing new connections with 503: %s of %s file descriptors open (ulimit -n); "
        "connected clients are still served. Close clients or raise the limit.",
        open_count(),
        limit(),
    )
    return True
