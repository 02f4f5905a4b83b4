"""A client hurts only itself: one that never reads is cut off once 4 MiB wait for it
(its ``$disconnect`` runs with 1006), and one that floods messages is throttled (told once)
while the others keep receiving every update."""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import urlparse

import pytest
from websockets.sync.client import connect

from fanoutsim import Simulator
from fanoutsim.runtime import client_socket
from tests.sample_ids import FS101


def _until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _deaf_client(url: str) -> socket.socket:
    """Complete the upgrade, then never read again (a tiny receive window)."""
    parts = urlparse(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    sock.sendall(
        (
            f"GET {parts.path}?client=deaf HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101")
    return sock


def test_a_client_that_never_reads_is_cut_off_and_the_others_hear_everything() -> None:
    # 120 statuses of one flight back to back: written as they come (the seed's way), so
    # none is superseded by a newer one that ran first and every one is owed to everyone
    with Simulator(seed_bugs=("unordered-status-writes",)) as sim:
        sim.flights.load()
        listeners = sim.clients.add(3)
        deaf = _deaf_client(sim.endpoints["websocket"])
        try:
            details = "x" * 100_000  # 100 KB updates: 12 MB in all, more than buffers hold
            traces = [
                sim.flights.publish("FS101", "BOARDING", f"{i} {details}") for i in range(120)
            ]
            sim.wait(timeout=120)
            _until(lambda: any(i.function == "on_disconnect" for i in sim.invocations()))
            (gone,) = [i for i in sim.invocations() if i.function == "on_disconnect"]
            assert gone.event["requestContext"]["disconnectStatusCode"] == 1006
            assert all(t in c.first_receipt for c in listeners for t in traces)
        finally:
            deaf.close()


def test_a_flooding_client_is_throttled_and_told_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # no refill during the test: the outcome does not depend on how fast this machine is
    monkeypatch.setattr(client_socket, "MESSAGES_PER_S", 0.001)
    monkeypatch.setattr(client_socket, "MESSAGES_BURST", 5.0)
    with Simulator() as sim:
        sim.flights.load()
        bystander = sim.clients.add(1)[0]
        with connect(sim.endpoints["websocket"]) as ws:
            for _ in range(50):
                ws.send("hello")
            replies = [json.loads(ws.recv(timeout=15)) for _ in range(6)]
            throttled = [r for r in replies if r.get("message") == "Too Many Requests"]
            answered = [r for r in replies if r.get("error") == "unsupported message"]
            assert (len(answered), len(throttled)) == (5, 1)
            trace = sim.flights.publish("FS101", "BOARDING", "Group 1")
            sim.wait()  # the flood cost the others nothing
            assert trace in bystander.first_receipt
            # the next message is the update: the other 44 were dropped unanswered
            assert json.loads(ws.recv(timeout=15))["flightId"] == FS101
