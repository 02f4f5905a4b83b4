"""A minimal HTTP/1.1 server on an asyncio Protocol, for the management API and REST.

Why not the ``websockets`` server: it refuses requests with a body, and the management API's
POST has one. Why not a framework: the surface is three routes and a static page, and the
request path is the fan-out's hot path. Keep-alive, Content-Length bodies, one write per
response with TCP_NODELAY (no Nagle / delayed-ACK stalls). A handler may answer at once
(a :class:`Response`) or later (an awaitable); requests on one connection are answered in
order. Bounded everywhere: head and body sizes, the time a request may take to arrive
(408), the time a connection may sit idle (closed), and the connections open at once
(503 beyond :class:`Limits.max_connections`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import cast
from urllib.parse import unquote, urlsplit

from fanoutsim.errors import UnsupportedHttpVersion, ValidationError
from fanoutsim.runtime.loop_thread import peer_ip

__all__ = [
    "MAX_BODY",
    "MAX_HEAD",
    "Handler",
    "HttpServer",
    "Limits",
    "Request",
    "Response",
    "encode_response",
    "parse_head",
]

MAX_HEAD = 64 * 1024
MAX_BODY = 10 * 1024 * 1024
_REASONS = {s.value: s.phrase for s in HTTPStatus}


@dataclass(frozen=True)
class Limits:
    """How long a request may take to arrive, how long a connection may idle, how many
    may be open at once."""

    request_timeout_s: float = 30.0
    idle_timeout_s: float = 60.0
    max_connections: int = 1000


@dataclass(slots=True)
class Request:
    """One request as the handler sees it (made once per request: the hot path)."""

    method: str
    path: str  # URL-decoded
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    peer: str
    raw_path: str = ""  # as sent, still percent-encoded (what a SigV4 signature covers)
    version: str = "1.1"  # "1.0" or "1.1"

    @property
    def keep_alive(self) -> bool:
        """RFC 9112 section 9.3: HTTP/1.1 stays open unless ``Connection: close``; HTTP/1.0
        only when it asks with ``Connection: keep-alive``."""
        connection = self.headers.get("connection")
        if connection is None:
            return self.version == "1.1"
        tokens = {t.strip().lower() for t in connection.split(",")}
        return "close" not in tokens if self.version == "1.1" else "keep-alive" in tokens


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] | None = None


Handler = Callable[[Request], Response | Awaitable[Response]]


def encode_response(response: Response, keep_alive: bool) -> bytes:
    headers = {"Content-Type": "application/json", **(response.headers or {})}
    headers["Content-Length"] = str(len(response.body))
    headers["Connection"] = "keep-alive" if keep_alive else "close"
    fields = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    status = f"HTTP/1.1 {response.status} {_REASONS.get(response.status, '')}\r\n"
    return f"{status}{fields}\r\n".encode("latin-1") + response.body


# RFC 9110 section 5.6.2 (token), 5.5 (field values: visible characters and obs-text, single
# spaces or tabs between them), RFC 9112 section 3 (request line), 6.3 (Content-Length).
_TOKEN = r"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rf"({_TOKEN}) ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])")
_FIELD_LINE = re.compile(
    rf"({_TOKEN}):[ \t]*((?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?)[ \t]*"
)
_DIGITS = re.compile(r"[0-9]{1,18}")


#: Paths up to this long are kept decoded (so the cache holds at most about 1 MB).
CACHED_PATH_CHARS = 256


@functools.lru_cache(maxsize=4096)
def _decoded_short(path: str) -> str:
    return unquote(path)


def _decoded(path: str) -> str:
    """``path`` percent-decoded (``unquote`` takes 3 us; a connection's path repeats, so
    short ones are kept: a client sending long distinct paths cannot grow the cache)."""
    return _decoded_short(path) if len(path) <= CACHED_PATH_CHARS else unquote(path)


def _strict_fields(lines: list[str]) -> list[tuple[str, str]]:
    """Each header line read by RFC 9110's grammar (raises on the first that breaks it)."""
    fields = []
    for line in lines:
        field = _FIELD_LINE.fullmatch(line)
        if field is None:
            raise ValidationError(f"malformed header line {line[:80]!r}")
        fields.append((field.group(1), field.group(2)))
    return fields


def parse_head(head: bytes, peer: str) -> tuple[Request, int]:
    """The request line and headers; returns the body-less request and the body length.

    Strict where a lenient parser lets one request hide another (RFC 9112's grammar, checked
    against h11 on a fuzz corpus): lines end in CRLF, header names are tokens and values
    visible characters, at most one ``Host`` (exactly one on HTTP/1.1), one
    ``Content-Length`` of ASCII digits, no ``Transfer-Encoding`` (chunked bodies are not
    served); anything else raises :class:`ValidationError` (answered with 400), and a
    well-formed version other than 1.0 or 1.1 :class:`UnsupportedHttpVersion` (505).
    (String methods over each line measured slower than these expressions: 6.3 against
    5.5 us for a signed SDK request's head.)"""
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    line = _REQUEST_LINE.fullmatch(request_line)
    if line is None:
        raise ValidationError(f"malformed request line {request_line[:80]!r}")
    method, target, major, minor = line.groups()
    if major != "1" or minor not in "01":
        raise UnsupportedHttpVersion(f"HTTP/{major}.{minor} is not supported; use HTTP/1.1")
    headers: dict[str, str] = {}
    counts: dict[str, int] = {}
    for name, value in _strict_fields(header_lines):
        key = name.lower()
        headers[key] = value
        counts[key] = counts.get(key, 0) + 1
    if "transfer-encoding" in headers:
        raise ValidationError("Transfer-Encoding is not supported; send a Content-Length")
    if counts.get("host", 0) > 1 or (minor == "1" and "host" not in counts):
        raise ValidationError("exactly one Host header is required")
    length = headers.get("content-length", "0")
    if counts.get("content-length", 0) > 1 or not _DIGITS.fullmatch(length):
        raise ValidationError(f"bad Content-Length {length[:20]!r}")
    if target.startswith("/") and not target.startswith("//"):  # origin-form, the usual
        path, _, query = target.partition("#")[0].partition("?")
    else:
        url = urlsplit(target)
        path, query = url.path, url.query
    request = Request(method, _decoded(path), query, headers, b"", peer, path, f"1.{minor}")
    return request, int(length)


class _Connection(asyncio.Protocol):
    def __init__(self, handler: Handler, connections: set[_Connection], limits: Limits) -> None:
        self._handler = handler
        self._connections = connections
        self._limits = limits
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._busy = False
        self._pending: asyncio.Future[None] | None = None
        self._peer = ""
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0  # when the timer fires
        self._deadline = 0.0  # when the connection's time is up (the timer may fire earlier)
        self._timing = ""  # "idle" or "request": what the timer is for
        self._continued = False  # 100 Continue sent for the request being read

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        if len(self._connections) >= self._limits.max_connections:
            self._reply(Response(503, b'{"message":"Too many connections"}'), keep_alive=False)
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._peer = peer_ip(transport)
        self._connections.add(self)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self._transport = None
        if self._timer is not None:
            self._timer.cancel()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _arm(self) -> None:
        """Idle timer while nothing is buffered; a request timer (not reset by more bytes,
        so a slow sender cannot hold the socket) once a request has begun. A later deadline
        only moves :attr:`_deadline`: the timer, when it fires, sleeps on to it (no timer
        is made and cancelled for every keep-alive request)."""
        want = "request" if self._buffer else "idle"
        if self._busy or (self._timer is not None and want == self._timing == "request"):
            return
        limit = self._limits.request_timeout_s if want == "request" else self._limits.idle_timeout_s
        self._timing = want
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + limit
        if self._timer is not None and self._timer_at <= self._deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = self._deadline
        self._timer = loop.call_at(self._deadline, self._expired)

    def _expired(self) -> None:
        self._timer = None
        if self._transport is None or self._busy:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._deadline:  # the deadline moved on since the timer was set
            self._timer_at = self._deadline
            self._timer = loop.call_at(self._deadline, self._expired)
            return
        if self._timing == "request":
            self._reply(Response(408, b'{"message":"Request timeout"}'), keep_alive=False)
        else:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._process()
        self._arm()

    def _process(self) -> None:
        while not self._busy and self._transport is not None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0 and (b"\n\n" in self._buffer or b"\n\r\n" in self._buffer):
                # a head ended with bare line feeds: refused now, not after the 408's wait
                body = b'{"message":"Bad Request: lines must end in CRLF"}'
                self._reply(Response(400, body), keep_alive=False)
                self._buffer.clear()
                return
            if end > MAX_HEAD or (end < 0 and len(self._buffer) > MAX_HEAD):
                self._reply(Response(431), keep_alive=False)  # whether it came in one read or many
                self._buffer.clear()
                return
            if end < 0:
                return
            try:
                request, length = parse_head(bytes(self._buffer[:end]), self._peer)
            except (ValidationError, UnicodeDecodeError) as error:
                status = 505 if isinstance(error, UnsupportedHttpVersion) else 400
                body = json.dumps({"message": f"{_REASONS[status]}: {error}"}).encode()
                self._reply(Response(status, body), keep_alive=False)
                self._buffer.clear()
                return
            if length > MAX_BODY:
                self._reply(Response(413, b'{"message":"Request too long"}'), keep_alive=False)
                return
            expect = request.headers.get("expect", "").lower()
            if expect and expect != "100-continue":
                self._reply(Response(417), keep_alive=False)
                self._buffer.clear()
                return
            if len(self._buffer) < end + 4 + length:
                if expect and not self._continued:  # RFC 9110 section 10.1.1
                    self._continued = True
                    assert self._transport is not None
                    self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return
            self._continued = False
            request.body = bytes(self._buffer[end + 4 : end + 4 + length])
            del self._buffer[: end + 4 + length]
            keep_alive = request.keep_alive
            answer = self._handler(request)
            if not isinstance(answer, Response):  # an awaitable: answered when it is done
                self._busy = True
                self._pending = asyncio.ensure_future(self._later(answer, keep_alive))
                return
            self._reply(answer, keep_alive)
            self._timing = ""  # a new request may begin: its timer starts afresh

    async def _later(self, answer: Awaitable[Response], keep_alive: bool) -> None:
        try:
            response = await answer
        except Exception:
            response = Response(500, b'{"message":"Internal server error"}')
        self._busy = False
        self._reply(response, keep_alive)
        self._process()
        if self._transport is not None:
            self._timing = ""
            self._arm()

    def _reply(self, response: Response, keep_alive: bool) -> None:
        if self._transport is None:
            return
        self._transport.write(encode_response(response, keep_alive))
        if not keep_alive:
            self._transport.close()


class HttpServer:
    """Serves ``handler`` on ``host:port`` (port 0 picks a free one)."""

    def __init__(
        self, handler: Handler, host: str = "127.0.0.1", port: int = 0, limits: Limits | None = None
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self.limits = limits or Limits()
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        sockname: tuple[str, int] = self._server.sockets[0].getsockname()
        return sockname[1]

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self._handler, self._connections, self.limits),
            self._host,
            self._port,
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                connection.close()
            await self._server.wait_closed()
