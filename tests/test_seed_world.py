"""The seed's world, with real sockets and real clients from outside the simulator: the
seed's own events through the AWS endpoint (boto3 and the AWS CLI), the seed's route set,
and the management API and frame limits as SDK code and browsers notice them.

AWS pages this module checks:

- https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-binary-media-types.html
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from fanoutsim import stack
from fanoutsim.simulator import Simulator
from tests.functions.flights import SEED_FLIGHT
from tests.sample_ids import FS101

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(aws_endpoint=True) as simulator:
        yield simulator


def _entry(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "Source": "flights.events",
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        "EventBusName": "flights.events",
    }


def _messages(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [json.loads(ws.recv(timeout=15)) for _ in range(count)]


def test_the_seeds_events_through_the_aws_endpoint_reach_outside_clients_in_order(
    sim: Simulator,
) -> None:
    events = boto3.client(
        "events", endpoint_url=sim.endpoints["aws"], region_name=sim.options.region, **CREDENTIALS
    )
    flight = SEED_FLIGHT["flightId"]
    with connect(sim.endpoints["websocket"]) as first, connect(sim.endpoints["websocket"]) as other:
        answer = events.put_events(
            Entries=[
                _entry("New flight scheduled", SEED_FLIGHT),
                _entry(
                    "Flight status updated",
                    {
                        "flightId": flight,
                        "event": "DEPARTURE_DELAYED",
                        "eventDetails": "Weather delay.",
                    },
                ),
                _entry("Flight status updated", {"flightId": flight, "event": "TELEPORTED"}),
                {**_entry("Flight status updated", {}), "Detail": "{not json"},
            ]
        )
        assert [e.get("ErrorCode") for e in answer["Entries"]] == [
            None,
            None,
            None,
            "MalformedDetail",
        ]
        sim.wait("settled")
        for ws in (first, other):
            created, delayed = _messages(ws, 2)
            assert (created["operation"], delayed["operation"]) == ("CREATE", "UPDATE")
            assert created["terminal"] == 3 and isinstance(created["terminal"], int)
            assert created["flightId"] == flight and created["gate"] == "C20"
            assert delayed["event"] == "DEPARTURE_DELAYED"
            assert delayed["eventDetails"] == "Weather delay."
    report = sim.report().to_dict()
    assert report["outside_operations"] == {"events:PutEvents": 1}
    assert "events:PutEvents" not in report["operations"]  # the pipeline's own calls only
    assert report["updates"] == 3  # the accepted entries, traced like sim.flights.publish
    [reason] = report["dropped_updates"].values()  # the unknown status, seen in accounting
    assert "unknown flight status 'TELEPORTED'" in reason
    assert report["eventbridge_events"] == 3


def test_an_outside_scan_sees_the_same_connections(sim: Simulator) -> None:
    sim.clients.add(3)
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=sim.endpoints["aws"], region_name=sim.options.region, **CREDENTIALS
    )
    rows = dynamodb.scan(TableName=stack.CONNECTIONS_TABLE)["Items"]
    assert {r["connectionId"]["S"] for r in rows} == {c["connectionId"] for c in sim.connections()}
    assert sim.report().to_dict()["outside_operations"] == {"dynamodb:Scan": 1}


def _aws_cli(*args: str) -> str:
    cli = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if cli is None:
        pytest.fail("the AWS CLI (the awscli package) is a dev dependency and should be installed")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    done = subprocess.run([cli, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_aws_cli_puts_an_event_and_posts_to_a_connection(sim: Simulator) -> None:
    sim.flights.load()
    with connect(sim.endpoints["websocket"] + "?client=cli-watcher") as ws:
        sim.wait("idle")
        entries = json.dumps(
            [
                _entry(
                    "Flight status updated",
                    {"flightId": FS101, "event": "BOARDING", "eventDetails": "from the CLI"},
                )
            ]
        )
        out = _aws_cli(
            "events", "put-events", "--endpoint-url", sim.endpoints["aws"], "--entries", entries
        )
        assert json.loads(out)["FailedEntryCount"] == 0
        [update] = _messages(ws, 1)
        assert (update["flightId"], update["eventDetails"]) == (FS101, "from the CLI")
        labels = {label: cid for cid, label in sim.clients.labels().items()}
        _aws_cli(
            "apigatewaymanagementapi",
            "post-to-connection",
            "--endpoint-url",
            sim.endpoints["management"],
            "--connection-id",
            labels["cli-watcher"],
            "--data",
            '{"hello": "cli"}',
        )
        assert json.loads(ws.recv(timeout=15)) == {"hello": "cli"}


def test_the_seed_route_set_answers_client_messages_with_the_forbidden_frame() -> None:
    with Simulator(routes="seed") as seed_api, connect(seed_api.endpoints["websocket"]) as ws:
        [row] = seed_api.connections()
        ws.send(json.dumps({"action": "subscribe", "flightId": FS101}))
        frame = json.loads(ws.recv(timeout=15))
        assert set(frame) == {"message", "connectionId", "requestId"}
        assert (frame["message"], frame["connectionId"]) == ("Forbidden", row["connectionId"])
        assert not [i for i in seed_api.invocations() if i.function == "on_default"]
        ws.close()
        seed_api.wait("settled")
        assert seed_api.connections() == []  # $disconnect ran


def test_unknown_route_sets_are_clear_errors() -> None:
    from fanoutsim.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown route set 'chat'"):
        Simulator(routes="chat")


def test_a_wrong_stage_is_forbidden_and_every_answer_has_a_request_id(sim: Simulator) -> None:
    base = sim.endpoints["management"].rsplit("/", 1)[0]
    for endpoint in (base + "/dev", base):
        client = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=endpoint,
            region_name=sim.options.region,
            **CREDENTIALS,
        )
        with pytest.raises(ClientError) as refused:
            client.post_to_connection(ConnectionId="abc=", Data=b"x")
        assert refused.value.response["Error"]["Code"] == "ForbiddenException"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert refused.value.response["ResponseMetadata"]["RequestId"]
    good = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=sim.endpoints["management"],
        region_name=sim.options.region,
        **CREDENTIALS,
    )
    with pytest.raises(ClientError) as gone:
        good.get_connection(ConnectionId="abc=")
    first = gone.value.response["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as again:
        good.get_connection(ConnectionId="abc=")
    assert first and first != again.value.response["ResponseMetadata"]["RequestId"]


def test_lambda_events_name_the_management_endpoint_and_have_fresh_request_ids(
    sim: Simulator,
) -> None:
    with connect(sim.endpoints["websocket"]) as ws:
        for text in ("one", "two"):
            ws.send(text)
            ws.recv(timeout=15)
    sim.wait("settled")  # waits for the $disconnect too
    contexts = [
        i.event["requestContext"]
        for i in sim.invocations()
        if i.function in ("on_connect", "on_default", "on_disconnect")
    ]
    assert len(contexts) == 4
    assert len({c["requestId"] for c in contexts}) == 4
    for context in contexts:
        assert f"http://{context['domainName']}/{context['stage']}" == sim.endpoints["management"]


def test_an_inbound_frame_over_32_kb_closes_that_client_with_1009_only(sim: Simulator) -> None:
    sim.flights.load()
    with (
        connect(sim.endpoints["websocket"]) as bystander,
        connect(sim.endpoints["websocket"], max_size=None) as sender,
    ):
        sender.send("x" * (40 * 1024))  # one 40 KB frame (the client does not fragment)
        with pytest.raises(ConnectionClosed) as closed:
            sender.recv(timeout=15)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        sim.flights.publish("FS101", "BOARDING", "still served")
        assert _messages(bystander, 1)[0]["eventDetails"] == "still served"


def test_a_100_kb_message_in_32_kb_fragments_is_accepted(sim: Simulator) -> None:
    with connect(sim.endpoints["websocket"]) as ws:
        chunk = "y" * (25 * 1024)
        ws.send(iter([chunk, chunk, chunk, chunk]))  # one 100 KB message, four frames
        answer = json.loads(ws.recv(timeout=15))
        assert answer["receivedBytes"] == 100 * 1024


def test_a_binary_frame_closes_the_client_with_1003(sim: Simulator) -> None:
    with connect(sim.endpoints["websocket"]) as ws:
        ws.send(b"\x00\x01binary")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=15)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003


def test_the_seeds_stream_filter_keeps_flight_status_items_only() -> None:
    with Simulator(mapping=stack.SEED_MAPPING) as seeded:
        seeded.flights.load()
        [client] = seeded.clients.add(1)
        table = boto3.resource("dynamodb").Table(stack.FLIGHTS_TABLE)
        table.put_item(Item={"flightId": "NOT-A-FLIGHT", "type": "Note", "event": "BOARDING"})
        seeded.flights.publish("FS101", "BOARDING", "typed items pass")
        seeded.wait("settled")
        assert set(client.board) == {FS101}  # the Note never reached anyone
        assert seeded.stream.counters()["filtered"] >= 1
        assert seeded.options.mapping.batch_size == 1


def test_the_seeds_signed_flights_request_gets_its_cors_preflight(sim: Simulator) -> None:
    """The seed's frontend signs GET /flights with an identity pool's credentials (its API
    uses IAM authorization), so the browser sends OPTIONS first: it used to get 404 and
    the frontend's table stayed empty."""
    import urllib.request

    request = urllib.request.Request(
        sim.endpoints["rest"] + "/flights",
        method="OPTIONS",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization,x-amz-date,x-amz-security-token",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        allowed = answer.headers["Access-Control-Allow-Headers"].lower()
        assert answer.status == 204 and answer.headers["Access-Control-Allow-Origin"] == "*"
    assert {"authorization", "x-amz-date", "x-amz-security-token"} <= {
        h.strip() for h in allowed.split(",")
    }
