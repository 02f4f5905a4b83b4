"""Connection lifetime and throttling, live: real sockets closed at the idle timeout and the
maximum duration with ``$disconnect`` run, connections refused above the new-connection
rate, and a fan-out throttled with 429 that still reaches everyone.

Sources:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
and https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import boto3
import pytest
from websockets.sync.client import connect

from fanoutsim import Simulator
from fanoutsim.aws.quotas import GatewayQuotas
from fanoutsim.errors import ConnectRejected
from fanoutsim.sample_flights import sample_flights


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _disconnects(sim: Simulator) -> list[dict]:
    return [i.event["requestContext"] for i in sim.invocations() if i.function == "on_disconnect"]


def test_an_idle_client_is_closed_with_1001_and_its_row_deleted_a_chatty_one_stays() -> None:
    with Simulator(quotas=GatewayQuotas(idle_timeout_s=2.0)) as sim:
        url = sim.endpoints["websocket"]
        with connect(f"{url}?client=idle") as idle, connect(f"{url}?client=chatty") as chatty:
            _until(lambda: len(sim.connections()) == 2)
            while not _disconnects(sim):  # the chatty client talks 10x faster than the timeout
                chatty.send(json.dumps({"action": "ping"}))
                chatty.recv(timeout=10)
                time.sleep(0.2)
            (closed,) = _disconnects(sim)
            assert closed["disconnectStatusCode"] == 1001
            assert closed["disconnectReason"] == "Going away"
            assert idle.close_code == 1001
            assert chatty.close_code is None  # still open
            _until(lambda: len(sim.connections()) == 1)  # the idle client's row is gone


def test_posts_to_a_client_reset_its_idle_timer_as_its_own_messages_do() -> None:
    """The seed's browsers only receive: a client that hears posts stays open past the
    idle timeout (the quota page counts no direction; services on API Gateway keep
    receive-only clients open with server-sent keep-alives), one that hears nothing goes.
    Posts go straight to @connections, so no pipeline delay stands between them."""
    with Simulator(quotas=GatewayQuotas(idle_timeout_s=3.0)) as sim:
        url = sim.endpoints["websocket"]
        api = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=sim.endpoints["management"],
            region_name=sim.options.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        with connect(f"{url}?client=hearing") as hearing:
            _until(lambda: len(sim.connections()) == 1)
            hearing_id = sim.connections()[0]["connectionId"]
            with connect(f"{url}?client=deaf") as deaf:
                while not _disconnects(sim):  # a keep-alive ten times faster than the timeout
                    api.post_to_connection(ConnectionId=hearing_id, Data=b'{"ping":1}')
                    time.sleep(0.3)
                (closed,) = _disconnects(sim)
                assert closed["disconnectStatusCode"] == 1001
                assert deaf.close_code == 1001
                assert hearing.close_code is None
                assert hearing.recv(timeout=10) == '{"ping":1}'


def test_the_maximum_duration_closes_even_a_chatty_client() -> None:
    with Simulator(quotas=GatewayQuotas(max_connection_s=1.0)) as sim:
        with connect(f"{sim.endpoints['websocket']}?client=a") as ws:
            while not _disconnects(sim):
                ws.send(json.dumps({"action": "ping"}))
                ws.recv(timeout=10)
                time.sleep(0.1)
            assert _disconnects(sim)[0]["disconnectStatusCode"] == 1001
        _until(lambda: sim.connections() == [])


def test_connections_above_the_new_connection_rate_are_refused_with_429() -> None:
    quotas = GatewayQuotas(new_connections_per_s=0.001, new_connections_burst=2)
    with Simulator(quotas=quotas) as sim:
        sim.clients.add(2)
        with pytest.raises(ConnectRejected) as refused:
            sim.clients.connect()
        assert refused.value.status == 429
        assert len(sim.connections()) == 2


def test_a_throttled_fan_out_retries_and_reaches_everyone() -> None:
    quotas = GatewayQuotas(requests_per_s=10, requests_burst=3)
    with Simulator(quotas=quotas) as sim:
        sim.clients.add(8)
        trace = sim.flights.schedule(sample_flights()[0].flight)
        sim.wait("settled", timeout=120)
        report = sim.report().to_dict()
        deliveries = report["deliveries"]
        assert deliveries["throttled"] > 0  # 8 posts at once against 3 tokens
        assert deliveries["missing"] == 0
        assert all(trace in c.first_receipt for c in sim.clients.values())
        # every post that got through is a delivery or a duplicate of one
        assert deliveries["posted"] == deliveries["delivered"] + deliveries["duplicates"]
