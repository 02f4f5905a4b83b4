"""The delivery ledger under subscription churn: any interleaving of publish, subscribe,
unsubscribe, leave and sever ends with every pair accounted for and none missing. Who is
owed an update is what the stream handler read (the flight's subscribers at its Query), as
on AWS, not a guess at publish time: a publish, then an unsubscribe and a resubscribe of
the same client, used to leave its pair "missing" and ``wait()`` timing out
although every client got exactly its messages.

AWS page: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
(a route's integration, here the subscribe and unsubscribe messages, changes what the
fan-out reads next).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fanoutsim import Simulator

FLIGHTS = ("FS101", "FS202")
OPERATION = st.one_of(
    st.tuples(st.just("publish"), st.sampled_from(FLIGHTS), st.just(0)),
    st.tuples(st.just("subscribe"), st.sampled_from(FLIGHTS), st.integers(0, 3)),
    st.tuples(st.just("unsubscribe"), st.sampled_from(FLIGHTS), st.integers(0, 3)),
    st.tuples(st.just("leave"), st.just(""), st.integers(0, 3)),
    st.tuples(st.just("sever"), st.just(""), st.integers(0, 3)),
)


def _apply(sim: Simulator, operation: tuple[str, str, int]) -> None:
    verb, flight, who = operation
    names = list(sim.clients)
    if verb == "publish":
        sim.flights.publish(flight, "BOARDING", "Group 1")
        return
    if who >= len(names):
        return
    name = names[who]
    if verb in ("subscribe", "unsubscribe"):
        getattr(sim.clients, verb)(name, [flight])
    elif verb == "leave":
        sim.clients.leave([name])
    else:
        sim.clients.sever([name])


def _balanced(sim: Simulator) -> dict[str, Any]:
    d: dict[str, Any] = sim.report().to_dict()["deliveries"]
    assert d["expected"] == d["delivered"] + d["left"] + d["undelivered"] + d["missing"]
    return d


def test_publish_then_unsubscribe_and_resubscribe_five_times_leaves_nothing_missing() -> None:
    with Simulator(fanout="per-flight") as sim:
        sim.flights.load()
        sim.clients.add(3, flights=["FS101"])
        first = next(iter(sim.clients))
        for _ in range(5):
            sim.flights.publish("FS101", "BOARDING", "Group 1")
            sim.clients.unsubscribe(first, ["FS101"])
            sim.clients.subscribe(first, ["FS101"])
        sim.wait(timeout=30)
        d = _balanced(sim)
        assert d["missing"] == 0 and d["duplicates"] == 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPERATION, min_size=3, max_size=10))
def test_any_interleaving_accounts_for_every_pair(operations: list[tuple[str, str, int]]) -> None:
    with Simulator(fanout="per-flight") as sim:
        sim.flights.load()
        sim.clients.add(2, flights=["FS101"])
        sim.clients.add(2, flights=["FS202"])
        for operation in operations:
            _apply(sim, operation)
        sim.wait(timeout=30)
        d = _balanced(sim)
        assert d["missing"] == 0 and d["duplicates"] == 0
