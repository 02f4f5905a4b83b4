"""Every (update, subscriber) pair is accounted for, however the subscriber went: closed
by the server (``DeleteConnection``, a message over 128 KB), cut, or leaving while another
thread publishes.

Sources:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
(DeleteConnection closes a client) and
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
(a message over 128 KB closes the connection with 1009) and
https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
(an accepted entry goes to the rules it matches, and to nothing else).
"""

from __future__ import annotations

import threading
import time

import boto3
from websockets.sync.client import connect

from fanoutsim import Simulator
from fanoutsim.aws import apigw
from tests.sample_ids import FS101


def _balanced(sim: Simulator) -> dict[str, int]:
    d = sim.report().to_dict()["deliveries"]
    assert d["expected"] == d["delivered"] + d["left"] + d["undelivered"] + d["missing"]
    return d


def test_clients_the_server_closes_are_owed_nothing_more() -> None:
    with Simulator() as sim:
        deleted, oversize, stays = sim.clients.add(3)
        sim.flights.load()
        ids = {label: cid for cid, label in sim.clients.labels().items()}
        key, secret = sim.options.credentials
        boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=sim.endpoints["management"],
            region_name=sim.options.region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
        ).delete_connection(ConnectionId=ids[deleted.name])
        assert oversize.ws is not None
        sim._c.loop.run(oversize.ws.send("x" * (apigw.MAX_PAYLOAD_BYTES + 1)))
        deadline = time.monotonic() + 30
        while len(sim.clients) > 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(sim.clients) == [stays.name]
        assert oversize.ws.close_code == apigw.CLOSE_MESSAGE_TOO_BIG
        trace = sim.flights.publish("FS101", "BOARDING", "Group 1")
        sim.wait(timeout=30)  # nothing is owed to the two that went
        assert trace in stays.first_receipt
        assert _balanced(sim)["missing"] == 0
        closes = {(d["disconnectStatusCode"], d["disconnectReason"]) for d in _disconnects(sim)}
        assert (1000, "Connection Closed Normally") in closes  # as AWS logs DeleteConnection
        assert {code for code, _ in closes} == {1000, 1009}  # the gateway's 1009, not 1006


def _disconnects(sim: Simulator) -> list[dict]:
    deadline = time.monotonic() + 30
    while True:
        found = [
            i.event["requestContext"] for i in sim.invocations() if i.function == "on_disconnect"
        ]
        if len(found) >= 2 or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_a_client_close_reports_its_own_code_and_a_missing_status_in_aws_words() -> None:
    with Simulator() as sim:
        url = sim.endpoints["websocket"]
        with connect(f"{url}?client=plain") as plain, connect(f"{url}?client=bare") as bare:
            plain.close(4001, "done here")
            bare.socket.sendall(b"\x88\x80" + b"mask")  # a masked close frame, no status in it
        closes = {(d["disconnectStatusCode"], d["disconnectReason"]) for d in _disconnects(sim)}
    assert closes == {(4001, "done here"), (1005, "Client-side close frame status not set")}


def test_clients_leaving_while_another_thread_publishes_are_never_left_owed() -> None:
    with Simulator() as sim:
        sim.flights.load()
        clients = sim.clients.add(40)
        stop = threading.Event()

        def publish() -> None:
            while not stop.is_set():
                sim.flights.publish("FS202", "GATE_CHANGED", "New gate B44")
                time.sleep(0.01)

        publisher = threading.Thread(target=publish)
        publisher.start()
        try:
            sim.clients.leave([c.name for c in clients[:20]])
        finally:
            stop.set()
            publisher.join()
        sim.wait(timeout=60)
        d = _balanced(sim)
        # one flight's statuses published back to back may run out of order: a late one is
        # superseded (written by nobody, sent to nobody); nothing else goes undelivered
        reasons = set(sim.report().to_dict()["dropped_updates"].values())
        assert d["missing"] == 0 and all(r.startswith("superseded") for r in reasons)
        assert d["undelivered"] == 0 or reasons


def test_an_accepted_entry_no_rule_matches_owes_nothing_and_says_why() -> None:
    """EventBridge accepts an entry whatever its source or detail type, and delivers it to
    the rules it matches: none here, so it is owed to nobody (found by the edge fuzzer: such
    entries stayed "missing" forever)."""
    from fanoutsim import stack
    from fanoutsim.functions import flight_model

    with Simulator() as sim:
        sim.clients.add(2)
        entry = {**stack.event_entry(flight_model.STATUS_UPDATED, {"flightId": FS101})}
        answer = sim.flights.put_events(
            [{**entry, "DetailType": "Flight delayed"}, {**entry, "Source": "x"}]
        )
        assert answer["FailedEntryCount"] == 0  # accepted: no rule is not an error
        sim.wait("idle")
        report = sim.report().to_dict()
    assert report["deliveries"]["missing"] == 0
    assert report["deliveries"]["undelivered"] == 4
    reasons = set(report["dropped_updates"].values())
    assert len(reasons) == 2 and all(r.startswith("no rule matched: ") for r in reasons)
