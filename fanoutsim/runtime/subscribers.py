"""Simulated subscribers: real ``websockets`` clients that keep a flight board (named
apart from the handlers' boto3 clients in :mod:`fanoutsim.functions.aws_clients`).

Each client connects with ``?client=<name>`` (query strings reach ``$connect`` as on AWS),
so the gateway can label its posts with the same key the client uses for its receipts.
A client keeps the latest payload per flight (its board), the first receipt time of every
traced update, and counts duplicates (at-least-once delivery shows up here).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from fanoutsim import tracing
from fanoutsim.errors import ConnectRejected
from fanoutsim.feed import Feed

__all__ = ["Subscriber", "SubscriberPool"]


@dataclass
class Subscriber:
    """One subscriber and what it has seen."""

    name: str
    board: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_receipt: dict[str, float] = field(default_factory=dict)
    duplicates: int = 0
    #: Updates this client received more than once (at-least-once delivery).
    repeated: set[str] = field(default_factory=set)
    messages: int = 0
    other: list[Any] = field(default_factory=list)
    #: The flights this client follows (what per-flight fan-out sends it).
    flights: frozenset[str] = frozenset()
    #: A slow reader takes this long over each message (a fault plan's slow client).
    read_delay_s: float = 0.0
    #: The flight the newest update was about (what a board highlights).
    last_changed: str | None = None
    ws: ClientConnection | None = None
    task: asyncio.Task[None] | None = None
    replies: deque[asyncio.Future[Any]] = field(default_factory=deque, repr=False)

    def receive(self, message: str | bytes, at: float) -> str | None:
        """Record one message; return its trace id if it was a first receipt."""
        self.messages += 1
        try:
            payload = json.loads(message)
        except ValueError:
            self.other.append(message)
            return None
        if not isinstance(payload, dict) or "flightId" not in payload:
            self.other.append(payload)
            while self.replies:  # the oldest request still waiting takes this answer
                waiter = self.replies.popleft()
                if not waiter.done():
                    waiter.set_result(payload)
                    break
            return None
        self.board[str(payload["flightId"])] = payload
        self.last_changed = str(payload["flightId"])
        trace = tracing.from_message(payload)
        if trace is None:
            return None
        trace = sys.intern(trace)  # one string per update, not one per subscriber
        if trace in self.first_receipt:
            self.duplicates += 1
            self.repeated.add(trace)
            return None
        self.first_receipt[trace] = at
        return trace


class SubscriberPool:
    """The simulator's subscribers, on its event loop."""

    def __init__(self, url: str, feed: Feed, concurrency: int = 64) -> None:
        self.url = url
        self.feed = feed
        self.clients: dict[str, Subscriber] = {}
        self._next = 0
        self._limit = asyncio.Semaphore(concurrency)
        #: With an authorizer on ``$connect``: the token a client named so connects with
        #: (unless its query brings one).
        self.token_for: Callable[[str], str] | None = None
        self._slow: tuple[int, float] = (0, 0.0)  # clients still to make slow, and how slow
        #: Told the names of clients that are gone, however they went (left, cut, or closed
        #: by the server), once each, after they stopped being counted as connected.
        self.on_left: Callable[[list[str]], None] = lambda names: None
        #: What clients that have gone had counted, so a report still counts it.
        self._gone_duplicates = 0
        self._gone_repeated = 0

    def new_name(self) -> str:
        self._next += 1
        return f"c{self._next:05d}"

    async def connect(
        self, name: str | None = None, query: str = "", flights: Iterable[str] = ()
    ) -> Subscriber:
        """Connect one client following ``flights`` (``?flightId=`` at ``$connect``);
        raises :class:`ConnectRejected` if ``$connect`` refuses it."""
        client = Subscriber(name or self.new_name(), flights=frozenset(flights))
        if self._slow[0] > 0:
            client.read_delay_s = self._slow[1]
            self._slow = (self._slow[0] - 1, self._slow[1])
        params = [("client", client.name), *(("flightId", f) for f in sorted(client.flights))]
        if self.token_for is not None and "token=" not in query:
            params.append(("token", self.token_for(client.name)))
        url = f"{self.url}?{urlencode(params)}" + (f"&{query}" if query else "")
        async with self._limit:
            try:
                client.ws = await connect(url, ping_interval=None, compression=None, max_size=None)
            except InvalidStatus as error:
                raise ConnectRejected(error.response.status_code) from error
        self.clients[client.name] = client
        client.task = asyncio.ensure_future(self._listen(client))
        return client

    def _leave(self, name: str) -> Subscriber | None:
        """Stop counting ``name`` as connected, then tell :attr:`on_left` (first caller)."""
        client = self.clients.pop(name, None)
        if client is not None:
            self._gone_duplicates += client.duplicates
            self._gone_repeated += len(client.repeated)
            self.on_left([name])
        return client

    def duplicates(self) -> tuple[int, int]:
        """Duplicate messages, and updates received more than once, by every client so
        far, connected or gone (a duplicate that arrives while a client closes is lost)."""
        connected = list(self.clients.values())
        return (
            self._gone_duplicates + sum(c.duplicates for c in connected),
            self._gone_repeated + sum(len(c.repeated) for c in connected),
        )

    async def _listen(self, client: Subscriber) -> None:
        assert client.ws is not None
        try:
            await self._receive(client)
        finally:  # the server closed it (1009, DELETE, a timeout) or the network went
            if self.clients.get(client.name) is client:
                self._leave(client.name)

    async def _receive(self, client: Subscriber) -> None:
        assert client.ws is not None
        with contextlib.suppress(Exception):
            async for message in client.ws:
                if client.read_delay_s:
                    await asyncio.sleep(client.read_delay_s)
                trace = client.receive(message, time.perf_counter())
                if trace is not None:
                    self.feed.passed(
                        "receipt", (trace,), client.first_receipt[trace], key=client.name
                    )
                self.feed.changed("message", client)

    def make_slow(self, n: int, delay_s: float) -> None:
        """The ``n`` newest clients read slowly from now on (and the next ones to connect,
        if fewer are connected); everyone else at full speed."""
        newest = set(list(self.clients)[-n:]) if n else set()
        for name, client in self.clients.items():
            client.read_delay_s = delay_s if name in newest else 0.0
        self._slow = (n - len(newest), delay_s)

    async def add(self, n: int, flights: Iterable[str] = ()) -> list[Subscriber]:
        chosen = tuple(flights)
        return list(await asyncio.gather(*(self.connect(flights=chosen) for _ in range(n))))

    async def request(self, name: str, message: dict[str, Any], timeout: float = 10.0) -> Any:
        """Send ``message`` from client ``name`` and return the answer the API sends back
        (the next message that is not a flight update)."""
        client = self.clients[name]
        assert client.ws is not None
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        client.replies.append(answer)
        await client.ws.send(json.dumps(message))
        async with asyncio.timeout(timeout):
            return await answer

    async def change_subscriptions(self, name: str, action: str, flights: list[str]) -> Any:
        """``subscribe`` / ``unsubscribe`` by message; the client's flights follow the answer."""
        answer = await self.request(name, {"action": action, "flightIds": flights})
        if isinstance(answer, dict) and isinstance(answer.get("subscribed"), list):
            self.clients[name].flights = frozenset(answer["subscribed"])
        return answer

    async def forget(self, name: str) -> None:
        """Drop a client whose connection was cut (its listener ends on its own)."""
        client = self._leave(name)
        if client is not None and client.task is not None:
            await asyncio.wait([client.task], timeout=5)

    async def disconnect(self, name: str) -> None:
        """Close a client normally (``$disconnect`` runs); it stops being counted first,
        so an update published meanwhile is not owed to it."""
        client = self._leave(name)
        if client is None:
            return
        if client.ws is not None:
            await client.ws.close()
        if client.task is not None:
            await client.task

    async def remove_named(self, names: list[str]) -> None:
        await asyncio.gather(*(self.disconnect(name) for name in names))

    async def close(self) -> None:
        await self.remove_named(list(self.clients))
