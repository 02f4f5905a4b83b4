"""The whole pipeline through the facade, including the bad-input and failure paths.

AWS pages this module checks:

- https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from fanoutsim import stack
from fanoutsim.errors import ConnectRejected, SimulatorError
from fanoutsim.faults import FaultPlan
from fanoutsim.functions.flight_model import NEW_FLIGHT, STATUS_UPDATED
from fanoutsim.simulator import Simulator
from tests.sample_ids import FS101, FS202, FS303, FS404


def _ids(sim: Simulator) -> set[str]:
    return {row["connectionId"] for row in sim.connections()}


def test_every_client_receives_every_update_with_the_seed_payload(sim: Simulator) -> None:
    sim.clients.add(5)
    sim.flights.load()
    trace = sim.flights.publish("FS101", "BOARDING", "Group 1")
    sim.wait()
    for client in sim.clients.values():
        payload = client.board[FS101]
        assert (payload["event"], payload["eventDetails"], payload["operation"]) == (
            "BOARDING",
            "Group 1",
            "UPDATE",
        )
        assert trace in client.first_receipt
    report = sim.report().to_dict()
    assert report["deliveries"]["missing"] == 0
    assert report["deliveries"]["delivered"] == report["deliveries"]["expected"] == 5 * 7
    assert report["operations"]["apigatewaymanagementapi:PostToConnection"] == 35
    assert report["operations"]["events:PutEvents"] == 7
    assert report["stages"]["end_to_end"]["count"] == 35
    assert "Flight" not in str(report["dropped_updates"])


def test_connections_table_follows_clients(sim: Simulator) -> None:
    sim.clients.add(3)
    assert len(_ids(sim)) == 3
    sim.clients.leave(2)
    sim.wait("idle")
    assert len(_ids(sim)) == 1


def test_rejected_connect_returns_the_status_and_leaves_no_row() -> None:
    with Simulator(connect_token="s3cret") as sim:
        with pytest.raises(ConnectRejected) as rejected:
            sim.clients.connect()
        assert rejected.value.status == 401
        sim.clients.connect(query="token=s3cret")
        assert len(_ids(sim)) == 1


def test_connect_handler_that_raises_refuses_the_upgrade_with_502(sim: Simulator) -> None:
    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("table unavailable")

    sim.replace_function("on_connect", broken)
    with pytest.raises(ConnectRejected) as rejected:
        sim.clients.connect()
    assert rejected.value.status == 502
    assert _ids(sim) == set()


def test_bad_put_events_entries_fail_alone(sim: Simulator) -> None:
    sim.clients.add(2)
    sim.flights.load()
    good = stack.event_entry(
        STATUS_UPDATED, {"flightId": FS202, "event": "BOARDING", "traceId": "good-one"}
    )
    missing_detail = {k: v for k, v in good.items() if k != "Detail"}
    not_json = {**good, "Detail": "{not json"}
    unknown_status = stack.event_entry(STATUS_UPDATED, {"flightId": FS202, "event": "WARP"})
    response = sim.flights.put_events([good, missing_detail, not_json, unknown_status])
    assert response["FailedEntryCount"] == 2
    codes = [e.get("ErrorCode") for e in response["Entries"]]
    assert codes[0] is None and codes[3] is None
    assert codes[1] == "InvalidArgument" and codes[2] == "MalformedDetail"
    sim.wait("idle")
    for client in sim.clients.values():
        assert client.board[FS202]["event"] == "BOARDING"
    errors = [i for i in sim.invocations() if i.function == "flight_events" and not i.ok]
    assert len(errors) == 3  # the unknown status: first try and Lambda's two async retries
    assert "unknown flight status 'WARP'" in (errors[0].error or "")


def test_publish_of_unknown_status_is_reported_not_waited_for(sim: Simulator) -> None:
    sim.clients.add(1)
    sim.flights.load()
    trace = sim.flights.publish("FS101", "WARP")
    sim.wait(timeout=10)
    assert "unknown flight status" in sim.report().to_dict()["dropped_updates"][trace]


def test_duplicate_new_flight_is_not_overwritten(sim: Simulator) -> None:
    sim.flights.load()
    trace = sim.flights.schedule({**stack_flight(), "gate": "ZZ"})
    sim.wait("idle")
    assert "duplicate" in sim.report().to_dict()["dropped_updates"][trace]
    assert {f["flightId"]: f["gate"] for f in sim.flights.rows()}[FS101] == "A4"


def stack_flight() -> dict[str, str]:
    from fanoutsim.sample_flights import sample_flights

    return dict(sample_flights()[0].flight)


async def _send(url: str, message: str | bytes) -> tuple[Any, int | None]:
    async with connect(url, max_size=None) as ws:
        await ws.send(message)
        try:
            return json.loads(await asyncio.wait_for(ws.recv(), 5)), None
        except ConnectionClosed as closed:
            return None, closed.rcvd.code if closed.rcvd else None


def test_client_messages_go_to_default_and_oversize_closes_only_that_client(
    sim: Simulator,
) -> None:
    sim.clients.add(3)
    sim.flights.load()
    url = sim.endpoints["websocket"]
    reply, _ = asyncio.run(_send(url, "not json"))
    assert reply["error"] == "unsupported message"
    reply, _ = asyncio.run(_send(url, json.dumps({"action": "book"})))
    assert reply["error"] == "unsupported message"
    reply, _ = asyncio.run(_send(url, json.dumps({"action": "subscribe"})))
    assert reply == {"error": "flightIds must be a list of strings", "action": "subscribe"}
    _, code = asyncio.run(_send(url, "x" * 200_000))
    assert code == 1009
    sim.flights.publish("FS303", "GATE_CHANGED", "B44")
    sim.wait()
    assert all(c.board[FS303]["eventDetails"] == "B44" for c in sim.clients.values())


def test_stale_connection_answers_410_is_deleted_and_the_rest_are_served(
    sim: Simulator,
) -> None:
    clients = sim.clients.add(4)
    sim.flights.load()
    sim.clients.sever([clients[1].name])
    assert len(_ids(sim)) == 4  # $disconnect never ran: the row is stale
    sim.flights.publish("FS505", "BOARDING")
    sim.wait()
    sim.wait("idle")  # the post to the stale row may come after the live clients'
    report = sim.report().to_dict()
    assert report["deliveries"]["gone"] == 1
    assert report["deliveries"]["missing"] == 0
    assert len(_ids(sim)) == 3


def test_failed_post_retries_the_record_and_counts_duplicates() -> None:
    with Simulator(post_concurrency=1) as sim:  # posts in order, so "after 2" is exact
        sim.clients.add(4)
        sim.flights.load()
        sim.faults = FaultPlan(
            fail_posts=1, fail_posts_after=2
        )  # one 500: boto3 retries it by itself
        sim.flights.publish("FS101", "BOARDING")
        sim.wait()
        sim.wait("idle")
        assert sim.report().to_dict()["deliveries"]["duplicates"] == 0
        sim.faults = FaultPlan(
            fail_posts=5, fail_posts_after=2
        )  # outlasts boto3's retries: the record fails
        sim.flights.publish("FS101", "DEPARTED_GATE")
        sim.wait()
        sim.wait("idle")
        report = sim.report().to_dict()
        assert report["deliveries"]["missing"] == 0
        assert report["deliveries"]["failed"] == 6
        assert report["deliveries"]["duplicates"] == 2  # the two posted before the failure
        assert report["stream"]["retries"] == 1


def test_retries_exhausted_drops_the_update_visibly(sim: Simulator) -> None:
    sim.clients.add(1)
    sim.flights.load()
    sim.faults = FaultPlan(fail_posts=100)
    trace = sim.flights.publish("FS101", "BOARDING")
    sim.wait(timeout=10)
    report = sim.report().to_dict()
    assert "discarded by the event source mapping" in report["dropped_updates"][trace]
    assert report["stream"]["discarded"] == 1


def test_in_process_transport_has_the_same_semantics() -> None:
    with Simulator(transport="in-process") as sim:
        clients = sim.clients.add(3)
        sim.flights.load()
        sim.clients.sever([clients[0].name])
        sim.flights.publish("FS101", "TOOK_OFF")
        sim.wait()
        sim.wait("idle")
        report = sim.report().to_dict()
        assert report["deliveries"]["gone"] == 1
        assert report["deliveries"]["missing"] == 0
        assert report["operations"]["apigatewaymanagementapi:PostToConnection"] == 3 * 7


def test_one_simulator_at_a_time(sim: Simulator) -> None:
    with pytest.raises(SimulatorError, match="another Simulator"):
        Simulator()


def test_rest_endpoint_serves_flights(sim: Simulator) -> None:
    import urllib.request

    sim.flights.load()
    with urllib.request.urlopen(sim.endpoints["rest"] + "/flights") as response:
        flights = json.loads(response.read())
    assert {f["flightId"] for f in flights} >= {FS101, FS202}
    assert NEW_FLIGHT  # the flights came from "New flight scheduled" events


def test_client_leaving_during_a_fanout_gets_410_and_the_rest_are_served() -> None:
    from fanoutsim.timing.distributions import Distribution
    from fanoutsim.timing.profiles import load_profile

    slow_posts = load_profile("instant").with_delay(
        "post_to_connection", Distribution.fixed(30, "test: a slow management API")
    )
    with Simulator(profile=slow_posts, post_concurrency=1) as sim:  # one post at a time
        sim.clients.add(6)
        sim.flights.load()
        trace = sim.flights.publish("FS606", "BOARDING")
        posts = sim.timeline(trace).per_connection["post"]
        deadline = time.monotonic() + 10
        while not posts:  # the fan-out has started
            assert time.monotonic() < deadline
            time.sleep(0.001)
        leaver = next(name for name in sim.clients if name not in posts)
        sim.clients.leave([leaver])
        sim.wait()
        sim.wait("idle")
        report = sim.report().to_dict()
        assert report["deliveries"]["gone"] == 1
        assert report["deliveries"]["missing"] == 0
        assert len(_ids(sim)) == 5


def test_a_second_simulator_meters_like_the_first() -> None:
    counts = []
    for _ in range(2):
        with Simulator() as sim:
            sim.clients.add(2)
            sim.flights.load()
            sim.wait("idle")
            ops = sim.report().to_dict()["operations"]
            posts = ops.get("apigatewaymanagementapi:PostToConnection")
            counts.append((ops.get("dynamodb:PutItem"), posts))
    assert counts[0] == counts[1] == (2 + 6, 2 * 6)


def test_filtered_records_are_reported_not_waited_for() -> None:
    from fanoutsim.aws.esm import MappingConfig

    only_cancellations = MappingConfig(
        filter_patterns=({"dynamodb": {"NewImage": {"event": {"S": ["CANCELLED"]}}}},)
    )
    with Simulator(mapping=only_cancellations) as sim:
        sim.clients.add(2)
        sim.flights.load(wait=False)
        trace = sim.flights.publish("FS404", "CANCELLED", "Rebooked")
        sim.wait("settled", timeout=10)
        report = sim.report().to_dict()
        assert report["stream"]["filtered"] >= 6
        assert "FilterCriteria" in report["dropped_updates"][sim.flights.published[0]]
        assert trace not in report["dropped_updates"]
        assert all(b[FS404]["event"] == "CANCELLED" for b in sim.clients.boards().values())


def test_leaving_clients_are_out_of_the_table_when_the_call_returns(sim: Simulator) -> None:
    sim.clients.add(5)
    sim.clients.leave(3)
    assert len(_ids(sim)) == 2


def test_stage_timings_are_never_negative(sim: Simulator) -> None:
    sim.clients.add(3)
    sim.flights.load()
    for status in ("BOARDING", "DEPARTED_GATE", "TOOK_OFF"):
        sim.flights.publish("FS505", status)
        sim.wait("settled")
    assert sim.flights.latest == sim.flights.published[-1]
    assert sim.timeline(sim.flights.published[-1]).points["table_write"] > 0
    from fanoutsim.tracing import stage_samples

    samples = stage_samples([sim.timeline(t) for t in sim.flights.published])
    for name, values in samples.items():
        assert values, name
        assert min(values) >= 0, name


def test_one_update_posts_once_per_connections_row_an_outside_page_included(
    sim: Simulator,
) -> None:
    """Notebook 00's Exercise 2: a page the trainee opened is one more row, so one more post
    (the old expected answer, 55, ignored it and a trainee with the page open saw 58)."""
    from websockets.sync.client import connect as connect_sync

    sim.clients.add(5)
    sim.flights.load()
    with connect_sync(sim.endpoints["websocket"] + "?client=page"):
        while len(sim.connections()) < 6:
            time.sleep(0.01)
        calls = sim.report().to_dict()["operations"]
        before = calls["apigatewaymanagementapi:PostToConnection"]
        sim.flights.publish("FS505", "BOARDING")
        sim.wait("idle")
        after = sim.report().to_dict()["operations"]["apigatewaymanagementapi:PostToConnection"]
        assert after - before == len(sim.connections()) == 6


def test_connect_events_carry_the_edges_headers(sim: Simulator) -> None:
    sim.clients.add(1)
    (event,) = [i.event for i in sim.invocations() if i.function == "on_connect"]
    headers = event["headers"]
    assert headers["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert headers["X-Forwarded-For"] == "127.0.0.1" and headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Forwarded-Port"] == sim.endpoints["websocket"].split(":")[2].split("/")[0]
