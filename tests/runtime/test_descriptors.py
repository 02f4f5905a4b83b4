"""Running out of file descriptors: a server at its limit (256, macOS's default) answers new
clients 503 at once instead of leaving them in the kernel's backlog until they time out,
keeps serving the clients it has, says so in one clear log line, and lets new clients in
again as soon as others leave. The server runs in a child process with the lowered
``RLIMIT_NOFILE``; the test's own sockets are the parent's, on loopback."""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest
from websockets.sync.client import connect

from fanoutsim.runtime import descriptors

LIMIT = 256


def _lowered() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, hard))


def _upgrade(url: str) -> tuple[socket.socket, bytes]:
    """A raw upgrade request; returns the socket and the response head (or b"" if closed).
    The 60 s timeout is a hang's bound, far past any answer: a refusal is a 503 head."""
    parts = urlparse(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
    sock.sendall(
        (
            f"GET {parts.path}?client=held HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head and (chunk := sock.recv(1)):
        head += chunk
    return sock, head


def test_at_the_descriptor_limit_new_clients_get_503_and_the_rest_are_served() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "fanoutsim", "serve", "--json", "--interval", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_lowered,
    )
    held: list[socket.socket] = []
    try:
        assert server.stdout is not None
        url = json.loads(server.stdout.readline())["websocket"]
        with connect(url) as keeper:
            for _ in range(LIMIT):  # each held connection costs the server one descriptor
                sock, head = _upgrade(url)
                if not head.startswith(b"HTTP/1.1 101"):
                    sock.close()
                    break
                held.append(sock)
            assert head.startswith(b"HTTP/1.1 503"), head
            budget = LIMIT - descriptors.pipeline_need(50) - descriptors.RESERVE
            assert 0 < len(held) < budget  # the pipeline's posts keep their descriptors
            assert json.loads(keeper.recv(timeout=60))["flightId"]  # still hears updates
            for sock in held[:10]:
                sock.close()
            held = held[10:]
            # The server learns of the closes on its own loop; until then it refuses. The
            # deadline bounds a hang: any answer but 101 by then is the failure.
            deadline = time.monotonic() + 60
            while not head.startswith(b"HTTP/1.1 101") and time.monotonic() < deadline:
                time.sleep(0.05)
                sock, head = _upgrade(url)
                held.append(sock)
            assert head.startswith(b"HTTP/1.1 101"), head
    finally:
        for sock in held:
            sock.close()
        server.terminate()
        _, stderr = server.communicate(timeout=60)
    refusals = [line for line in stderr.splitlines() if "file descriptors open" in line]
    assert refusals and f"of {LIMIT} file descriptors open (ulimit -n)" in refusals[0]
    assert "Traceback" not in stderr


def test_open_count_sees_a_new_descriptor_and_spare_is_what_the_limit_leaves() -> None:
    before = descriptors.open_count()
    with open(os.devnull) as _held:
        assert descriptors.open_count() == (before or 0) + 1
        most, now, left = descriptors.limit(), descriptors.open_count(), descriptors.spare()
    assert most is None or (now is not None and left is not None and left + now == most)


def _counting_spare(monkeypatch: pytest.MonkeyPatch, left: list[int]) -> list[int]:
    """``spare()`` answers ``left[0]``; returns the list of answers given (one a listing)."""
    calls: list[int] = []

    def spare() -> int:
        calls.append(left[0])
        return left[0]

    monkeypatch.setattr(descriptors, "spare", spare)
    return calls


def test_admission_lists_descriptors_once_every_few_clients_while_plenty_are_free(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    left = [1000]
    listings = _counting_spare(monkeypatch, left)
    admission = descriptors.Admission(budget=5000)
    for clients in range(160):
        assert not admission.refuses(clients)
        left[0] -= 1  # the client admitted holds one descriptor
    assert len(listings) == 160 // descriptors.RECOUNT_EVERY


def test_admission_counts_each_client_when_few_are_left_and_refuses_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    left = [2 * descriptors.RESERVE + 10]
    listings = _counting_spare(monkeypatch, left)
    admission = descriptors.Admission(budget=None)
    admitted = 0
    while not admission.refuses(admitted):
        admitted += 1
        left[0] -= 1
    assert left[0] == descriptors.RESERVE // 2 - 1  # refused before the reserve is spent
    assert len(listings) > admitted - descriptors.RECOUNT_EVERY  # every one counted near the end
    assert descriptors.Admission(budget=3).refuses(3)  # the budget alone refuses too
