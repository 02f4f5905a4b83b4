from __future__ import annotations

import asyncio
import http.client

import pytest

from fanoutsim.runtime.http_server import HttpServer, Request, Response

pytestmark = pytest.mark.usefixtures("any_loop")


async def _with_server(handler, requests):  # type: ignore[no-untyped-def]
    server = HttpServer(handler)
    await server.start()
    loop = asyncio.get_running_loop()

    def client() -> list[tuple[int, bytes]]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        out = []
        for method, path, body in requests:
            conn.request(method, path, body=body)
            response = conn.getresponse()
            out.append((response.status, response.read()))
        conn.close()
        return out

    try:
        return await loop.run_in_executor(None, client)
    finally:
        await server.close()


def test_keep_alive_serves_sync_and_async_answers_in_order() -> None:
    seen: list[Request] = []

    async def slow(request: Request) -> Response:
        await asyncio.sleep(0.01)
        return Response(201, b"later")

    def handler(request: Request) -> Response | object:
        seen.append(request)
        return slow(request) if request.method == "PUT" else Response(200, request.body)

    answers = asyncio.run(
        _with_server(
            handler,
            [
                ("POST", "/prod/%40connections/a%3D", b"hello"),
                ("PUT", "/x", b""),
                ("GET", "/y?q=1", None),
            ],
        )
    )
    assert answers == [(200, b"hello"), (201, b"later"), (200, b"")]
    assert seen[0].path == "/prod/@connections/a="  # URL-decoded
    assert seen[2].query == "q=1"


def test_handler_exception_in_async_answer_is_a_500() -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    answers = asyncio.run(_with_server(lambda r: broken(r), [("GET", "/", None)]))
    assert answers[0][0] == 500


@pytest.mark.parametrize("size", [0, 1, 200_000])
def test_bodies_of_any_size_arrive_whole(size: int) -> None:
    body = b"z" * size
    answers = asyncio.run(_with_server(lambda r: Response(200, r.body), [("POST", "/", body)]))
    assert answers == [(200, body)]


def _raw(raw: bytes, calls: list[str]) -> bytes:
    """Send ``raw`` bytes on one socket; return everything the server answers before it
    closes (a handler call is recorded in ``calls``)."""
    import socket

    def handler(request: Request) -> Response:
        calls.append(f"{request.method} {request.path}")
        return Response(200, b"ok")

    async def scenario() -> bytes:
        server = HttpServer(handler)
        await server.start()

        def client() -> bytes:
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(raw)
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
                return b"".join(chunks)

        try:
            return await asyncio.get_running_loop().run_in_executor(None, client)
        finally:
            await server.close()

    return asyncio.run(asyncio.wait_for(scenario(), 10))


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: -39\r\n\r\n", b"Content-Length"),
        (
            b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nGET /y",
            b"Content-Length",
        ),
        (
            b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /y",
            b"Transfer-Encoding",
        ),
        (b"POST /x HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n", b"header line"),
        (b"POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", b"Host"),
        (b"GARBAGE\r\n\r\n", b"request line"),
    ],
)
def test_malformed_or_smuggling_requests_get_400_and_run_nothing(
    head: bytes, reason: bytes
) -> None:
    calls: list[str] = []
    answer = _raw(head, calls)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert answer.count(b"HTTP/1.1 ") == 1  # one answer, then the connection closes
    assert reason in answer.partition(b"\r\n\r\n")[2]
    assert calls == []


@pytest.mark.parametrize("version", [b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.2"])
def test_a_well_formed_version_it_does_not_speak_gets_505(version: bytes) -> None:
    """RFC 9110 section 15.6.6: 505 for a major version the server does not support; a
    malformed one (``HTTP/1.x``) stays a 400."""
    calls: list[str] = []
    answer = _raw(b"GET /x " + version + b"\r\nHost: h\r\n\r\n", calls)
    assert answer.startswith(b"HTTP/1.1 505 ")
    assert version in answer.partition(b"\r\n\r\n")[2]
    assert calls == []
    assert _raw(b"GET /x HTTP/1.x\r\nHost: h\r\n\r\n", []).startswith(b"HTTP/1.1 400 ")


def test_http_1_0_is_closed_after_its_answer_unless_it_asks_to_stay() -> None:
    """RFC 9112 section 9.3: an HTTP/1.0 connection persists only with Connection:
    keep-alive (``_raw`` reads until the server closes: a kept-alive socket would time out)."""
    calls: list[str] = []
    answer = _raw(b"GET /x HTTP/1.0\r\n\r\n", calls)
    assert answer.startswith(b"HTTP/1.1 200 ") and b"Connection: close" in answer
    kept = _raw(
        b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n",
        calls,
    )
    assert kept.count(b"HTTP/1.1 200 ") == 2 and calls == ["GET /x", "GET /a", "GET /b"]


def test_a_head_with_bare_line_feeds_is_refused_at_once() -> None:
    """Not after the 30 s request timeout (``_raw`` gives up after 5 s)."""
    calls: list[str] = []
    answer = _raw(b"GET /x HTTP/1.1\nHost: h\n\n", calls)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"CRLF" in answer and calls == []


def test_a_head_over_64_kb_is_refused_even_in_one_read() -> None:
    calls: list[str] = []
    head = b"GET /x HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    assert _raw(head, calls).startswith(b"HTTP/1.1 431 ") and calls == []


def test_expect_100_continue_is_answered_before_the_body_and_others_get_417() -> None:
    """RFC 9110 section 10.1.1: a client that waits for 100 Continue gets it before it sends
    the body; an expectation the server cannot meet gets 417."""
    import socket

    def handler(request: Request) -> Response:
        return Response(200, request.body)

    async def scenario() -> tuple[bytes, bytes]:
        server = HttpServer(handler)
        await server.start()

        def client() -> tuple[bytes, bytes]:
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(
                    b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                    b"Expect: 100-continue\r\n\r\n"
                )
                interim = sock.recv(100)
                sock.sendall(b"hello")
                final = sock.recv(1000)
            return interim, final

        try:
            return await asyncio.get_running_loop().run_in_executor(None, client)
        finally:
            await server.close()

    interim, final = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert final.startswith(b"HTTP/1.1 200 ") and final.endswith(b"hello")
    refused = _raw(b"POST /x HTTP/1.1\r\nHost: h\r\nExpect: magic\r\nContent-Length: 1\r\n\r\n", [])
    assert refused.startswith(b"HTTP/1.1 417 ")


def test_only_short_paths_are_kept_decoded() -> None:
    """A client sending long distinct paths cannot grow the decoded-path cache."""
    from fanoutsim.runtime import http_server

    http_server._decoded_short.cache_clear()
    long_path = "/%41" * (http_server.CACHED_PATH_CHARS // 4 + 1)
    assert http_server._decoded(long_path) == "/A" * (http_server.CACHED_PATH_CHARS // 4 + 1)
    assert http_server._decoded("/prod/%40connections/a%3D") == "/prod/@connections/a="
    assert http_server._decoded_short.cache_info().currsize == 1
