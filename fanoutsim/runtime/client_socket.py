"""One client connection on the gateway's side: its socket, its outgoing queue in order,
and the times its lifetime quotas are measured from.

Small messages go out at once when nothing is queued; anything larger than a 32 KB frame,
or sent while the socket is busy, waits in the backlog and is drained as 32 KB frames, so
the order of messages to one client is kept.

Bounds, so that a client hurts only itself (simulator bounds: AWS documents none per
connection): a client that does not read is cut off once :data:`MAX_SEND_BUFFER_BYTES`
wait for it (its ``$disconnect`` then runs with 1006), and a client may send
:data:`MESSAGES_PER_S` messages a second (burst :data:`MESSAGES_BURST`); past that its
messages are dropped and it is told once with a ``Too Many Requests`` frame.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.datastructures import Headers

from fanoutsim.aws import apigw
from fanoutsim.aws.management import ConnectionRecord
from fanoutsim.aws.quotas import GatewayQuotas, TokenBucket

__all__ = [
    "CLOSE_GOING_AWAY",
    "MAX_SEND_BUFFER_BYTES",
    "MESSAGES_BURST",
    "MESSAGES_PER_S",
    "ClientSocket",
    "forget_handshake",
    "watch_lifetimes",
]

#: The close code API Gateway sends at the idle timeout and the maximum duration.
CLOSE_GOING_AWAY = 1001
_WATCH_S = 1.0  # how often a connection's lifetime and send buffer are checked

MAX_SEND_BUFFER_BYTES = 4 * 1024 * 1024
MESSAGES_PER_S = 50.0
MESSAGES_BURST = 100.0

Spawn = Callable[[Coroutine[Any, Any, None]], None]


@dataclass(slots=True)
class ClientSocket:
    """A registered connection's socket and its outgoing queue."""

    record: ConnectionRecord
    ws: ServerConnection
    backlog: deque[bytes] = field(default_factory=deque)
    not_before: float = 0.0  # loop time before which no delayed message may go out
    draining: bool = False
    opened_at: float = 0.0  # loop time of the upgrade
    active_at: float = 0.0  # loop time of the last message either way (idle timeout)
    inbound: TokenBucket = field(
        default_factory=lambda: TokenBucket(MESSAGES_PER_S, MESSAGES_BURST)
    )
    throttled: int = 0  # client messages dropped for the rate
    expiring: bool = False  # closing for its idle timeout or maximum duration

    def buffered(self) -> int:
        """Bytes waiting for this client: queued here and in the transport."""
        transport = self.ws.transport
        waiting = transport.get_write_buffer_size() if transport is not None else 0
        return waiting + sum(len(b) for b in self.backlog)

    def overflowing(self) -> bool:
        """True (and the connection cut) once too much waits for a client that does not
        read."""
        if self.buffered() <= MAX_SEND_BUFFER_BYTES:
            return False
        if self.ws.transport is not None:
            self.ws.transport.abort()
        return True

    def is_open(self) -> bool:
        return self.ws.state.name not in ("CLOSING", "CLOSED")

    def deliver(self, data: bytes, spawn: Spawn) -> None:
        """Send in order; small messages go out synchronously, large ones as 32 KB frames
        (``spawn`` starts the drain task on the loop). A message to the client resets the
        idle timer, as a client's message does: servers keep a receive-only client open
        with keep-alive posts."""
        if self.overflowing():
            return
        self.active_at = asyncio.get_running_loop().time()
        small = len(data) <= apigw.FRAME_BYTES
        ws = self.ws
        opened = ws.state.name == "OPEN"
        if small and opened and not self.draining and ws.send_in_progress is None:
            broadcast([ws], data, text=is_utf8(data))
            return
        self.backlog.append(data)
        if opened and not self.draining:
            self.draining = True
            spawn(self.drain())

    def lifetime_end(self, quotas: GatewayQuotas) -> float:
        """Loop time at which the connection will have been idle (no message either way)
        for the idle timeout, or open for the maximum duration, whichever comes first."""
        return min(self.active_at + quotas.idle_timeout_s, self.opened_at + quotas.max_connection_s)

    async def drain(self) -> None:
        try:
            while self.backlog:
                data = self.backlog.popleft()
                frames = apigw.split_frames(data)
                with contextlib.suppress(Exception):
                    if is_utf8(data):
                        await self.ws.send([f.decode("utf-8", "replace") for f in frames])
                    else:
                        await self.ws.send(frames)
        finally:
            self.draining = False


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def watch_lifetimes(
    sockets: Callable[[], Iterable[ClientSocket]], quotas: GatewayQuotas, spawn: Spawn
) -> None:
    """One watcher for every open connection (a task each would hold about a KiB a
    connection): each whose idle timeout or maximum duration has come is closed with 1001,
    as API Gateway closes it (its ``$disconnect`` then runs with that status); each whose
    client lets too much pile up is cut. Wakes when the next one is due, or every second."""
    loop = asyncio.get_running_loop()
    while True:
        now = loop.time()
        wake = now + _WATCH_S
        for socket in list(sockets()):
            if not socket.opened_at or socket.expiring:
                continue  # not open yet (the upgrade's 101 is not out), or already going
            end = socket.lifetime_end(quotas)
            if now >= end:
                socket.expiring = True
                spawn(_going_away(socket.ws))
            elif not socket.overflowing():  # overflowing cuts it (e.g. unread pongs)
                wake = min(wake, end)
        await asyncio.sleep(max(0.0, wake - loop.time()))


async def _going_away(ws: ServerConnection) -> None:
    with contextlib.suppress(Exception):
        await ws.close(CLOSE_GOING_AWAY, "Going away")


def forget_handshake(ws: ServerConnection) -> None:
    """Drop the opening handshake's headers, both ways: ``$connect`` has read them (the
    event source keeps what later events need), and websockets would keep them for the
    connection's life, about 2 KiB a connection."""
    if ws.request is not None:
        ws.request = replace(ws.request, headers=Headers())
    if ws.response is not None:
        ws.response = replace(ws.response, headers=Headers())
