"""A client that goes before the 101 completes leaves nothing behind: ``$connect`` had
made the connection (as on AWS), so it leaves as a dropped client does, with
``$disconnect``, its row deleted and no gateway state left.

Source:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

from fanoutsim import Simulator


def _upgrade_then_vanish(url: str, delay_s: float) -> None:
    parts = urlparse(url)
    with socket.create_connection((parts.hostname, parts.port)) as raw:
        raw.sendall(
            (
                f"GET {parts.path}?client=ghost HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        time.sleep(delay_s)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def test_clients_gone_before_the_101_leave_no_row_and_no_state() -> None:
    def slow_connect(event: dict, context: object) -> dict:
        time.sleep(0.3)  # the client is gone before $connect answers
        return original(event, context)

    with Simulator() as sim:
        from fanoutsim.functions.on_connect import handler as original

        sim.replace_function("on_connect", slow_connect)
        for _ in range(20):
            _upgrade_then_vanish(sim.endpoints["websocket"], 0.0)
        deadline = time.monotonic() + 30

        def calls(function: str) -> int:
            return sum(i.function == function for i in sim.invocations())

        while calls("on_connect") < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        sim.wait("idle")  # every closed connection's $disconnect has run
        gateway = sim._c.gateway
        assert gateway is not None
        assert sim.connections() == [] and sim._c.api.records() == []
        assert gateway._pending == {} and gateway._sockets == {}
        disconnects = [i for i in sim.invocations() if i.function == "on_disconnect"]
        assert len(disconnects) == 20
        assert {d.event["requestContext"]["disconnectStatusCode"] for d in disconnects} == {1006}
