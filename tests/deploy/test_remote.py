"""The attached mode: the code that drives a deployed stack (boto3 on the bus, real
WebSocket clients, GET /flights over HTTP) pointed at the simulator's own endpoints gives
what the simulator gives: every owed update delivered, none twice, left clients not owed.

AWS page: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html
is not involved here; the receipts are the clients' own. The AWS-side figures come from
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-logging.html
(the WebSocket API's CloudWatch metrics), read by ``DeployedStack.cloudwatch``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from fanoutsim import stack
from fanoutsim.deploy import state
from fanoutsim.deploy.remote import DeployedStack
from fanoutsim.errors import DeployError
from fanoutsim.sample_flights import sample_flights
from fanoutsim.simulator import Simulator
from tests.sample_ids import FS101


@pytest.fixture(params=stack.FANOUT_MODES)
def attached(request: pytest.FixtureRequest) -> Iterator[tuple[Simulator, DeployedStack]]:
    fanout = request.param
    with Simulator(aws_endpoint=True, fanout=fanout, authorizer=True) as sim:
        remote = DeployedStack.of_simulator(sim)
        try:
            yield sim, remote
        finally:
            remote.close()


def test_attached_clients_get_every_owed_update_once(
    attached: tuple[Simulator, DeployedStack],
) -> None:
    sim, remote = attached
    remote.clients.add(2, flights=["FS101"])
    remote.clients.add(1, flights=["FS202"])
    remote.flights.load()
    assert {f["flightId"] for f in remote.flights.rows()} == {f.flight_id for f in sample_flights()}
    remote.flights.publish("FS101", "BOARDING", "Boarding group 1")
    remote.wait()
    left = remote.clients.leave(1)
    remote.flights.publish("FS202", "DEPARTURE_DELAYED", "Crew late")
    remote.wait()
    report = remote.report()
    pairs = report["deliveries"]
    assert pairs["missing"] == pairs["undelivered"] == 0 and report["duplicates"] == 0
    assert pairs["expected"] == pairs["delivered"] + pairs["left"]
    everyone = 3 if remote.options.fanout == "broadcast" else 1
    flights = len(sample_flights())
    owed_loads = 3 * flights if remote.options.fanout == "broadcast" else 3  # FS101 x2, FS202 x1
    assert pairs["expected"] == owed_loads + everyone + (
        everyone - 1 if remote.options.fanout == "broadcast" else 1
    )
    assert report["end_to_end_ms"]["count"] == pairs["delivered"]
    assert report["client_calls"]["events:PutEvents"] == flights + 2
    # people see a table with rounded figures, not a raw dict
    html = report._repr_html_()
    assert html.startswith("<table>") and "end to end ms" in html and "source" in html
    (line,) = [row for row in str(report).splitlines() if row.startswith("end to end ms")]
    assert re.search(r"p50 [\d,]+\.\d, p95", line), line  # rounded to 0.1 ms
    assert left[0] not in remote.clients.boards()
    board = remote.clients.boards()[next(iter(remote.clients))]
    assert board[FS101]["event"] == "BOARDING"
    assert sim.report().to_dict()["outside_operations"]["events:PutEvents"] == flights + 2


def test_widgets_see_changes(attached: tuple[Simulator, DeployedStack]) -> None:
    _, remote = attached
    kinds: list[str] = []
    remote.on_change(kinds.append)
    remote.clients.add(1, flights=["FS101"])
    remote.flights.load()
    remote.off_change(kinds.append)
    assert "connections" in kinds and "message" in kinds
    assert remote.ping_rtts(3) and all(r > 0 for r in remote.ping_rtts(3))


def test_outputs_and_names_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANOUTSIM_STATE_DIR", str(tmp_path))
    with pytest.raises(DeployError, match="lack WebSocketEndpoint, EventBusName"):
        DeployedStack({})
    with pytest.raises(DeployError, match="no deployment of nowhere in eu-west-1"):
        DeployedStack.from_stack("nowhere", "eu-west-1")
    state.save(
        "here", "eu-west-1", {"outputs": {"WebSocketEndpoint": "wss://x", "EventBusName": "b"}}
    )
    remote = Simulator.attach("here", region="eu-west-1")
    try:
        assert remote.endpoints["websocket"] == "wss://x"
        with pytest.raises(DeployError, match="needs a connected client"):
            remote.ping_rtts(1)
    finally:
        remote.close()


def test_cloudwatch_figures_are_read_by_api_and_function(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        outputs = {
            "WebSocketEndpoint": "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod",
            "EventBusName": "bus",
            "StreamFunctionName": "stack-StreamFanout-1",
            "FunctionNames": (
                "flight_events=stack-FlightEvents-1,stream_fanout=stack-StreamFanout-1"
            ),
        }
        remote = DeployedStack(outputs, region="eu-west-1")
        try:
            cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
            now = datetime.now(UTC)
            for namespace, name, dimension, value in (
                ("AWS/ApiGateway", "MessageCount", ("ApiId", "abc123"), 40.0),
                ("AWS/ApiGateway", "MessageCount", ("ApiId", "other"), 999.0),
                ("AWS/Lambda", "IteratorAge", ("FunctionName", "stack-StreamFanout-1"), 250.0),
                ("AWS/Lambda", "Errors", ("FunctionName", "stack-FlightEvents-1"), 2.0),
                ("AWS/Lambda", "Invocations", ("FunctionName", "stack-StreamFanout-1"), 7.0),
            ):
                cloudwatch.put_metric_data(
                    Namespace=namespace,
                    MetricData=[
                        {
                            "MetricName": name,
                            "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
                            "Timestamp": now,
                            "Value": value,
                        }
                    ],
                )
            figures = remote.cloudwatch(minutes=5)
        finally:
            remote.close()
    assert figures == {  # every function's, not the stream function's alone
        "AWS/ApiGateway:MessageCount:Sum": 40.0,
        "AWS/Lambda:IteratorAge:Maximum:stream_fanout": 250.0,
        "AWS/Lambda:Errors:Sum:flight_events": 2.0,
        "AWS/Lambda:Invocations:Sum:stream_fanout": 7.0,
    }


def test_loading_flights_twice_owes_nothing_for_the_second_time(
    attached: tuple[Simulator, DeployedStack],
) -> None:
    _, remote = attached
    remote.clients.add(1, flights=["FS101"])
    assert len(remote.flights.load()) == len(sample_flights())
    assert remote.flights.load() == []  # already in the view model: nobody would hear them
    assert remote.report()["deliveries"]["missing"] == 0
