"""The model's numerical building blocks against brute force."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from fanoutsim.model.posting import Demand, serve
from fanoutsim.model.receipts import NetworkTable, draw_last_and_first
from fanoutsim.model.timeline import StreamInputs, run_consumer
from fanoutsim.timing.distributions import Distribution, ndtri

NET = Distribution.lognormal({0.5: 40, 0.99: 200}, "test")


def test_ndtri_matches_the_standard_library() -> None:
    normal = NormalDist()
    for p in (1e-200, 1e-12, 1e-4, 0.025, 0.3, 0.5, 0.9, 0.999, 1 - 1e-12):
        assert ndtri([p])[0] == pytest.approx(normal.inv_cdf(p), abs=2e-4)


def test_order_statistics_of_min_and_max() -> None:
    rng = np.random.default_rng(0)
    post = Distribution.lognormal({0.5: 15, 0.99: 60}, "test")
    drawn = post.sample_min(rng, np.full(50_000, 10))
    brute = post.sample_array(rng, (50_000, 10)).min(axis=1)
    assert np.median(drawn) == pytest.approx(np.median(brute), rel=0.03)
    lanes = post.max_of_sums(rng, np.full(20_000, 100), np.full(20_000, 8))
    brute = post.sample_array(rng, (5_000, 8, 100)).sum(axis=2).max(axis=1)
    assert np.percentile(lanes, [5, 50, 95]) == pytest.approx(
        np.percentile(brute, [5, 50, 95]), rel=0.03
    )


@pytest.mark.parametrize("ramp_ms", [1_000.0, 0.0])
def test_first_and_last_receipt_match_drawing_every_delay(ramp_ms: float) -> None:
    """n posts spread evenly over ``ramp_ms`` (0: all at once), network delay each."""
    rng = np.random.default_rng(1)
    n, rows = 3_000, 1_500
    times = np.linspace(100, 100 + ramp_ms, n)
    brute = times + NET.sample_array(rng, (rows, n))
    k = np.linspace(0, n, 33)
    s = np.tile(np.linspace(100, 100 + ramp_ms, 33), (rows, 1))
    last, first = draw_last_and_first(k, s, NET, NetworkTable.of(NET), rng)
    for drawn, exact in ((last, brute.max(axis=1)), (first, brute.min(axis=1))):
        assert np.percentile(drawn, [10, 50, 90]) == pytest.approx(
            np.percentile(exact, [10, 50, 90]), rel=0.02
        )


def test_fixed_network_delay_is_added_exactly() -> None:
    s = np.array([[10.0, 20.0, 30.0]])
    last, first = draw_last_and_first(
        np.array([0.0, 1, 2]), s, Distribution.fixed(5, "t"), None, np.random.default_rng(0)
    )
    assert last[0] == 35 and first[0] == 15


def test_throttle_serves_the_burst_then_the_rate() -> None:
    """20,000 posts ready at once: 5,000 go immediately, then 10 per ms."""
    k = np.arange(1, 20_001, dtype=float)
    demand = Demand(
        k,
        np.zeros((1, k.size)),
        np.zeros(1),
        np.zeros((1, 1)),
        np.zeros((1, 1)),
        np.zeros(1),
        exact=True,
    )
    served = serve(demand, np.zeros(1), np.array([-np.inf]), rate_per_ms=10.0, burst=5_000)
    assert served[0, 4_999] == 0
    assert served[0, -1] == pytest.approx((20_000 - 5_000) / 10)
    # a limiter still busy from an earlier update (state x0) delays everything behind it
    later = serve(demand, np.zeros(1), np.array([700.0]), rate_per_ms=10.0, burst=5_000)
    assert later[0, 0] == pytest.approx(700 + (1 - 5_000) / 10)  # tokens left at 200 ms
    assert later[0, -1] == pytest.approx(700 + (20_000 - 5_000) / 10, abs=0.2)


def test_slow_demand_is_not_throttled() -> None:
    k = np.arange(1, 101, dtype=float)
    t = (k * 15.0)[None, :]  # one post every 15 ms: far below 10 per ms
    demand = Demand(k, t, np.zeros(1), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1), True)
    served = serve(demand, np.array([1_000.0]), np.array([-np.inf]), 10.0, 5_000)
    assert np.allclose(served, 1_000 + t)


def _inputs(ready: list[float], **overrides: object) -> StreamInputs:
    u = len(ready)
    values: dict[str, object] = {
        "ready": np.asarray(ready),
        "residual": np.zeros(u),
        "overhead": np.zeros(u),
        "cold_start": 0.0,
        "lookup": np.zeros(u),
        "q": np.zeros(u),
        "last": np.full(u, 100.0),
        "dispatch": np.zeros(u),
    }
    values.update(overrides)
    return StreamInputs(**values)  # type: ignore[arg-type]


def test_one_consumer_batches_records_that_wait() -> None:
    # each update needs 100 ms of posting; updates arrive every 30 ms
    timeline = run_consumer(
        _inputs([0, 30, 60, 90, 120]),
        posts=10,
        batch_size=100,
        per_record_lookup=False,
        chunked=False,
        rate_per_ms=10,
        burst=5_000,
        timeout_ms=900_000,
    )
    assert timeline.batch_sizes.tolist() == [1, 3, 1]
    assert timeline.fanout_start.tolist() == [0, 100, 100, 100, 400]
    assert timeline.origin.tolist() == [0, 100, 200, 300, 400]
    assert timeline.lookups == 3


def test_timeout_cuts_the_rest_of_a_batch() -> None:
    timeline = run_consumer(
        _inputs([0, 10, 20], last=np.full(3, 600.0)),
        posts=10,
        batch_size=100,
        per_record_lookup=False,
        chunked=False,
        rate_per_ms=10,
        burst=5_000,
        timeout_ms=500,
    )
    assert timeline.incomplete.tolist() == [True, True, True]
    assert timeline.skipped.tolist() == [False, False, True]  # never started
    assert timeline.batch_durations.tolist() == [500, 500]  # billed up to the timeout
