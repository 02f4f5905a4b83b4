"""The simulator's verbs about clients: connect, subscribe, leave, cut, and tokens.

A base of :class:`~fanoutsim.simulator.Simulator`, apart so that each file reads in one go;
it owns the guard every verb that reaches AWS or the sockets goes through.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, ParamSpec, TypeVar

from fanoutsim import stack
from fanoutsim.aws import apigw
from fanoutsim.builder import Stack
from fanoutsim.errors import SimulatorError
from fanoutsim.functions import tokens
from fanoutsim.runtime.subscribers import Subscriber

__all__ = ["ClientVerbs", "open_only"]

T = TypeVar("T")
P = ParamSpec("P")


def open_only(method: Callable[P, T]) -> Callable[P, T]:
    """Refuse the call on a closed simulator (it would otherwise reach real AWS)."""

    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        sim = args[0]
        assert isinstance(sim, ClientVerbs)
        if sim._closed:
            raise SimulatorError(f"the simulator is closed: {method.__name__}() needs an open one")
        return method(*args, **kwargs)

    return guarded


class ClientVerbs:
    """Clients of a running stack (``_stack``), driven on its loop."""

    _stack: Stack
    _closed: bool

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run ``coro`` on the simulator's loop and wait for its result."""
        assert self._stack.loop is not None
        return self._stack.loop.run(coro, timeout)

    @property
    def _subscribers(self) -> Any:
        return self._stack.subscribers

    @property
    def credentials(self) -> tuple[str, str]:
        """The access key id and secret the management API accepts."""
        return self._stack.options.credentials

    @property
    def auth_secret(self) -> str:
        """The secret ``$connect`` tokens are signed with (for clients of one's own, and
        for driving this simulator with :class:`~fanoutsim.deploy.remote.RemoteStack`)."""
        return self._stack.options.auth_secret

    @open_only
    def mint_token(self, user: str, ttl_s: int = 3600) -> str:
        """A ``$connect`` token for ``user``, valid ``ttl_s`` seconds, signed with this
        simulator's secret (pass it as ``?token=`` or ``Authorization: Bearer``)."""
        return tokens.mint(user, self._stack.options.auth_secret, ttl_s=ttl_s)

    @property
    def fanout(self) -> str:
        """``"broadcast"`` or ``"per-flight"``."""
        return self._stack.options.fanout

    @open_only
    def add_clients(self, n: int = 1, flights: Sequence[str] = ()) -> list[Subscriber]:
        """Connect ``n`` new subscribers (each through ``$connect`` and its table write),
        each following ``flights`` (``?flightId=`` at ``$connect``; what per-flight fan-out
        sends them)."""
        if n < 0:
            raise SimulatorError(f"the number of clients must be 0 or more, not {n}")
        return self._run(self._subscribers.add(n, flights), timeout=60 + n * 0.1)

    @open_only
    def subscribe(self, name: str, flights: Sequence[str]) -> list[str]:
        """Client ``name`` follows ``flights`` too (a ``subscribe`` message); returns every
        flight it follows now. Raises SimulatorError with the API's answer if refused."""
        return self._subscriptions(name, "subscribe", flights)

    @open_only
    def unsubscribe(self, name: str, flights: Sequence[str]) -> list[str]:
        """Client ``name`` stops following ``flights``; returns the flights it still follows."""
        return self._subscriptions(name, "unsubscribe", flights)

    def _subscriptions(self, name: str, action: str, flights: Sequence[str]) -> list[str]:
        if name not in self._subscribers.clients:
            raise SimulatorError(f"no connected client named {name!r}")
        answer = self._run(self._subscribers.change_subscriptions(name, action, list(flights)))
        if not isinstance(answer, dict) or "subscribed" not in answer:
            raise SimulatorError(f"{action} refused: {answer}")
        return list(answer["subscribed"])

    @open_only
    def remove_clients(self, n: int = 1) -> list[str]:
        """Disconnect the ``n`` newest subscribers; their expected deliveries are dropped."""
        return self.clients_leave(list(self._subscribers.clients)[-n:] if n > 0 else [])

    @open_only
    def clients_leave(self, names: list[str]) -> list[str]:
        """Disconnect the named subscribers (a normal close: ``$disconnect`` runs)."""
        self._run(self._subscribers.remove_named(names))
        assert self._stack.gateway is not None
        self._run(self._stack.gateway.disconnected(set(names)))
        return names

    @open_only
    def connect_client(self, query: str = "") -> Subscriber:
        """Connect one subscriber with extra query parameters (raises ConnectRejected)."""
        client: Subscriber = self._run(self._subscribers.connect(query=query))
        return client

    @open_only
    def add_stale_connections(self, n: int, pad_bytes: int = 0) -> list[str]:
        """Write ``n`` connection rows for connections that no longer exist, as a lost
        network leaves them (their first post answers 410 and deletes them). ``pad_bytes``
        makes each row that much bigger, so that fewer fill a 1 MB Scan page (as the extra
        attributes of a real application's rows would). The ids have the form of real ones, so
        they fall among the live rows in the table's key order; the ids are returned."""
        if n < 0 or not 0 <= pad_bytes <= 300_000:
            raise SimulatorError("n must be >= 0 and pad_bytes from 0 to 300,000")
        ids: list[str] = [apigw.new_connection_id() for _ in range(n)]  # spread as real ids
        now_ms = int(time.time() * 1000)
        for connection_id in ids:
            item = {"connectionId": {"S": connection_id}, "connectedAt": {"N": str(now_ms)}}
            if pad_bytes:
                item["pad"] = {"S": "x" * pad_bytes}
            self._stack.dynamodb.put_item(TableName=stack.CONNECTIONS_TABLE, Item=item)
        return ids

    @open_only
    def subscribers(self) -> dict[str, Subscriber]:
        """The connected subscribers by name, oldest first."""
        return dict(self._subscribers.clients)

    @open_only
    def sever_client(self, name: str) -> None:
        """Cut a client off without ``$disconnect`` (a lost network): its row goes stale."""
        self._run(self._stack.sever([name]))
