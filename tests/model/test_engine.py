"""The virtual-time model's behaviour: counts, costs, latencies and the quotas that bind."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from fanoutsim.aws.pricing import SERVICES, cost_of, load_prices
from fanoutsim.errors import ConfigError
from fanoutsim.model.engine import simulate
from fanoutsim.model.result import format_ms
from fanoutsim.model.scenario import MINUTES_PER_MONTH, Quotas, Scenario
from fanoutsim.model.strategies import connection_usage
from fanoutsim.stages import STAGES


def run(seed: int = 1, profile: str = "aws", **kwargs: object):  # type: ignore[no-untyped-def]
    kwargs.setdefault("updates", 200)
    return simulate(Scenario(**kwargs), profile, seed=seed)  # type: ignore[arg-type]


def test_broadcast_operations_per_update_match_the_live_functions() -> None:
    result = run(subscribers=100)
    assert result.operations == {
        "events:PutEvents": 1,
        "dynamodb:UpdateItem": 1,
        "dynamodb:Scan": 1,
        "apigatewaymanagementapi:PostToConnection": 100,
    }
    assert result.invocations == {"flight_events": 1, "stream_fanout": 1}
    assert result.operations_total["apigatewaymanagementapi:PostToConnection"] == 100 * 200
    assert result.invocations_total["stream_fanout"] == 200  # spaced updates: one per batch


def test_scan_pages_follow_the_1_mb_limit() -> None:
    # 56-byte connection items: 18,724 fit in one 1 MiB page
    assert run(subscribers=18_000, updates=2, concurrency=500).operations["dynamodb:Scan"] == 1
    assert run(subscribers=20_000, updates=2, concurrency=500).operations["dynamodb:Scan"] == 2
    big = run(subscribers=1_000_000, updates=2, concurrency=1000, updates_per_minute=0.1)
    assert big.operations["dynamodb:Scan"] == math.ceil(1_000_000 * 56 / (1 << 20))
    assert any("1 MB page limit" in note for note in big.binding)


def test_per_flight_queries_and_posts_to_one_flight() -> None:
    result = run(subscribers=10_000, strategy="per-flight", flights=50)
    assert result.operations["dynamodb:Query"] == 1
    assert "dynamodb:Scan" not in result.operations
    assert result.operations["apigatewaymanagementapi:PostToConnection"] == 200
    custom = run(subscribers=10_000, strategy="per-flight", subscriptions_per_flight=37)
    assert custom.operations["apigatewaymanagementapi:PostToConnection"] == 37


def test_chunked_invokes_one_worker_per_chunk() -> None:
    result = run(subscribers=2_500, strategy="chunked", chunk_size=1_000, updates_per_minute=2)
    assert result.operations["dynamodb:Scan"] == 1
    assert result.operations["lambda:Invoke"] == 3
    assert result.invocations == {"flight_events": 1, "stream_fanout": 1, "fanout_worker": 3}
    assert result.operations["apigatewaymanagementapi:PostToConnection"] == 2_500


def test_same_seed_same_result_other_seed_other_draws() -> None:
    a = run(seed=7, subscribers=300, concurrency=4)
    b = run(seed=7, subscribers=300, concurrency=4)
    c = run(seed=8, subscribers=300, concurrency=4)
    assert np.array_equal(a.time_to_last_ms, b.time_to_last_ms)
    assert a.cost_per_month == b.cost_per_month
    assert not np.array_equal(a.time_to_last_ms, c.time_to_last_ms)
    big = [
        run(seed=7, subscribers=200_000, strategy="chunked", updates_per_minute=1) for _ in range(2)
    ]
    assert np.array_equal(big[0].time_to_last_ms, big[1].time_to_last_ms)


def test_broadcast_cost_scales_linearly_in_n() -> None:
    costs = [
        run(subscribers=n, concurrency=100, updates_per_minute=2).cost_per_month
        for n in (1_000, 2_000, 4_000)
    ]
    for small, large in itertools.pairwise(costs):
        assert large["apigateway"] == pytest.approx(2 * small["apigateway"], rel=1e-9)
        assert large["total"] == pytest.approx(2 * small["total"], rel=0.03)


def test_per_flight_is_cheaper_than_broadcast() -> None:
    broadcast = run(subscribers=10_000, concurrency=50).cost_per_month["total"]
    per_flight = run(subscribers=10_000, strategy="per-flight", concurrency=50)
    assert per_flight.cost_per_month["total"] < broadcast / 10


def test_chunked_lowers_time_to_last() -> None:
    common = {"subscribers": 5_000, "concurrency": 4, "updates_per_minute": 0.5}
    broadcast = run(**common).time_to_last()
    chunked = run(strategy="chunked", chunk_size=500, **common).time_to_last()
    assert chunked["p50"] is not None and broadcast["p50"] is not None
    assert chunked["p50"] < broadcast["p50"] / 4


def test_more_concurrency_lowers_time_to_last() -> None:
    slow = run(subscribers=1_000, updates_per_minute=1, concurrency=1).time_to_last()["p50"]
    fast = run(subscribers=1_000, updates_per_minute=1, concurrency=20).time_to_last()["p50"]
    assert slow is not None and fast is not None and fast < slow / 5


def test_throttle_binds_at_large_n() -> None:
    """1M posts at 10,000/s (burst 5,000) take at least 99.5 s, whatever the concurrency."""
    common = {
        "subscribers": 1_000_000,
        "strategy": "chunked",
        "concurrency": 10,
        "updates_per_minute": 0.4,
        "updates": 40,
    }
    result = run(**common)
    last = result.time_to_last()
    assert last["p50"] is not None and 99_500 < last["p50"] < 104_000
    assert any("exceed the 5,000 burst" in note for note in result.binding)
    faster = run(quotas=Quotas(connections_rps=20_000), **common).time_to_last()["p50"]
    assert faster is not None and 49_700 < faster < 54_000
    overloaded = run(subscribers=1_000_000, strategy="chunked", concurrency=10)
    assert any("posts/s needed" in note for note in overloaded.binding)


def test_instant_profile_leaves_only_the_throttle() -> None:
    small = run(profile="instant", subscribers=100)
    assert np.all(small.time_to_last_ms == 0) and np.all(small.time_to_first_ms == 0)
    throttled = run(profile="instant", subscribers=20_000, updates_per_minute=0.5, updates=5)
    # the first 5,000 posts use the burst, the next 15,000 go at 10 per ms
    assert throttled.time_to_last_ms == pytest.approx(np.full(5, 1_500.0), abs=0.2)


def test_lambda_timeout_binds_and_is_reported_as_never() -> None:
    result = run(subscribers=100_000, updates=5, updates_per_minute=0.05, concurrency=1)
    assert result.incomplete_updates == 5
    assert np.all(np.isinf(result.time_to_last_ms))
    assert result.to_dict()["time_to_last_ms"]["p50"] is None
    assert any("Lambda timeout" in note for note in result.binding)


def test_monthly_cost_is_updates_plus_connections() -> None:
    scenario = Scenario(subscribers=500, updates=100, concurrency=10)
    result = simulate(scenario, "aws", seed=2)
    prices = load_prices()
    keep_connected = cost_of(connection_usage(scenario, 4.0), prices)
    for service in (*SERVICES, "total"):
        expected = (
            result.cost_per_update[service] * scenario.updates_per_month + keep_connected[service]
        )
        assert result.cost_per_month[service] == pytest.approx(expected, rel=1e-3, abs=1e-6)
    usage = result.usage_per_month
    assert usage.connection_minutes == 500 * MINUTES_PER_MONTH
    assert usage.websocket_messages == pytest.approx(500 * scenario.updates_per_month)


def test_message_tier_lowers_the_price_above_a_billion() -> None:
    result = run(subscribers=1_000_000, updates=5, concurrency=1000, updates_per_minute=20)
    messages = result.usage_per_month.websocket_messages
    assert messages > 1e9
    per_message = result.cost_per_month["apigateway"] - 1_000_000 * MINUTES_PER_MONTH * 0.25e-6
    assert per_message / messages * 1e6 < 0.81


def test_payload_over_32_kb_is_two_messages_and_chunks() -> None:
    small = run(subscribers=100, payload_kb=1)
    large = run(subscribers=100, payload_kb=40)
    messages = small.usage_per_update.websocket_messages
    assert large.usage_per_update.websocket_messages == 2 * messages
    assert large.usage_per_update.dynamodb_write_units == 40


def test_stage_percentiles_use_the_live_stage_names() -> None:
    result = run(subscribers=50)
    assert list(result.stages) == [name for name, _, _ in STAGES]
    for stats in result.stages.values():
        assert stats["count"] and stats["p50"] is not None
    e2e = result.stages["end_to_end"]
    assert result.time_to_first()["p50"] <= e2e["p50"] <= result.time_to_last()["p99"]  # type: ignore[operator]


def test_cold_start_slows_the_first_update() -> None:
    result = run(subscribers=10, updates=50)
    assert result.time_to_last_ms[0] > np.median(result.time_to_last_ms[1:])
    warm = run(subscribers=10, updates=50, cold_start=False)
    assert warm.time_to_last_ms[0] < result.time_to_last_ms[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"subscribers": 1_500, "updates_per_minute": 0.5, "concurrency": 1},
        {"subscribers": 1_500, "updates_per_minute": 2, "concurrency": 10},
        {
            "subscribers": 2_000,
            "strategy": "chunked",
            "chunk_size": 300,
            "concurrency": 4,
            "updates_per_minute": 2,
        },
    ],
)
def test_order_statistics_agree_with_drawing_every_call(kwargs: dict[str, object]) -> None:
    scenario = Scenario(updates=1_000, **kwargs)  # type: ignore[arg-type]
    exact = simulate(scenario, "aws", seed=4, exact=True)
    fluid = simulate(scenario, "aws", seed=4, exact=False)
    assert exact.exact and not fluid.exact
    for a, b in (
        (exact.time_to_last(), fluid.time_to_last()),
        (exact.time_to_first(), fluid.time_to_first()),
    ):
        assert b["p50"] == pytest.approx(a["p50"], rel=0.05)
        assert b["p99"] == pytest.approx(a["p99"], rel=0.10)  # p99 of 1,000 draws is noisy
    assert fluid.cost_per_month["total"] == pytest.approx(exact.cost_per_month["total"], rel=0.01)


def test_bad_scenarios_are_rejected() -> None:
    with pytest.raises(ConfigError, match="strategy"):
        Scenario(subscribers=10, strategy="gossip")
    with pytest.raises(ConfigError, match="subscribers"):
        Scenario(subscribers=0)
    with pytest.raises(ConfigError, match="128"):
        Scenario(subscribers=10, payload_kb=200)
    Scenario(subscribers=10, strategy="chunked", chunk_size=50_000)  # fits 1 MB since 2026
    with pytest.raises(ConfigError, match="1,024 KB"):
        Scenario(subscribers=10, strategy="chunked", chunk_size=60_000)
    with pytest.raises(ConfigError, match="lambda_timeout_s"):
        Scenario(subscribers=10, lambda_timeout_s=1_000)


def test_the_reading_is_made_from_the_figures() -> None:
    big = simulate(Scenario(subscribers=50_000, updates_per_minute=20), "aws", seed=0)
    text = big.reading()
    share = 100 * big.cost_per_month["apigateway"] / big.cost_per_month["total"]
    assert f"{share:.1f}% API Gateway" in text and "50,000 messages per update" in text
    assert "does not keep up" in text and "@connections throttle" in text
    small = simulate(Scenario(subscribers=500, updates_per_minute=20, updates=50), "aws", seed=0)
    assert "does not keep up" not in small.reading()
    assert format_ms(small.time_to_last()["p50"]) in small.reading()
