"""A minimal HTTP/1.1 server on asyncio streams, for the management API and REST endpoints.

Why not the ``websockets`` server: it refuses requests with a body, and the management API's
POST has one. Why not a framework: the surface is three routes and a static page, and keeping
the request path short matters for the fan-out's throughput. Keep-alive, Content-Length
bodies, one write per response with TCP_NODELAY (no Nagle / delayed-ACK stalls).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # URL-decoded
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    peer: str


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] | None = None


Handler = Callable[[Request], Awaitable[Response]]

MAX_BODY = 10 * 1024 * 1024


def _encode(response: Response, keep_alive: bool) -> bytes:
    reason = (
        HTTPStatus(response.status).phrase
        if response.status in HTTPStatus._value2member_map_
        else ""
    )
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    headers = dict(response.headers or {})
    headers.setdefault("Content-Type", "application/json")
    headers["Content-Length"] = str(len(response.body))
    headers["Connection"] = "keep-alive" if keep_alive else "close"
    lines.extend(f"{k}: {v}" for k, v in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


class HttpServer:
    """Serves ``handler`` on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        sockname: tuple[str, int] = self._server.sockets[0].getsockname()
        return sockname[1]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()

    async def _read_request(self, reader: asyncio.StreamReader, peer: str) -> Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if length > MAX_BODY:
            return Request(method, "", "", headers, b"", peer)
        body = await reader.readexactly(length) if length else b""
        url = urlsplit(target)
        return Request(method, unquote(url.path), url.query, headers, body, peer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = str((writer.get_extra_info("peername") or ("", 0))[0])
        self._writers.add(writer)
        try:
            while True:
                request = await self._read_request(reader, peer)
                if request is None:
                    break
                if not request.path and request.method:
                    response = Response(413, b'{"message":"Request entity too large"}')
                else:
                    response = await self._handler(request)
                keep_alive = request.headers.get("connection", "").lower() != "close"
                writer.write(_encode(response, keep_alive))
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
