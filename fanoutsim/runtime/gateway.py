"""The emulated API Gateway WebSocket API: a ``websockets`` server for the clients and an
HTTP server for the management API (``@connections``) and the REST endpoint.

What it reproduces (see DESIGN.md §2): ``$connect`` runs during the upgrade and a failure
refuses it with that status; messages are routed by ``$request.body.action`` to a route or
``$default``; ``$disconnect`` runs after close; ``PostToConnection`` answers 410 for unknown
or closed ids and 413 over 128 KB, and splits messages into 32 KB frames; messages over
128 KB from a client close that connection with 1009. Two transports reach the same
``post`` semantics: real HTTP (any SDK, SigV4 header required) and an in-process call.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse

from fanoutsim.aws import apigw
from fanoutsim.aws.metering import Meter
from fanoutsim.errors import ValidationError
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import FunctionRuntime
from fanoutsim.runtime.gateway_http import GatewayHttp, gone, parse_query
from fanoutsim.runtime.http_server import HttpServer
from fanoutsim.tracing import Tracer

PostError = tuple[int, dict[str, str], bytes]


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Connection:
    """A connected client, as the gateway knows it."""

    id: apigw.ConnectionId
    ws: ServerConnection
    source: apigw.EventSource  # stamped on every event of this connection
    label: str
    last_active_ms: int = 0
    backlog: deque[bytes] = field(default_factory=deque)
    not_before: float = 0.0  # loop time before which no delayed message may go out
    draining: bool = False


@dataclass
class PostFaults:
    """Fault injection for teaching retries: after ``after`` more good posts, fail the next
    ``count`` posts with ``status``."""

    count: int = 0
    status: int = 500
    after: int = 0


class Gateway:
    """One WebSocket API stage. Create, ``await start()``, use, ``await close()``."""

    def __init__(
        self,
        runtime: FunctionRuntime,
        meter: Meter,
        tracer: Tracer,
        *,
        routes: Mapping[str, str],
        rest_routes: Mapping[str, str] | None = None,
        stage: str = "prod",
        api_id: str = "fanoutsim",
        host: str = "127.0.0.1",
        delays: Delays | None = None,
    ) -> None:
        self.runtime = runtime
        self.meter = meter
        self.tracer = tracer
        self.routes = dict(routes)
        self.rest_routes = dict(rest_routes or {})
        self.stage = stage
        self.api_id = api_id
        self.host = host
        self.delays = delays
        self.connections: dict[str, Connection] = {}
        self.faults = PostFaults()
        self.counts = {"posted": 0, "gone": 0, "failed": 0, "rejected_connects": 0}
        self.on_change: list[Callable[[], None]] = []
        self.severed: set[str] = set()
        self._disconnecting: set[str] = set()
        self._pending: dict[ServerConnection, Connection] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ws_server: Server | None = None
        self._http = HttpServer(GatewayHttp(self).handle, host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outgoing: deque[tuple[Connection, bytes]] = deque()
        self._flush_scheduled = False

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._ws_server = await serve(
            self._session,
            self.host,
            0,
            process_request=self._on_upgrade,
            max_size=apigw.MAX_PAYLOAD_BYTES,
            ping_interval=None,
            compression=None,
        )
        await self._http.start()

    async def close(self) -> None:
        if self._ws_server is not None:
            self._ws_server.close()
            await self._ws_server.wait_closed()
        await self._http.close()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def ws_port(self) -> int:
        assert self._ws_server is not None, "gateway not started"
        port: int = next(iter(self._ws_server.sockets)).getsockname()[1]
        return port

    @property
    def endpoints(self) -> dict[str, str]:
        http = f"http://{self.host}:{self._http.port}/{self.stage}"
        return {
            "websocket": f"ws://{self.host}:{self.ws_port}/{self.stage}",
            "management": http,
            "rest": http,
            "page": f"http://{self.host}:{self._http.port}/",
        }

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _changed(self) -> None:
        for callback in self.on_change:
            callback()

    # ----------------------------------------------------------------- clients
    async def _on_upgrade(self, ws: ServerConnection, request: WsRequest) -> WsResponse | None:
        """``$connect``: runs during the upgrade; anything but 2xx refuses it."""
        path, _, query = request.path.partition("?")
        if path.rstrip("/") != f"/{self.stage}":
            return ws.respond(404, f"No stage at {path}\n")
        connection_id = apigw.new_connection_id()
        now = _now_ms()
        source = apigw.EventSource(
            connection_id=connection_id,
            connected_at_ms=now,
            api_id=self.api_id,
            stage=self.stage,
            domain_name=self.host,
            source_ip=str(ws.remote_address[0]) if ws.remote_address else "",
            user_agent=request.headers.get("User-Agent", ""),
        )
        query_params = parse_query(query)
        label = (query_params or {}).get("client", connection_id)
        event = apigw.connect_event(
            source,
            headers=dict(request.headers.raw_items()),
            query=query_params,
            request_id=f"connect-{connection_id}",
        )
        status = _status_of(await self.runtime.invoke_async(self.routes["$connect"], event))
        if not 200 <= status < 300:
            self.counts["rejected_connects"] += 1
            return ws.respond(status, f"$connect refused with {status}\n")
        connection = Connection(connection_id, ws, source, label, now)
        # Established as soon as $connect succeeds (as on AWS): posts made before the 101
        # response is out wait in the backlog instead of answering 410.
        self._pending[ws] = connection
        self.connections[connection_id] = connection
        return None

    async def _session(self, ws: ServerConnection) -> None:
        connection = self._pending.pop(ws)
        self.meter.connection_opened(connection.id, time.time())
        if connection.backlog and not connection.draining:
            connection.draining = True
            self._spawn(self._drain(connection))
        self._changed()
        with contextlib.suppress(Exception):  # a broken client must not take the gateway down
            async for message in ws:
                await self._on_message(connection, message)
        self.connections.pop(connection.id, None)
        self.meter.connection_closed(connection.id, time.time())
        if connection.id not in self.severed:  # a cut connection never runs $disconnect
            self._disconnecting.add(connection.label)
            try:
                await self._disconnect(connection, ws)
            finally:
                self._disconnecting.discard(connection.label)
        self._changed()

    async def disconnected(self, labels: set[str], timeout: float = 10.0) -> None:
        """Wait until the clients ``labels`` are gone and their ``$disconnect`` has run."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._disconnecting & labels or any(
            c.label in labels for c in self.connections.values()
        ):
            if asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(0.002)

    async def _disconnect(self, connection: Connection, ws: ServerConnection) -> None:
        event = apigw.disconnect_event(
            connection.source,
            status_code=ws.close_code if ws.close_code is not None else 1006,
            reason=ws.close_reason or "",
            now_ms=_now_ms(),
            request_id=f"disconnect-{connection.id}",
        )
        await self.runtime.invoke_async(self.routes["$disconnect"], event)

    async def _on_message(self, connection: Connection, message: str | bytes) -> None:
        body = message if isinstance(message, str) else message.decode("utf-8", "replace")
        connection.last_active_ms = _now_ms()
        self.meter.websocket_message(len(body.encode()))
        try:
            route = apigw.select_route(body, self.routes)
        except ValidationError:
            route = ""
        function = self.routes.get(route) if route not in ("$connect", "$disconnect") else None
        if function is None:
            reply = apigw.error_frame("Forbidden", connection.id, apigw.new_request_id())
            self._deliver(connection, reply.encode())
            return
        event = apigw.message_event(
            connection.source,
            body,
            route,
            now_ms=connection.last_active_ms,
            request_id=f"message-{connection.id}",
            message_id=apigw.new_request_id(),
        )
        invocation = await self.runtime.invoke_async(function, event)
        result = invocation.result
        if isinstance(result, dict) and isinstance(result.get("body"), str):
            self._deliver(connection, result["body"].encode())

    # ----------------------------------------------------------------- posting
    def check_post(
        self, connection_id: str, data: bytes
    ) -> tuple[Connection | None, PostError | None]:
        """The management API's verdict on a post: the connection, or the error to return."""
        if len(data) > apigw.MAX_PAYLOAD_BYTES:
            return None, apigw.management_error("PayloadTooLargeException", "Message too long")
        if self.faults.count > 0 and self.faults.after > 0:
            self.faults.after -= 1
        elif self.faults.count > 0:
            self.faults.count -= 1
            self.counts["failed"] += 1
            return None, (
                self.faults.status,
                {"x-amzn-ErrorType": "InternalServerErrorException"},
                b'{"message":"Internal server error (injected fault)"}',
            )
        connection = self.connections.get(connection_id)
        if connection is None or connection.ws.state.name in ("CLOSING", "CLOSED"):
            self.counts["gone"] += 1
            return None, gone(connection_id)
        return connection, None

    def post(self, connection_id: str, data: bytes) -> PostError | None:
        """PostToConnection from the event loop thread; None means 200."""
        connection, error = self.check_post(connection_id, data)
        if connection is None:
            return error
        self._accepted(connection, data)
        self._send(connection, data)
        return None

    def post_threadsafe(self, connection_id: str, data: bytes) -> PostError | None:
        """PostToConnection from a worker thread (the in-process transport)."""
        connection, error = self.check_post(connection_id, data)
        if connection is None:
            return error
        self._accepted(connection, data)
        self._outgoing.append((connection, data))
        if not self._flush_scheduled:  # one loop wake-up per burst, not per post
            self._flush_scheduled = True
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._flush)
        return None

    def _flush(self) -> None:
        self._flush_scheduled = False
        while self._outgoing:
            self._send(*self._outgoing.popleft())

    def _send(self, connection: Connection, data: bytes) -> None:
        """Deliver after the profile's client network delay (order kept per connection)."""
        delay = self.delays.draw_s("client_network") if self.delays is not None else 0.0
        if delay <= 0 and connection.not_before == 0.0:
            self._deliver(connection, data)
            return
        assert self._loop is not None
        at = max(self._loop.time() + delay, connection.not_before)
        connection.not_before = at
        self._loop.call_at(at, self._deliver, connection, data)

    def _accepted(self, connection: Connection, data: bytes) -> None:
        self.counts["posted"] += 1
        self.meter.websocket_message(len(data))
        trace_id = _trace_id(data)
        if trace_id is not None:
            self.tracer.stamp(trace_id, "post", key=connection.label)

    def _deliver(self, connection: Connection, data: bytes) -> None:
        """Send in order; small messages go out synchronously, large ones as 32 KB frames."""
        small = len(data) <= apigw.FRAME_BYTES
        opened = connection.ws.state.name == "OPEN"
        if small and opened and not connection.draining and connection.ws.send_in_progress is None:
            broadcast([connection.ws], data, text=_is_utf8(data))
            return
        connection.backlog.append(data)
        if opened and not connection.draining:
            connection.draining = True
            self._spawn(self._drain(connection))

    async def _drain(self, connection: Connection) -> None:
        try:
            while connection.backlog:
                data = connection.backlog.popleft()
                frames = apigw.split_frames(data)
                with contextlib.suppress(Exception):
                    if _is_utf8(data):
                        await connection.ws.send([f.decode("utf-8", "replace") for f in frames])
                    else:
                        await connection.ws.send(frames)
        finally:
            connection.draining = False

    def sever(self, label: str) -> None:
        """Cut a client's connection as a network failure would: ``$disconnect`` never runs
        (it is best effort on AWS), so its row stays until a post answers 410."""
        for connection in list(self.connections.values()):
            if connection.label == label and connection.ws.state.name == "OPEN":
                self.connections.pop(connection.id, None)
                self.severed.add(connection.id)
                connection.ws.transport.abort()


def _status_of(invocation: Any) -> int:
    if not invocation.ok:
        return 502
    result = invocation.result
    if isinstance(result, dict):
        return int(result.get("statusCode", 200))
    return 200


_TRACE = re.compile(rb'"traceId":\s*"([^"\\]+)"')


def _trace_id(data: bytes) -> str | None:
    """The update's trace id in a posted payload (a regex: this runs once per post)."""
    match = _TRACE.search(data)
    return match.group(1).decode() if match else None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
