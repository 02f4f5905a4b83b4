"""How many file descriptors this process has left, so servers refuse new clients in time.

A process at its descriptor limit cannot even accept a connection to refuse it: asyncio's
accept fails with EMFILE and the client waits in the kernel's backlog until it times out
(20 s and more with 256 descriptors, macOS's default). So a gateway works out, when it
starts, how many clients it can hold (:func:`client_budget`): the limit, less what is open
then, less what the pipeline may still open (:func:`pipeline_need`, both ends of each
loopback post in flight), less a :data:`RESERVE`. Past that it answers 503 at once, and
lets new clients in again as soon as others leave. Counting clients rather than free
descriptors keeps the answer the same however far the pipeline's pools have grown: free
descriptors alone admitted clients while the pools were still small, and the pipeline
then had to fight them for descriptors.
"""

from __future__ import annotations

import logging
import os
import resource

__all__ = [
    "RECOUNT_EVERY",
    "RESERVE",
    "Admission",
    "client_budget",
    "limit",
    "open_count",
    "pipeline_need",
    "spare",
]

_log = logging.getLogger("fanoutsim.descriptors")  # rate-limited: see log_limits

#: Descriptors kept free beyond the pipeline's posts: a connection pool past its size
#: (urllib3 opens and drops extra connections), subscribers, files, a second stack.
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


def pipeline_need(post_concurrency: int) -> int:
    """Descriptors the pipeline may hold on top of its listeners: each post in flight to
    ``@connections`` is a loopback connection, both ends in this process."""
    return 2 * post_concurrency


def client_budget(pipeline: int) -> int | None:
    """How many clients this process can take on now and still leave ``pipeline`` and
    :data:`RESERVE` descriptors free, or None when the limit cannot be told."""
    left = spare()
    return None if left is None else max(0, left - pipeline - RESERVE)


class Admission:
    """Whether a new client may come in: not once ``budget`` clients are connected nor,
    whatever the budget, once fewer than half the :data:`RESERVE` descriptors are left.
    The descriptors are listed again only when :data:`RECOUNT_EVERY` clients have come or
    gone since the last count, or when that count left little spare: a listing costs
    about half a millisecond at 1,000 open, so listing on every connect made connecting
    n clients cost n squared."""

    def __init__(self, budget: int | None) -> None:
        self.budget = budget
        self._counted_at: int | None = None  # clients connected at the last count
        self._left = 0  # spare descriptors at the last count

    def refuses(self, clients: int) -> bool:
        """True (and a log line saying so and what to do) when the client must get 503."""
        if self.budget is not None and clients >= self.budget:
            return _refused()
        stale = self._counted_at is None or abs(clients - self._counted_at) >= RECOUNT_EVERY
        if stale or self._left < 2 * RESERVE:
            left = spare()
            if left is None:
                return False
            self._counted_at, self._left = clients, left
        assert self._counted_at is not None
        # each client since the count holds one more descriptor
        if self._left - max(0, clients - self._counted_at) >= RESERVE // 2:
            return False
        return _refused()


#: Clients that may connect or leave between two counts of the open descriptors.
RECOUNT_EVERY = 16


def _refused() -> bool:
    _log.warning(
        "refusing new connections with 503: %s of %s file descriptors open (ulimit -n); "
        "connected clients are still served. Close clients or raise the limit.",
        open_count(),
        limit(),
    )
    return True
