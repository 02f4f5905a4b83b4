"""Hostile input costs its sender only that input: a lone surrogate or a 5,000-deep Detail
fails its PutEvents entry (the others are delivered), a client message nested too deep to
parse goes to ``$default``, and a failing message integration answers "Internal server
error" without closing anyone.

Sources:
https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
(each entry succeeds or fails on its own, with an error code) and
https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
(messages no route matches go to ``$default``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.sync.client import connect

from fanoutsim import Simulator, stack
from fanoutsim.aws import eventbridge
from fanoutsim.functions import flight_model
from tests.sample_ids import FS101

DEEP = '{"a":' * 5000 + "1" + "}" * 5000


@pytest.mark.parametrize("detail", ['{"flightId": "FS101\ud800"}', DEEP])
def test_an_entry_that_cannot_be_read_fails_alone(detail: str) -> None:
    entry = stack.event_entry(flight_model.STATUS_UPDATED, {})
    entry["Detail"] = detail
    assert eventbridge.validate_entry(entry) == ("MalformedDetail", "Detail is malformed.")
    assert eventbridge.entry_size(entry) > 0  # sizing never raises


def test_put_events_delivers_the_good_entries_beside_unreadable_ones() -> None:
    with Simulator() as sim:
        client = sim.clients.add(1)[0]
        good = stack.event_entry(flight_model.NEW_FLIGHT, sim_flight())
        surrogate = {**good, "Detail": '{"flightId": "FS1\ud800"}'}
        deep = {**good, "Detail": DEEP}
        answer = sim.flights.put_events([surrogate, good, deep])
        assert answer["FailedEntryCount"] == 2
        assert [e.get("ErrorCode") for e in answer["Entries"]] == [
            "MalformedDetail",
            None,
            "MalformedDetail",
        ]
        sim.wait("settled")
        assert client.board[FS101]["flightId"] == FS101


def sim_flight() -> dict[str, Any]:
    from fanoutsim.sample_flights import sample_flights

    return dict(sample_flights()[0].flight)


def test_a_message_too_deep_to_parse_goes_to_default_and_the_client_stays() -> None:
    with Simulator() as sim, connect(sim.endpoints["websocket"], max_size=None) as ws:
        ws.send("[" * 15_000 + "]" * 15_000)  # one 30 KB frame, 15,000 deep
        assert json.loads(ws.recv(timeout=15))["error"] == "unsupported message"
        ws.send(json.dumps({"action": "subscribe", "flightIds": ["FS101"]}))
        assert json.loads(ws.recv(timeout=15)) == {"subscribed": ["FS101"]}


def test_a_failing_message_integration_answers_internal_server_error() -> None:
    def broken(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("table unavailable")

    with Simulator() as sim, connect(sim.endpoints["websocket"]) as ws:
        sim.replace_function("on_default", broken)
        ws.send("hello")
        frame = json.loads(ws.recv(timeout=15))
        assert frame["message"] == "Internal server error" and frame["requestId"]
        ws.send("again")  # still connected
        assert json.loads(ws.recv(timeout=15))["message"] == "Internal server error"
