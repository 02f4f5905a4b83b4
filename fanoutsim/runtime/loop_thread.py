"""An asyncio event loop on a background thread, and the one door into it.

The gateway, the stream poller, the bus deliveries and the subscribers all live on this
loop. Code on any other thread reaches them only through :meth:`LoopThread.run` (a
coroutine, waited for), so no asyncio object is touched from the caller's thread.

The loop is uvloop's where it is installed (it is a dependency everywhere but Windows): the
same asyncio API over libuv, measured at about half the server CPU for each HTTP request
(``bench/connections_post.py``). ``FANOUTSIM_LOOP=asyncio`` asks for the standard library's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from fanoutsim.errors import ConfigError
from fanoutsim.runtime import log_limits

__all__ = ["LOOP_ENV", "LoopThread", "loop_kind", "new_loop", "peer_ip"]

T = TypeVar("T")
#: The environment variable that picks the loop: ``uvloop`` (the default where installed)
#: or ``asyncio``.
LOOP_ENV = "FANOUTSIM_LOOP"


def loop_kind() -> str:
    """``uvloop`` or ``asyncio``: what :func:`new_loop` makes here."""
    wanted = os.environ.get(LOOP_ENV, "uvloop").strip().lower() or "uvloop"
    if wanted not in ("uvloop", "asyncio"):
        raise ConfigError(f"{LOOP_ENV} must be 'uvloop' or 'asyncio', not {wanted!r}")
    if wanted == "uvloop":
        try:
            import uvloop  # noqa: F401
        except ImportError:
            return "asyncio"
    return wanted


def new_loop() -> asyncio.AbstractEventLoop:
    """A new event loop of :func:`loop_kind`."""
    if loop_kind() == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def peer_ip(transport: asyncio.BaseTransport | None) -> str:
    """The address of a transport's peer, or ``""``: uvloop's transport raises once its
    socket has closed, where asyncio's answers with the address it kept."""
    try:
        peer = transport.get_extra_info("peername") if transport is not None else None
    except (AttributeError, OSError):
        return ""
    return str(peer[0]) if peer else ""


class LoopThread:
    """Starts a loop in a daemon thread; :meth:`stop` ends it. What its servers log goes
    through :mod:`~fanoutsim.runtime.log_limits`."""

    def __init__(self, name: str = "fanoutsim") -> None:
        log_limits.install()
        self.loop = new_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run ``coro`` on the loop and wait for its result (raises TimeoutError)."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Wait for the loop's executor threads (``asyncio.to_thread`` work), then stop the
        loop and close it: ``loop.close()`` alone leaves those threads to end later, so a
        closed simulator could still hold a thread for a moment."""
        if self.loop.is_closed():
            return
        if self._thread.is_alive():
            with contextlib.suppress(Exception):  # a stuck executor job must not block closing
                self.run(self.loop.shutdown_default_executor(), timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()
