"""The HTTP side's bounds: a request that arrives too slowly gets 408, an idle connection
is closed, and connections past the cap get 503; each costs only its own socket."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from fanoutsim.runtime.http_server import HttpServer, Limits, Request, Response

pytestmark = pytest.mark.usefixtures("any_loop")


def _ok(request: Request) -> Response:
    return Response(200, b"ok")


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


async def _serve(limits: Limits) -> HttpServer:
    server = HttpServer(_ok, limits=limits)
    await server.start()
    return server


def test_a_slow_request_gets_408_however_often_it_trickles() -> None:
    async def scenario() -> bytes:
        server = await _serve(Limits(request_timeout_s=0.5, idle_timeout_s=30))
        try:
            sock = socket.create_connection(("127.0.0.1", server.port))

            def trickle() -> bytes:  # a byte every 0.1 s never finishes a head
                for byte in b"GET /flights HTTP/1.1\r\nHost: x\r\n":
                    try:
                        sock.send(bytes([byte]))
                    except OSError:
                        break
                    time.sleep(0.1)
                return _read_all(sock)

            return await asyncio.to_thread(trickle)
        finally:
            await server.close()

    assert asyncio.run(scenario()).startswith(b"HTTP/1.1 408")


def test_an_idle_connection_is_closed_and_an_answered_one_stays_usable() -> None:
    async def scenario() -> tuple[bytes, bytes]:
        server = await _serve(Limits(request_timeout_s=5, idle_timeout_s=0.5))
        try:

            def client() -> tuple[bytes, bytes]:
                with socket.create_connection(("127.0.0.1", server.port)) as sock:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    sock.settimeout(10)
                    first = sock.recv(65536)
                    rest = _read_all(sock)  # then nothing: the server closes it
                return first, rest

            return await asyncio.to_thread(client)
        finally:
            await server.close()

    first, rest = asyncio.run(scenario())
    assert first.startswith(b"HTTP/1.1 200") and rest == b""


def test_connections_past_the_cap_get_503_and_the_others_are_served() -> None:
    async def scenario() -> tuple[list[bytes], bytes]:
        server = await _serve(Limits(max_connections=3))
        try:

            def clients() -> tuple[list[bytes], bytes]:
                held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(3)]
                extra = socket.create_connection(("127.0.0.1", server.port))
                refused = _read_all(extra)
                answers = []
                for sock in held:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    answers.append(_read_all(sock))
                    sock.close()
                extra.close()
                return answers, refused

            return await asyncio.to_thread(clients)
        finally:
            await server.close()

    answers, refused = asyncio.run(scenario())
    assert refused.startswith(b"HTTP/1.1 503")
    assert all(a.startswith(b"HTTP/1.1 200") for a in answers)
