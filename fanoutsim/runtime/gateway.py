"""The emulated API Gateway WebSocket API's client side: a ``websockets`` server.

What it reproduces (see ``docs/fidelity.md``): a Lambda REQUEST authorizer, if attached
(:mod:`fanoutsim.aws.authorizer`), decides first and its 401/403/500 refuses the upgrade;
``$connect`` runs during the upgrade and a non-2xx answer (or a failing handler, as 502)
refuses it; messages are routed by
``$request.body.action`` to a route or ``$default``; ``$disconnect`` runs after close
(never for a cut connection); messages over 128 KB from a client close that connection
with 1009; messages to a client over 32 KB go out as 32 KB frames.

The management API's decisions are not made here: the gateway registers each connection
with :class:`~fanoutsim.aws.management.ManagementApi` and forgets it when it closes; the
transports (:mod:`~fanoutsim.runtime.gateway_http`, :mod:`~fanoutsim.runtime.inprocess`)
ask that API for a verdict and then call :meth:`Gateway.send` or
:meth:`Gateway.send_threadsafe` with the accepted message.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse

from fanoutsim import tracing
from fanoutsim.addresses import MISDIRECTED_TEXT, host_allowed
from fanoutsim.aws import apigw
from fanoutsim.aws import authorizer as auth
from fanoutsim.aws.authorizer import AuthorizerConfig
from fanoutsim.aws.management import ConnectionRecord, ManagementApi
from fanoutsim.aws.metering import Meter
from fanoutsim.aws.quotas import GatewayQuotas
from fanoutsim.errors import ValidationError
from fanoutsim.feed import Feed
from fanoutsim.room import ACK_ROUTE, RoomBook, clean_name
from fanoutsim.runtime import descriptors
from fanoutsim.runtime.authorizer_step import AuthorizerStep
from fanoutsim.runtime.client_socket import ClientSocket, forget_handshake, watch_lifetimes
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import FunctionRuntime, Invocation
from fanoutsim.runtime.loop_thread import peer_ip
from fanoutsim.runtime.outbox import Outbox

__all__ = ["Gateway"]


def _now_ms() -> int:
    return int(time.time() * 1000)


class Gateway:
    """One WebSocket API stage's sockets. Create, ``await start()``, use, ``await close()``."""

    def __init__(
        self,
        api: ManagementApi,
        runtime: FunctionRuntime,
        meter: Meter,
        feed: Feed,
        delays: Delays,
        *,
        routes: Mapping[str, str],
        stage: str = "prod",
        api_id: str = "fanoutsim",
        host: str = "127.0.0.1",
        port: int = 0,
        domain_name: str | None = None,
        authorizer: AuthorizerConfig | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        quotas: GatewayQuotas | None = None,
        allowed_hosts: frozenset[str] | None = None,
        room: RoomBook | None = None,
        pipeline_descriptors: int = 0,
    ) -> None:
        self.api = api
        self.runtime = runtime
        self.meter = meter
        self.feed = feed
        self.delays = delays
        self.routes = dict(routes)
        #: ``Host`` names the upgrade must carry (None: any, as on loopback).
        self.allowed_hosts = allowed_hosts
        #: The room's devices and acks; with a room, ``ack`` is a route of its own,
        #: answered by a mock integration (no function runs).
        self.room = room
        self._selectable = {**self.routes, ACK_ROUTE: ""} if room is not None else self.routes
        self._room_names: dict[str, str] = {}  # connection id -> device name
        self.stage = stage
        self.api_id = api_id
        self.host = host
        self._port = port
        #: ``https://{domain_name}/{stage}`` names the management endpoint, as on AWS (the
        #: builder sets it to the HTTP side's ``host:port``; the scheme is http locally).
        self.domain_name = domain_name or host
        self.region = region
        self.account = account
        #: The REQUEST authorizer, if one is attached (it decides before ``$connect``).
        self.authorizer = (
            AuthorizerStep(authorizer, runtime, auth.method_arn(region, account, api_id, stage))
            if authorizer is not None
            else None
        )
        self.quotas = quotas or GatewayQuotas()
        #: Descriptors the pipeline may open while running (runtime/descriptors.py).
        self.pipeline_descriptors = pipeline_descriptors
        self._admission = descriptors.Admission(None)
        self._new_connections = self.quotas.connection_bucket()
        self._sockets: dict[str, ClientSocket] = {}
        self._severed: set[str] = set()
        self._disconnecting: set[str] = set()
        self._pending: dict[ServerConnection, ClientSocket] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Per connection until its session starts: leaves for a client gone before the 101.
        self._reapers: dict[ServerConnection, asyncio.Task[None]] = {}
        self._lifetimes: asyncio.Task[None] | None = None
        self._server: Server | None = None
        self._outbox: Outbox | None = None
        self._gone = asyncio.Event()  # set whenever a connection has finished leaving
        #: Errors handling client messages (the latest ones; each cost only its message).
        self.errors: deque[str] = deque(maxlen=100)

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._outbox = Outbox(asyncio.get_running_loop(), self.delays, self._spawn)
        self._lifetimes = asyncio.ensure_future(
            watch_lifetimes(self._sockets.values, self.quotas, self._spawn)
        )
        self._admission = descriptors.Admission(
            descriptors.client_budget(self.pipeline_descriptors)
        )
        self._server = await serve(
            self._session,
            self.host,
            self._port,
            process_request=self._on_upgrade,
            # 128 KB a message, 32 KB a frame: either over closes the connection with 1009
            max_size=(apigw.MAX_PAYLOAD_BYTES, apigw.FRAME_BYTES),
            ping_interval=None,
            compression=None,
        )

    async def close(self) -> None:
        if self._lifetimes is not None:
            self._lifetimes.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._reapers:  # their connections are closed now: each leaves
            await asyncio.gather(*self._reapers.values(), return_exceptions=True)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def port(self) -> int:
        assert self._server is not None, "gateway not started"
        port: int = next(iter(self._server.sockets)).getsockname()[1]
        return port

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----------------------------------------------------------------- clients
    async def _on_upgrade(self, ws: ServerConnection, request: WsRequest) -> WsResponse | None:
        """``$connect``: runs during the upgrade; anything but 2xx refuses it."""
        path, _, query = request.path.partition("?")
        hosts = request.headers.get_all("Host")
        if self.allowed_hosts is not None and not (
            len(hosts) == 1 and host_allowed(hosts[0], self.allowed_hosts)
        ):
            return ws.respond(421, MISDIRECTED_TEXT)
        if path.rstrip("/") != f"/{self.stage}":
            return ws.respond(404, f"No stage at {path}\n")
        if self._admission.refuses(len(self._sockets)):
            return ws.respond(503, "Service Unavailable: out of file descriptors\n")
        if not self._new_connections.take():  # the account's new-connection rate
            self.api.rejected()
            return ws.respond(429, "Too Many Requests\n")
        connection_id = apigw.new_connection_id()
        now = _now_ms()
        source = apigw.EventSource(
            connection_id=connection_id,
            connected_at_ms=now,
            api_id=self.api_id,
            stage=self.stage,
            domain_name=self.domain_name,
            source_ip=peer_ip(ws.transport),
            user_agent=request.headers.get("User-Agent", ""),
        )
        query_params = apigw.multi_query_parameters(query)
        label = (query_params or {}).get("client", [connection_id])[-1]
        headers = apigw.edge_headers(
            dict(request.headers.raw_items()),
            source_ip=source.source_ip,
            port=self.port,
            proto="http",
            now_s=now / 1000,
        )
        request_id = apigw.new_request_id()
        event = apigw.connect_event(
            source, headers=headers, query=query_params, request_id=request_id
        )
        if self.authorizer is not None:
            decision = await self.authorizer.decide(event)
            if not decision.allowed:
                self.api.rejected()
                return ws.respond(decision.status, f"{decision.reason}\n")
            latency = _now_ms() - now
            source = replace(source, authorizer=decision.request_context(latency))
            event = apigw.connect_event(
                source, headers=headers, query=query_params, request_id=request_id
            )
        status = _status_of(await self.runtime.invoke_async(self.routes["$connect"], event))
        if not 200 <= status < 300:
            self.api.rejected()
            return ws.respond(status, f"$connect refused with {status}\n")
        record = ConnectionRecord(connection_id, source, label, now)
        if self.room is not None and "room" in (query_params or {}):
            self._room_names[connection_id] = clean_name((query_params or {})["room"][-1], label)
        socket = ClientSocket(record, ws)
        record.is_open = socket.is_open
        # Established as soon as $connect succeeds (as on AWS): posts made before the 101
        # response is out wait in the backlog instead of answering 410.
        self._pending[ws] = socket
        self._sockets[connection_id] = socket
        self.api.connected(record)
        self._reapers[ws] = asyncio.ensure_future(self._reap_if_never_opened(ws))
        return None

    async def _session(self, ws: ServerConnection) -> None:
        socket = self._pending.pop(ws)
        reaper = self._reapers.pop(ws, None)
        if reaper is not None:  # opened: its session leaves for it
            reaper.cancel()
        record = socket.record
        forget_handshake(ws)
        self.meter.connection_opened(record.id, time.time())
        if socket.backlog and not socket.draining:
            socket.draining = True
            self._spawn(socket.drain())
        self.feed.changed("connections")
        socket.opened_at = socket.active_at = asyncio.get_running_loop().time()
        name = self._room_names.get(record.id)
        if name is not None and self.room is not None:
            self.room.joined(record.id, record.label, name, time.perf_counter(), time.time())
        with contextlib.suppress(Exception):  # a broken client must not take the gateway down
            async for message in ws:
                socket.active_at = asyncio.get_running_loop().time()
                try:
                    await self._on_message(socket, message)
                except Exception as error:  # one bad message costs that message only
                    self.errors.append(f"{type(error).__name__}: {error}")
        await self._leave(record, ws)

    async def _leave(self, record: ConnectionRecord, ws: ServerConnection) -> None:
        """The connection is gone: posts answer 410 from now on, and ``$disconnect`` runs
        (unless the network was cut)."""
        self._sockets.pop(record.id, None)
        self.api.forget(record.id)
        self.meter.connection_closed(record.id, time.time())
        if self._room_names.pop(record.id, None) is not None and self.room is not None:
            self.room.left(record.id, time.perf_counter())
        if record.id not in self._severed:  # a cut connection never runs $disconnect
            self._disconnecting.add(record.label)
            try:
                await self._disconnect(record, ws)
            finally:
                self._disconnecting.discard(record.label)
        self._gone.set()
        self.feed.changed("connections")

    async def _reap_if_never_opened(self, ws: ServerConnection) -> None:
        """``$connect`` succeeded, so the connection exists (as on AWS); if the client goes
        before the 101 completes, no session ever starts: leave as a dropped client would,
        with ``$disconnect`` (1006), instead of keeping its state and row forever."""
        await asyncio.shield(ws.connection_lost_waiter)
        self._reapers.pop(ws, None)
        socket = self._pending.pop(ws, None)
        if socket is not None:
            await self._leave(socket.record, ws)

    def _present(self, labels: set[str]) -> bool:
        return bool(self._disconnecting & labels) or any(
            s.record.label in labels for s in self._sockets.values()
        )

    def settling(self) -> bool:
        """True while a closed connection is still leaving (its ``$disconnect`` to run)."""
        return bool(self._disconnecting) or any(not s.is_open() for s in self._sockets.values())

    async def quiet(self) -> None:
        """Return once no closed connection is still leaving."""
        while self.settling():
            self._gone.clear()
            await self._gone.wait()

    async def disconnected(self, labels: set[str], timeout: float = 10.0) -> None:
        """Wait until the clients ``labels`` are gone and their ``$disconnect`` has run."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._present(labels):
                    self._gone.clear()
                    await self._gone.wait()

    async def _disconnect(self, record: ConnectionRecord, ws: ServerConnection) -> None:
        protocol = ws.protocol
        sent, received = protocol.close_sent, protocol.close_rcvd
        code, reason = apigw.disconnect_status(
            (sent.code, sent.reason) if sent is not None else None,
            (received.code, received.reason) if received is not None else None,
            received_first=bool(protocol.close_rcvd_then_sent),
        )
        event = apigw.disconnect_event(
            record.source,
            status_code=code,
            reason=reason,
            now_ms=_now_ms(),
            request_id=apigw.new_request_id(),
        )
        await self.runtime.invoke_async(self.routes["$disconnect"], event)

    async def _on_message(self, socket: ClientSocket, message: str | bytes) -> None:
        record = socket.record
        record.last_active_ms = _now_ms()
        if isinstance(message, bytes):  # API Gateway takes text frames only
            await socket.ws.close(apigw.CLOSE_UNSUPPORTED_DATA, "Binary frames are not supported")
            return
        body = message
        self.meter.websocket_message(len(body.encode()))
        if not socket.inbound.take():  # too chatty: drop it, and say so once
            socket.throttled += 1
            if socket.throttled == 1:
                reply = apigw.error_frame("Too Many Requests", record.id, apigw.new_request_id())
                socket.deliver(reply.encode(), self._spawn)
            return
        socket.throttled = 0
        try:
            route = apigw.select_route(body, self._selectable)
        except ValidationError:
            route = ""
        if route == ACK_ROUTE and self.room is not None:  # the room's mock integration
            reply = self.room.ack(record.id, body, time.perf_counter())
            socket.deliver(reply.encode(), self._spawn)
            self.feed.changed("message")  # the room panel redraws
            return
        function = self.routes.get(route) if route not in ("$connect", "$disconnect") else None
        if function is None:
            reply = apigw.error_frame("Forbidden", record.id, apigw.new_request_id())
            socket.deliver(reply.encode(), self._spawn)
            return
        event = apigw.message_event(
            record.source,
            body,
            route,
            now_ms=record.last_active_ms,
            request_id=apigw.new_request_id(),
            message_id=apigw.new_request_id(),
        )
        invocation = await self.runtime.invoke_async(function, event)
        result = invocation.result
        if not invocation.ok:  # the integration failed: API Gateway tells the client so
            reply = apigw.error_frame("Internal server error", record.id, event_request_id(event))
            socket.deliver(reply.encode(), self._spawn)
        elif isinstance(result, dict) and isinstance(result.get("body"), str):
            socket.deliver(result["body"].encode(), self._spawn)

    # ----------------------------------------------------------------- sending
    def _accepted(self, record: ConnectionRecord, data: bytes) -> ClientSocket | None:
        self.meter.websocket_message(len(data))
        trace_id = tracing.from_payload(data)
        if trace_id is not None:
            self.feed.passed("post", (trace_id,), key=record.label)
        return self._sockets.get(record.id)

    def send(self, record: ConnectionRecord, data: bytes) -> None:
        """Send a post the management API accepted (on the event loop's thread)."""
        socket = self._accepted(record, data)
        if socket is not None and self._outbox is not None:
            self._outbox.send(socket, data)

    def send_threadsafe(self, record: ConnectionRecord, data: bytes) -> None:
        """Like :meth:`send`, from a worker thread (the in-process transport)."""
        socket = self._accepted(record, data)
        if socket is not None and self._outbox is not None:
            self._outbox.send_threadsafe(socket, data)

    async def close_connection(self, record: ConnectionRecord) -> None:
        """``DeleteConnection``: close the socket with 1000 and wait for the handshake."""
        socket = self._sockets.get(record.id)
        if socket is not None:
            await socket.ws.close(1000, apigw.DELETED_REASON)

    def sever(self, label: str) -> None:
        """Cut a client's connection as a network failure would: ``$disconnect`` never runs
        (it is best effort on AWS), so its row stays until a post answers 410."""
        for socket in list(self._sockets.values()):
            if socket.record.label == label and socket.ws.state.name == "OPEN":
                self._sockets.pop(socket.record.id, None)
                self.api.forget(socket.record.id)
                self._severed.add(socket.record.id)
                socket.ws.transport.abort()


def event_request_id(event: dict[str, Any]) -> str:
    return str(event["requestContext"]["requestId"])


def _status_of(invocation: Invocation) -> int:
    if not invocation.ok:
        return 502
    result = invocation.result
    if isinstance(result, dict):
        return int(result.get("statusCode", 200))
    return 200
