"""Validation: for small N the virtual-time model agrees with a live run of the simulator.

Counts must agree exactly: the model's per-update operations and invocations are what the
live functions do, call for call, once the ``flights.load()`` set-up is subtracted.

Latencies: the model predicts what the ``aws`` profile's delays add up to; it says nothing
about this machine's own cost (moto calls, boto3 and HTTP per PostToConnection, thread
hops), which on a busy 2-core laptop can add a second to a fan-out. So the same workload
runs live twice in the test, under ``instant`` (the host's cost alone) and under ``aws``
(host plus injected delays), and the difference is held against the model: it must lie
within ``REL_TOL`` of the model's figure plus ``ABS_TOL_MS``, the sampling noise of a
handful of updates. A model that gets a delay wrong by more than that still fails.
"""

from __future__ import annotations

from typing import Any

import pytest

from fanoutsim.model.engine import simulate
from fanoutsim.model.scenario import Scenario
from fanoutsim.sample_flights import sample_flights
from fanoutsim.simulator import Simulator
from fanoutsim.stats import percentiles
from fanoutsim.tracing import stage_samples

FLIGHTS = [f.flight_id for f in sample_flights()]
REL_TOL = 0.20
ABS_TOL_MS = 100.0


def _counts(report: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    invocations = {name: use["count"] for name, use in report["invocations"].items()}
    return dict(report["operations"]), invocations


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    changes = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
    return {k: v for k, v in changes.items() if v}


def _live_run(
    profile: str, subscribers: int, updates: int, fanout: str = "broadcast"
) -> dict[str, Any]:
    """Publish ``updates`` spaced status updates of FS101 to ``subscribers`` clients (under
    per-flight, spread evenly over the six sample flights, one flight each); return what
    the live simulator metered and traced for those updates only."""
    with Simulator(profile=profile, seed=1, fanout=fanout) as sim:
        if fanout == "per-flight":
            for flight in FLIGHTS:
                sim.clients.add(subscribers // len(FLIGHTS), flights=[flight])
        else:
            sim.clients.add(subscribers)
        sim.flights.load()
        sim.wait("idle")
        ops_before, inv_before = _counts(sim.report().to_dict())
        traces = []
        for i in range(updates):
            traces.append(sim.flights.publish("FS101", "BOARDING", f"Boarding group {i + 1}"))
            sim.wait()
            sim.wait("idle")
        report = sim.report().to_dict()
        ops_after, inv_after = _counts(report)
        samples = stage_samples([sim.timeline(t) for t in traces])
        delivered = sum(1 for t in traces for c in sim.clients.values() if t in c.first_receipt)
    return {
        "operations": _delta(ops_after, ops_before),
        "invocations": _delta(inv_after, inv_before),
        "stages": {name: percentiles(values) for name, values in samples.items()},
        "delivered": delivered,
        "report": report,
    }


def _per_update(counts: dict[str, int], updates: int) -> dict[str, int]:
    assert all(v % updates == 0 for v in counts.values()), counts
    return {k: v // updates for k, v in counts.items()}


@pytest.mark.parametrize("subscribers", [10, 200])
def test_operation_counts_match_a_live_run_exactly(subscribers: int) -> None:
    updates = 3
    live = _live_run("instant", subscribers, updates)
    model = simulate(Scenario(subscribers=subscribers, updates=updates), "instant", seed=1)
    assert live["delivered"] == subscribers * updates
    assert _per_update(live["operations"], updates) == model.operations
    assert _per_update(live["invocations"], updates) == model.invocations
    assert model.operations_total == live["operations"]


@pytest.mark.parametrize("subscribers", [12, 300])
def test_per_flight_operation_counts_match_a_live_run_exactly(subscribers: int) -> None:
    updates = 3
    live = _live_run("instant", subscribers, updates, fanout="per-flight")
    scenario = Scenario(
        subscribers=subscribers, updates=updates, strategy="per-flight", flights=len(FLIGHTS)
    )
    model = simulate(scenario, "instant", seed=1)
    followers = subscribers // len(FLIGHTS)
    assert live["delivered"] == followers * updates
    assert _per_update(live["operations"], updates) == model.operations
    assert model.operations["dynamodb:Query"] == 1
    assert model.operations["apigatewaymanagementapi:PostToConnection"] == followers
    assert _per_update(live["invocations"], updates) == model.invocations


def test_latency_distribution_matches_a_live_run_under_the_aws_profile() -> None:
    subscribers, updates = 50, 6
    host = _live_run("instant", subscribers, updates)  # this machine's own cost, same work
    live = _live_run("aws", subscribers, updates)
    # spaced updates on warm functions, as in the live loop (its cold starts were spent
    # on flights.load())
    scenario = Scenario(
        subscribers=subscribers, updates=2_000, updates_per_minute=4, cold_start=False
    )
    model = simulate(scenario, "aws", seed=1)
    assert live["delivered"] == host["delivered"] == subscribers * updates
    assert _per_update(live["operations"], updates) == model.operations
    checks = [("end_to_end", "p50"), ("end_to_end", "p95"), ("eventbridge", "p50"), ("post", "p50")]
    for stage, key in checks:
        expected = model.stages[stage][key]
        with_delays, alone = live["stages"][stage][key], host["stages"][stage][key]
        assert expected is not None and with_delays is not None and alone is not None
        injected = with_delays - alone
        tolerance = REL_TOL * expected + ABS_TOL_MS
        assert abs(injected - expected) <= tolerance, (
            f"{stage} {key}: live {with_delays:.0f} ms - host {alone:.0f} ms = "
            f"{injected:.0f} ms, model {expected:.0f} ms (tolerance {tolerance:.0f} ms)"
        )
