"""Faults on demand, live: each fault of a plan, and the report's account of every
(update, subscriber) pair beside what was injected.

Sources:
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
(a failed batch is retried; what it posted before failing is posted again),
https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
(an invocation is ended at its timeout) and
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
(a post to a connection that is gone answers 410) and
https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
(the SDK tries a throttled or failed call up to its maximum attempts, 3 by default).
"""

from __future__ import annotations

from typing import Any

import pytest

from fanoutsim import Simulator
from fanoutsim.errors import ConfigError
from fanoutsim.faults import FaultPlan
from fanoutsim.sample_flights import sample_flights

FLIGHT = sample_flights()[0].flight


def _pairs(sim: Simulator) -> dict[str, Any]:
    deliveries = sim.report().to_dict()["deliveries"]
    outcomes = ("delivered", "left", "undelivered", "missing")
    assert deliveries["expected"] == sum(deliveries[k] for k in outcomes)  # nothing unaccounted
    return deliveries


def _injected(sim: Simulator) -> dict[str, Any]:
    injected: dict[str, Any] = sim.report().to_dict()["faults"]["injected"]
    return injected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"function_error_rate": 1.5},
        {"post_error_rate": 0.6, "post_throttle_rate": 0.6},
        {"fail_on_record": 0},
        {"drop_clients": -1},
        {"stall_after_posts": 0},
        {"slow_client_s": 0},
    ],
)
def test_bad_plans_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        FaultPlan(**kwargs)


def test_a_failing_handler_leaves_its_pairs_undelivered_with_the_reason() -> None:
    with Simulator(faults=FaultPlan(function_error_rate=1.0)) as sim:
        sim.clients.add(3)
        trace = sim.flights.schedule(FLIGHT)
        sim.wait("settled")
        pairs = _pairs(sim)
        assert (pairs["expected"], pairs["undelivered"], pairs["delivered"]) == (3, 3, 0)
        assert (
            "discarded by the event source mapping after 3 retries"
            in (sim.report().to_dict()["dropped_updates"][trace])
        )
        assert _injected(sim)["function_errors"] == 1 + 3  # the first attempt and 3 retries


def test_failing_on_a_record_once_is_retried_and_reaches_everyone() -> None:
    with Simulator(faults=FaultPlan(fail_on_record=1)) as sim:
        sim.clients.add(3)
        sim.flights.schedule(FLIGHT)
        sim.wait("settled")
        pairs = _pairs(sim)
        assert (pairs["delivered"], pairs["missing"], pairs["duplicates"]) == (3, 0, 0)
        assert _injected(sim)["record_failures"] == 1


def test_throttled_and_failing_posts_are_retried_and_accounted() -> None:
    plan = FaultPlan(post_throttle_rate=0.15, post_error_rate=0.05, seed=7)
    with Simulator(faults=plan) as sim:
        sim.clients.add(10)
        sim.flights.load()
        pairs = _pairs(sim)
        injected = _injected(sim)
        assert pairs["missing"] == 0 and pairs["undelivered"] == 0
        assert injected["posts_throttled"] > 0 and injected["posts_failed"] > 0
        assert pairs["throttled"] == injected["posts_throttled"]
        assert pairs["failed"] == injected["posts_failed"]
        assert pairs["posted"] == pairs["delivered"] + pairs["duplicates"]


@pytest.mark.parametrize("attempts", [1, 2])
def test_the_sdk_tries_a_failing_post_post_attempts_times_before_the_record_fails(
    attempts: int,
) -> None:
    with Simulator(faults=FaultPlan(post_error_rate=1.0), post_attempts=attempts) as sim:
        sim.clients.add(1)
        sim.flights.schedule(FLIGHT)
        sim.wait("settled")
        fanouts = [i for i in sim.invocations() if i.function == "stream_fanout"]
        assert len(fanouts) == 1 + 3  # the first invocation and the mapping's 3 retries
        assert _injected(sim)["posts_failed"] == attempts * len(fanouts)
        assert _pairs(sim)["undelivered"] == 1


def test_post_attempts_out_of_range_is_refused() -> None:
    with pytest.raises(ConfigError, match="post_attempts"):
        Simulator(post_attempts=0)


def test_clients_dropped_mid_fan_out_end_as_left_and_their_rows_are_cleaned() -> None:
    plan = FaultPlan(drop_clients=3, drop_after_posts=5)
    with Simulator(faults=plan, post_concurrency=1) as sim:
        clients = {c.name: c for c in sim.clients.add(10)}
        trace = sim.flights.schedule(FLIGHT)
        sim.wait("settled")
        pairs = _pairs(sim)
        dropped = _injected(sim)["clients_dropped"]
        assert len(dropped) == 3 and not set(dropped) & set(sim.clients)
        # a dropped client heard the update if the fan-out reached it before the cut
        heard = [n for n in dropped if trace in clients[n].first_receipt]
        assert len(heard) <= 4  # only 4 posts went out before the cut
        assert (pairs["delivered"], pairs["left"], pairs["missing"]) == (
            7 + len(heard),
            3 - len(heard),
            0,
        )
        assert pairs["gone"] == 3 - len(heard)  # posted after the cut: 410, row deleted
        assert len(sim.connections()) == 7 + len(heard)  # the others' rows are stale


def test_a_stalled_invocation_is_cut_off_retried_and_its_posts_repeated() -> None:
    plan = FaultPlan(stall_invocations=1, stall_after_posts=3)
    with Simulator(faults=plan, timeouts={"stream_fanout": 1}, post_concurrency=1) as sim:
        sim.clients.add(6)
        sim.flights.schedule(FLIGHT)
        sim.wait("settled")
        pairs = _pairs(sim)
        assert (pairs["delivered"], pairs["missing"]) == (6, 0)
        assert (pairs["repeated"], pairs["duplicates"]) == (3, 3)  # the first 3 heard it twice
        assert pairs["posted"] == 3 + 6  # the cut-off body's 4th post never reached AWS
        fanouts = [i for i in sim.invocations() if i.function == "stream_fanout"]
        assert [i.timed_out for i in fanouts] == [True, False]
        assert fanouts[1].cold  # its environment was not reused
        assert _injected(sim)["stalls"] == 1
        sim.clients.leave([c.name for c in sim.clients.values()])
        after = _pairs(sim)  # the clients have gone; what they counted has not
        assert (after["repeated"], after["duplicates"], after["delivered"]) == (3, 3, 6)


def test_a_slow_client_hears_late_and_only_it() -> None:
    with Simulator(faults=FaultPlan(slow_clients=1, slow_client_s=1.0)) as sim:
        clients = sim.clients.add(4)
        trace = sim.flights.schedule(FLIGHT)
        sim.wait("settled")
        slow, fast = clients[0], clients[1:]
        assert slow.read_delay_s == 1.0 and all(c.read_delay_s == 0 for c in fast)
        assert max(c.first_receipt[trace] for c in fast) < slow.first_receipt[trace]
        sim.faults = FaultPlan()  # plans can change while running
        assert slow.read_delay_s == 0 and sim.faults == FaultPlan()
        assert sim.report().to_dict()["faults"] == {}


def test_fail_posts_answers_500_to_the_posts_after_the_good_ones() -> None:
    """The plan's burst of failures: after ``fail_posts_after`` posts, the next
    ``fail_posts`` are answered 500 in a row, then posts go through again."""
    from types import SimpleNamespace

    from fanoutsim.aws import apigw
    from fanoutsim.aws.management import ConnectionRecord, ManagementApi
    from fanoutsim.errors import ManagementError
    from fanoutsim.faults import FaultInjector

    api = ManagementApi()
    source = apigw.EventSource("abc=", 0, "api", "prod", "h", "192.0.2.1", "ua")
    api.connected(ConnectionRecord(apigw.ConnectionId("abc="), source, "c1", 0))
    injector = FaultInjector(SimpleNamespace(before_handler=None), api, lambda n: [])  # type: ignore[arg-type]
    injector.install()
    try:
        injector.use(FaultPlan(fail_posts=2, fail_posts_after=1))
        outcomes = []
        for _ in range(4):
            try:
                api.post("abc=", b"x")
                outcomes.append(200)
            except ManagementError as failure:
                outcomes.append(failure.status)
    finally:
        injector.uninstall()
    assert outcomes == [200, 500, 500, 200]
    assert injector.snapshot()["injected"]["posts_failed"] == 2
