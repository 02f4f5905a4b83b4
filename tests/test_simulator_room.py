"""The room, live: a device opened with ``?room=NAME`` is a subscriber of the same pipeline,
its acks on the ``ack`` route (a mock integration: no function runs) give its latency from
PutEvents, and a stack other devices can reach answers only its own host names, with keys
of its own, on every listener.

AWS pages: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-integration-requests.html
(a route's integration may be MOCK), https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html
(a route response sends the integration's answer back to the client, two-way),
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html (SigV4: requests signed
with unknown keys are refused with UnrecognizedClientException, unsigned ones with
MissingAuthenticationTokenException),
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
(DynamoDB's 400 errors of a request whose signature fails).
RFC 9110 section 15.5.20: 421 Misdirected Request.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from fanoutsim import stack
from fanoutsim.errors import ConfigError, SimulatorError
from fanoutsim.simulator import Simulator

HOST = "127.0.0.2"  # loopback, but not the default: what the room advertises is this


@pytest.fixture
def room() -> Iterator[Simulator]:
    with Simulator(room=True, host=HOST, aws_endpoint=True) as sim:
        yield sim


def _get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Any:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


async def _phone(sim: Simulator, name: str, updates: int) -> list[dict[str, Any]]:
    """A device on the room page's protocol: receive, acknowledge, read the reply."""
    config = json.loads(_get(sim.endpoints["page"] + "config.json")[2])
    replies = []
    async with connect(f"{config['websocket']}?client=room-{name}&room={name}") as ws:
        while len(sim.clients.labels()) < 4:  # three simulated clients and this one
            await asyncio.sleep(0.01)
        for _ in range(updates):
            await asyncio.to_thread(sim.flights.publish, "FS101", "BOARDING", "Group 1")
            update = json.loads(await ws.recv())
            await ws.send(json.dumps({"action": "ack", "traceId": update["traceId"]}))
            replies.append(json.loads(await ws.recv()))
    return replies


def test_a_device_hears_the_pipeline_and_its_acks_become_its_latency(room: Simulator) -> None:
    assert room.endpoints["room"] == f"http://{HOST}:{room.endpoints['page'].split(':')[2]}room"
    room.clients.add(3)
    room.flights.load()
    before = room.invocations()
    replies = asyncio.run(_phone(room, "Alice", 2))
    room.wait()
    assert [r["type"] for r in replies] == ["ack", "ack"]
    assert all(r["latencyMs"] > 0 for r in replies)
    snap = room.room()
    (alice,) = snap.devices
    assert (alice.name, alice.received, alice.missed) == ("Alice", 2, 0)
    assert alice.latency_ms["p50"] is not None and snap.last_arrivals.keys() == {"Alice"}
    # the mock integration ran no function for the acks
    ran = {i.function for i in room.invocations()[len(before) :]}
    assert "on_default" not in ran
    report = room.report()
    assert report.to_dict()["room"]["devices"][0]["received"] == 2
    assert "Alice" in str(report) and "room http://127.0.0.2" in str(report)
    # the simulated clients' ledger is untouched by the device
    assert report.to_dict()["deliveries"]["missing"] == 0


def test_a_simulator_without_a_room_says_how_to_open_one(sim: Simulator) -> None:
    with pytest.raises(SimulatorError, match="room=True"):
        sim.room()
    assert "room" not in sim.endpoints and "room" not in sim.report().to_dict()


def test_the_room_page_and_its_script_are_served(room: Simulator) -> None:
    status, headers, body = _get(room.endpoints["room"])
    assert status == 200 and b'<script src="live.js">' in body
    assert headers["Content-Type"].startswith("text/html")
    status, headers, _ = _get(room.endpoints["page"] + "live.js")
    assert status == 200 and headers["Content-Type"] == "text/javascript"
    status, _, body = _get(room.endpoints["room"] + "/")  # redirected back to /room
    assert status == 200 and b'<script src="live.js">' in body


def test_config_answers_with_the_host_the_page_came_from(room: Simulator) -> None:
    status, _, body = _get(room.endpoints["page"] + "config.json")
    config = json.loads(body)
    assert status == 200 and config["websocket"].startswith(f"ws://{HOST}:")
    port = room.endpoints["page"].split(":")[2].rstrip("/")
    seen = json.loads(
        _get(room.endpoints["page"] + "config.json", {"Host": f"localhost:{port}"})[2]
    )
    assert seen["rest"] == f"http://localhost:{port}/prod"


def test_a_wrong_host_is_refused_on_every_listener(room: Simulator) -> None:
    evil = {"Host": "rebound.example"}
    status, _, body = _get(room.endpoints["page"] + "config.json", evil)
    assert status == 421 and b"Misdirected" in body
    status, _, _ = _get(room.endpoints["aws"], evil, method="POST")
    assert status == 421

    async def upgrade() -> int:
        try:
            async with connect(room.endpoints["websocket"], open_timeout=10):
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code

    # websockets sets Host itself: a raw upgrade carries the rebound name
    port = int(room.endpoints["websocket"].split(":")[2].split("/")[0])
    with socket.create_connection((HOST, port), timeout=10) as raw:
        raw.sendall(
            b"GET /prod HTTP/1.1\r\nHost: rebound.example\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        assert raw.recv(200).startswith(b"HTTP/1.1 421 ")
    with socket.create_connection((HOST, port), timeout=10) as raw:  # two Hosts: which one?
        raw.sendall(
            f"GET /prod HTTP/1.1\r\nHost: {HOST}\r\nHost: rebound.example\r\n".encode()
            + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert raw.recv(200).startswith(b"HTTP/1.1 421 ")
    assert asyncio.run(upgrade()) == 101  # its own name still works


def _client(sim: Simulator, service: str, keys: tuple[str, str], endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=sim.options.region,
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
    )


def test_keys_are_this_runs_own_and_the_testing_keys_are_refused(room: Simulator) -> None:
    assert room.options.credentials != stack.DEFAULT_CREDENTIALS
    room.clients.add(1)
    ids = [row["connectionId"] for row in room.connections()]
    testing = _client(
        room, "apigatewaymanagementapi", stack.DEFAULT_CREDENTIALS, room.endpoints["management"]
    )
    with pytest.raises(ClientError) as refused:
        testing.get_connection(ConnectionId=ids[0])
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    own = _client(
        room, "apigatewaymanagementapi", room.options.credentials, room.endpoints["management"]
    )
    assert own.get_connection(ConnectionId=ids[0])["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_the_testing_keys_cannot_be_chosen_for_a_room() -> None:
    with pytest.raises(ConfigError, match="cannot guard"):
        Simulator(room=True, host=HOST, credentials=stack.DEFAULT_CREDENTIALS)


def test_the_aws_endpoint_checks_signatures_when_others_can_reach_it(room: Simulator) -> None:
    endpoint = room.endpoints["aws"]
    stranger = _client(room, "dynamodb", ("AKIAMADEUP", "made-up-secret"), endpoint)
    with pytest.raises(ClientError) as refused:
        stranger.scan(TableName=stack.CONNECTIONS_TABLE)
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    wrong = _client(room, "dynamodb", (room.options.credentials[0], "not-the-secret"), endpoint)
    with pytest.raises(ClientError) as bad:
        wrong.scan(TableName=stack.CONNECTIONS_TABLE)
    assert bad.value.response["Error"]["Code"] == "InvalidSignatureException"
    status, _, body = _get(
        endpoint,
        {"X-Amz-Target": "DynamoDB_20120810.Scan", "Content-Type": "application/x-amz-json-1.0"},
        method="POST",
    )
    assert status == 400 and b"MissingAuthenticationTokenException" in body
    own = _client(room, "dynamodb", room.options.credentials, endpoint)
    assert own.scan(TableName=stack.CONNECTIONS_TABLE)["Count"] == 0
    events = _client(room, "events", room.options.credentials, endpoint)
    assert events.list_event_buses()["EventBuses"]


def test_cors_answers_the_pages_own_origin_only(room: Simulator) -> None:
    own = room.endpoints["page"].rstrip("/")
    preflight = {"Access-Control-Request-Method": "GET"}
    status, headers, _ = _get(
        room.endpoints["rest"] + "/flights", {**preflight, "Origin": own}, method="OPTIONS"
    )
    assert status == 204 and headers["Access-Control-Allow-Origin"] == own
    status, headers, _ = _get(
        room.endpoints["rest"] + "/flights",
        {**preflight, "Origin": "http://rebound.example"},
        method="OPTIONS",
    )
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    room.flights.load()
    _, headers, _ = _get(room.endpoints["rest"] + "/flights", {"Origin": "http://x.example"})
    assert "Access-Control-Allow-Origin" not in headers  # the function's "*" is narrowed
    _, headers, _ = _get(room.endpoints["rest"] + "/flights", {"Origin": own})
    assert headers["Access-Control-Allow-Origin"] == own


def test_on_loopback_nothing_changes(sim: Simulator) -> None:
    assert sim.options.credentials == stack.DEFAULT_CREDENTIALS
    status, _, _ = _get(sim.endpoints["page"] + "config.json", {"Host": "anything.example"})
    assert status == 200
