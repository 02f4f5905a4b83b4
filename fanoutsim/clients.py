"""``sim.clients``: the simulated subscribers, one noun with its verbs.

A read-only mapping of the connected clients by name, oldest first (``len``, ``in``,
``sim.clients["client-3"]``, ``.values()``), plus what one does with clients: add and
connect them, change what they follow, let them leave or cut their network, and read
their boards. Every verb runs on the simulator's loop and waits for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from fanoutsim import stack
from fanoutsim.aws import apigw
from fanoutsim.builder import Components
from fanoutsim.errors import SimulatorError
from fanoutsim.open_guard import open_only
from fanoutsim.runtime.loop_thread import LoopThread
from fanoutsim.runtime.subscribers import Subscriber, SubscriberPool
from fanoutsim.sample_flights import flight_id

__all__ = ["ClientPool", "Clients"]

T = TypeVar("T")


class ClientPool(Mapping[str, Subscriber]):
    """Clients of a stack, local or deployed: the connected ones by name, and the verbs
    every stack offers (add, connect, follow, leave, boards), driven on ``loop``."""

    def __init__(
        self, pool: SubscriberPool, loop: LoopThread, is_closed: Callable[[], bool]
    ) -> None:
        self._pool = pool
        self._loop = loop
        self._is_closed = is_closed

    @property
    def closed(self) -> bool:
        return self._is_closed()

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        return self._loop.run(coro, timeout)

    # ----------------------------------------------------------------- the mapping
    def __getitem__(self, name: str) -> Subscriber:
        return self._pool.clients[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._pool.clients))

    def __len__(self) -> int:
        return len(self._pool.clients)

    # ----------------------------------------------------------------- coming
    @open_only
    def add(self, n: int = 1, flights: Sequence[str] = ()) -> list[Subscriber]:
        """Connect ``n`` new clients (each through ``$connect`` and its table write), each
        following ``flights`` (``?flightId=`` at ``$connect``; what per-flight fan-out
        sends them). A sample flight may be named by its code (``"FS101"``)."""
        if n < 0:
            raise SimulatorError(f"the number of clients must be 0 or more, not {n}")
        flights = [flight_id(f) for f in flights]
        added = self._run(self._pool.add(n, flights), timeout=60 + n * 0.5)
        self._joined(len(added))
        return added

    def _joined(self, n: int) -> None:
        """After ``n`` clients connected (a deployed stack counts its calls)."""

    @open_only
    def connect(self, query: str = "") -> Subscriber:
        """Connect one client with extra query parameters (raises ConnectRejected)."""
        client: Subscriber = self._run(self._pool.connect(query=query))
        self._joined(1)
        return client

    # ----------------------------------------------------------------- following
    @open_only
    def subscribe(self, name: str, flights: Sequence[str]) -> list[str]:
        """Client ``name`` follows ``flights`` too (a ``subscribe`` message); returns every
        flight it follows now. Raises SimulatorError with the API's answer if refused."""
        return self._change(name, "subscribe", flights)

    @open_only
    def unsubscribe(self, name: str, flights: Sequence[str]) -> list[str]:
        """Client ``name`` stops following ``flights``; returns the flights it still follows."""
        return self._change(name, "unsubscribe", flights)

    def _change(self, name: str, action: str, flights: Sequence[str]) -> list[str]:
        if name not in self._pool.clients:
            raise SimulatorError(f"no connected client named {name!r}")
        wanted = [flight_id(f) for f in flights]
        answer = self._run(self._pool.change_subscriptions(name, action, wanted))
        if not isinstance(answer, dict) or "subscribed" not in answer:
            raise SimulatorError(f"{action} refused: {answer}")
        return list(answer["subscribed"])

    # ----------------------------------------------------------------- going
    @open_only
    def leave(self, which: int | Sequence[str]) -> list[str]:
        """Close clients normally (``$disconnect`` runs): the ``which`` newest, or those
        named. Their outstanding deliveries end as "left". Returns their names."""
        names = self._chosen(which)
        self._run(self._pool.remove_named(names))
        self._left(names)
        return names

    def _left(self, names: list[str]) -> None:
        """After ``names`` closed (a local stack waits for their ``$disconnect``)."""

    def _chosen(self, which: int | Sequence[str]) -> list[str]:
        if not isinstance(which, int):
            return list(which)
        if which < 0:
            raise SimulatorError(f"the number of clients must be 0 or more, not {which}")
        return list(self._pool.clients)[-which:] if which else []

    # ----------------------------------------------------------------- reading
    def boards(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Each client's flight board: client name -> flightId -> latest payload."""
        return {name: dict(c.board) for name, c in self._pool.clients.items()}


class Clients(ClientPool):
    """The simulator's clients: what every stack offers, and what only a local one can do
    (cut a client's network, write stale rows, list the gateway's open connections)."""

    def __init__(self, components: Components, is_closed: Callable[[], bool]) -> None:
        super().__init__(components.subscribers, components.loop, is_closed)
        self._c = components

    def _left(self, names: list[str]) -> None:
        self._run(self._c.gateway.disconnected(set(names)))

    @open_only
    def sever(self, which: int | Sequence[str]) -> list[str]:
        """Cut clients off without ``$disconnect`` (a lost network), the ``which`` newest or
        those named: their rows go stale until a post answers 410. Returns their names."""
        names = self._chosen(which)
        self._run(self._c.sever(names))
        return names

    @open_only
    def add_stale(self, n: int, pad_bytes: int = 0) -> list[str]:
        """Write ``n`` connection rows for connections that no longer exist, as a lost
        network leaves them (their first post answers 410 and deletes them). ``pad_bytes``
        makes each row that much bigger, so that fewer fill a 1 MB Scan page (as the extra
        attributes of a real application's rows would). The ids have the form of real
        ones, so they fall among the live rows in the table's key order; they are returned."""
        if n < 0 or not 0 <= pad_bytes <= 300_000:
            raise SimulatorError("n must be >= 0 and pad_bytes from 0 to 300,000")
        ids: list[str] = [apigw.new_connection_id() for _ in range(n)]  # spread as real ids
        now_ms = int(time.time() * 1000)
        for connection_id in ids:
            item = {"connectionId": {"S": connection_id}, "connectedAt": {"N": str(now_ms)}}
            if pad_bytes:
                item["pad"] = {"S": "x" * pad_bytes}
            self._c.dynamodb.put_item(TableName=stack.CONNECTIONS_TABLE, Item=item)
        return ids

    def labels(self) -> dict[str, str]:
        """Connection id -> client name, for the connections the gateway holds open."""
        return self._c.api.labels()
