"""The simulator's subscribers: what one client keeps of the messages it receives."""

from __future__ import annotations

import json

from fanoutsim.runtime.subscribers import Subscriber


def test_a_first_receipt_is_recorded_once_and_repeats_are_counted() -> None:
    client = Subscriber(name="a")
    message = json.dumps({"flightId": "FS101", "status": "BOARDING", "traceId": "t-1"})
    assert client.receive(message, 1.0) == "t-1"
    assert client.receive(message, 2.0) is None
    assert (client.first_receipt, client.duplicates, client.repeated) == ({"t-1": 1.0}, 1, {"t-1"})


def test_every_client_shares_one_string_per_update() -> None:
    """Each client decodes its own copy of the message; the trace id it keeps is one
    shared string, so a hundred subscribers do not hold a hundred copies of it."""
    clients = [Subscriber(name=f"c{n}") for n in range(100)]
    for client in clients:
        client.receive(json.dumps({"flightId": "FS101", "traceId": "trace-" + "x" * 40}), 1.0)
    keys = {id(next(iter(c.first_receipt))) for c in clients}
    assert len(keys) == 1
