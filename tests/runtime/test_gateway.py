"""The management API through the real boto3 client, and the gateway's frames.

AWS pages this module checks:

- https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from fanoutsim.simulator import Simulator


def _management(sim: Simulator) -> Any:
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=sim.endpoints["management"], region_name="us-east-1"
    )


def _wait(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def test_post_get_delete_through_boto3(sim: Simulator) -> None:
    [client] = sim.clients.add(1)
    [row] = sim.connections()
    connection_id = row["connectionId"]
    assert connection_id.endswith("=")  # ids travel URL-encoded as %3D
    api = _management(sim)
    api.post_to_connection(ConnectionId=connection_id, Data=b'{"hello": "world"}')
    _wait(lambda: client.other == [{"hello": "world"}])
    info = api.get_connection(ConnectionId=connection_id)
    assert info["Identity"]["SourceIp"] == "127.0.0.1"
    assert info["ConnectedAt"].year >= 2024
    api.delete_connection(ConnectionId=connection_id)
    _wait(lambda: not sim.clients.labels())
    with pytest.raises(ClientError) as gone:
        api.post_to_connection(ConnectionId=connection_id, Data=b"x")
    assert gone.value.response["Error"]["Code"] == "GoneException"
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_unknown_id_is_gone_and_oversize_is_413(sim: Simulator) -> None:
    sim.clients.add(1)
    api = _management(sim)
    with pytest.raises(ClientError) as gone:
        api.post_to_connection(ConnectionId="nope=", Data=b"x")
    assert gone.value.response["Error"]["Code"] == "GoneException"
    connection_id = sim.connections()[0]["connectionId"]
    with pytest.raises(ClientError) as large:
        api.post_to_connection(ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1))
    assert large.value.response["Error"]["Code"] == "PayloadTooLargeException"


def test_unsigned_calls_are_forbidden(sim: Simulator) -> None:
    request = urllib.request.Request(
        sim.endpoints["management"] + "/@connections/abc%3D", data=b"x", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request)
    assert error.value.code == 403
    assert error.value.headers["x-amzn-ErrorType"] == "ForbiddenException"


def test_large_message_arrives_whole_after_32k_frames(sim: Simulator) -> None:
    [client] = sim.clients.add(1)
    connection_id = sim.connections()[0]["connectionId"]
    message = {"flightId": "BIG", "blob": "y" * 100_000}
    _management(sim).post_to_connection(ConnectionId=connection_id, Data=json.dumps(message))
    _wait(lambda: "BIG" in client.board)
    assert client.board["BIG"]["blob"] == message["blob"]
    assert sim.report().to_dict()["websocket"]["units"] >= 4  # 100 KB = 4 x 32 KB


def test_wrong_stage_is_404(sim: Simulator) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = sim.endpoints["websocket"].replace("/prod", "/dev")
    with pytest.raises(InvalidStatus) as error:
        connect(url)
    assert error.value.response.status_code == 404


def test_an_open_connection_holds_one_task_and_no_handshake_headers(sim: Simulator) -> None:
    """What a connection costs the server is bounded: its websockets handler task (one
    watcher serves every connection's idle timeout and maximum duration) and none of its
    handshake's headers once ``$connect`` has read them."""
    import asyncio

    loop = sim._c.loop.loop

    def tasks() -> int:
        return asyncio.run_coroutine_threadsafe(_count_tasks(), loop).result(10)

    sim.clients.add(2)
    before = tasks()
    sim.clients.add(40)
    sim.wait("idle")
    assert tasks() - before < 2 * 40  # one each (it was three: handler, lifetime, reaper)
    sockets = list(sim._c.gateway._sockets.values())
    assert len(sockets) == 42
    assert all(len(s.ws.request.headers) == 0 for s in sockets if s.ws.request is not None)
    assert all(len(s.ws.response.headers) == 0 for s in sockets if s.ws.response is not None)
    [client] = sim.clients.add(1)  # and the connections still work
    sim.flights.load()
    assert client.board and all(c.board for c in sim.clients.values())


async def _count_tasks() -> int:
    """The loop's tasks but the in-process clients' own (one listener each)."""
    import asyncio

    return sum(1 for t in asyncio.all_tasks() if "SubscriberPool" not in t.get_coro().__qualname__)
