"""Per-flight fan-out, live: real sockets, the handlers on moto, and the accounting.

AWS pages this module checks:

- https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
- https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.html
"""

from __future__ import annotations

import pytest

from fanoutsim import provision, stack
from fanoutsim.errors import ConfigError, ConnectRejected, SimulatorError
from fanoutsim.simulator import Simulator
from tests.sample_ids import FS101, FS202, FS303, FS404


def _subscription_rows(sim: Simulator) -> set[tuple[str, str]]:
    items = provision.scan_all(sim._c.dynamodb, stack.SUBSCRIPTIONS_TABLE)
    labels = sim.clients.labels()
    return {(i["flightId"], labels.get(i["connectionId"], "?")) for i in items}


def test_an_update_reaches_only_that_flights_subscribers() -> None:
    with Simulator(fanout="per-flight") as sim:
        fs101 = [c.name for c in sim.clients.add(3, flights=["FS101"])]
        both = [c.name for c in sim.clients.add(2, flights=["FS101", "FS202"])]
        fs202 = [c.name for c in sim.clients.add(2, flights=["FS202"])]
        nobody = [c.name for c in sim.clients.add(1)]
        sim.flights.load()
        trace = sim.flights.publish("FS101", "BOARDING", "Group 1")
        sim.wait("settled")
        heard = {n for n, c in sim.clients.items() if trace in c.first_receipt}
        assert heard == set(fs101 + both)
        boards = sim.clients.boards()
        assert all(FS202 not in boards[n] for n in fs101)
        assert all(set(boards[n]) == {FS202} for n in fs202)
        assert boards[nobody[0]] == {}
        report = sim.report().to_dict()
        assert report["deliveries"]["missing"] == 0
        posts = report["operations"]["apigatewaymanagementapi:PostToConnection"]
        assert posts == 5 + 4 + 5  # FS101's load and update to 5 clients, FS202's load to 4
        fan = report["fanout"]
        assert fan["mode"] == "per-flight"
        assert fan["broadcast_would_owe"] - fan["owed"] == fan["saved_messages"] > 0
        assert fan["saved_usd"] > 0


def test_subscribe_and_unsubscribe_change_what_a_client_hears() -> None:
    with Simulator(fanout="per-flight") as sim:
        sim.flights.load()
        [client] = sim.clients.add(1)
        assert sim.clients.subscribe(client.name, ["FS303", "FS404"]) == [FS303, FS404]
        first = sim.flights.publish("FS303", "GATE_CHANGED", "New gate B44")
        sim.wait("settled")
        assert first in client.first_receipt
        assert sim.clients.unsubscribe(client.name, ["FS303"]) == [FS404]
        second = sim.flights.publish("FS303", "BOARDING")
        third = sim.flights.publish("FS404", "BOARDING")
        sim.wait("settled")
        assert second not in client.first_receipt and third in client.first_receipt
        with pytest.raises(SimulatorError, match="not a flight id"):
            sim.clients.subscribe(client.name, ["bad id"])
        assert _subscription_rows(sim) == {(FS404, client.name)}


def test_leaving_and_gone_clients_take_their_subscriptions_with_them() -> None:
    with Simulator(fanout="per-flight") as sim:
        sim.flights.load()
        stays, leaves, cut = (c.name for c in sim.clients.add(3, flights=["FS101"]))
        sim.clients.leave([leaves])
        sim.clients.sever([cut])  # no $disconnect: its rows stay until a post answers 410
        assert (FS101, "?") in _subscription_rows(sim)
        sim.flights.publish("FS101", "BOARDING")
        sim.wait("settled")
        assert _subscription_rows(sim) == {(FS101, stays)}
        assert [r["connectionId"] for r in sim.connections()] == list(sim.clients.labels())
        assert sim.report().to_dict()["deliveries"]["gone"] == 1


def test_broadcast_ignores_subscriptions_as_the_seed_does() -> None:
    with Simulator() as sim:
        sim.clients.add(2, flights=["FS101"])
        sim.flights.load()
        trace = sim.flights.publish("FS202", "BOARDING")
        sim.wait("settled")
        assert all(trace in c.first_receipt for c in sim.clients.values())
        assert sim.report().to_dict()["fanout"]["saved_messages"] == 0


def test_bad_flight_ids_at_connect_are_refused_with_400() -> None:
    with Simulator(fanout="per-flight") as sim:
        with pytest.raises(ConnectRejected) as refused:
            sim.clients.connect("flightId=two%20words")
        assert refused.value.status == 400
        assert sim.connections() == []


def test_unknown_fanout_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="fanout must be one of broadcast, per-flight"):
        Simulator(fanout="gossip")
