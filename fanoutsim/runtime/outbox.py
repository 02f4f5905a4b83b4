"""Posts on their way to clients: each after the profile's client network delay, in order
per connection, and from worker threads with one loop wake-up per burst rather than per
post (the in-process transport posts from the handlers' threads)."""

from __future__ import annotations

import asyncio
from collections import deque

from fanoutsim.runtime.client_socket import ClientSocket, Spawn
from fanoutsim.runtime.delays import Delays

__all__ = ["Outbox"]


class Outbox:
    """Sends accepted posts on ``loop``; ``spawn`` runs a socket's drain task."""

    def __init__(self, loop: asyncio.AbstractEventLoop, delays: Delays, spawn: Spawn) -> None:
        self._loop = loop
        self._delays = delays
        self._spawn = spawn
        self._waiting: deque[tuple[ClientSocket, bytes]] = deque()
        self._wake_scheduled = False

    def send(self, socket: ClientSocket, data: bytes) -> None:
        """Deliver after the client network delay (on the loop's thread)."""
        delay = self._delays.draw_s("client_network")
        if delay <= 0 and socket.not_before == 0.0:
            socket.deliver(data, self._spawn)
            return
        at = max(self._loop.time() + delay, socket.not_before)
        socket.not_before = at  # a later post never overtakes an earlier one
        self._loop.call_at(at, socket.deliver, data, self._spawn)

    def send_threadsafe(self, socket: ClientSocket, data: bytes) -> None:
        """Like :meth:`send`, from any thread."""
        self._waiting.append((socket, data))
        if not self._wake_scheduled:
            self._wake_scheduled = True
            self._loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        self._wake_scheduled = False
        while self._waiting:
            self.send(*self._waiting.popleft())
