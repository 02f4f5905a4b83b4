"""The model's bill for the change feed: free on a DynamoDB stream, priced on Kinesis."""

from __future__ import annotations

import dataclasses
import math

import pytest

from fanoutsim.aws.kinesis_records import change_record_bytes
from fanoutsim.aws.pricing import Usage, cost_of, load_prices
from fanoutsim.errors import DataFileError
from fanoutsim.model.costing import feed_usage
from fanoutsim.model.engine import simulate
from fanoutsim.model.scenario import MINUTES_PER_MONTH, Scenario

# DynamoDB change data capture for Kinesis: one unit per KB of change, per write
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds.html); Kinesis
# on-demand: a charge per stream hour, data in rounded up to 1 KB per record, data out
# not rounded (https://aws.amazon.com/kinesis/data-streams/pricing/).


def test_a_dynamodb_stream_costs_nothing_to_read() -> None:
    assert feed_usage(Scenario(subscribers=10), 1) == Usage()
    result = simulate(Scenario(subscribers=10, updates=20), "instant")
    assert result.cost_per_month["kinesis"] == 0
    assert result.usage_per_month.dynamodb_cdc_units == 0


@pytest.mark.parametrize("payload_kb", [1.0, 3.5])
def test_the_kinesis_feed_is_priced_by_hand(payload_kb: float) -> None:
    prices = load_prices()
    scenario = Scenario(subscribers=10, updates=20, payload_kb=payload_kb, stream="kinesis")
    result = simulate(scenario, "instant", prices)
    month = scenario.updates_per_month
    record = change_record_bytes(math.ceil(payload_kb * 1024))
    units = math.ceil(payload_kb)  # the write's own units: the item is the payload here
    hours = MINUTES_PER_MONTH / 60
    kinesis = (
        hours * 0.04
        + month * math.ceil(record / 1024) / 1024**2 * 0.08
        + month * record / 1024**3 * 0.04
    )
    assert result.cost_per_month["kinesis"] == pytest.approx(kinesis)
    plain = simulate(Scenario(subscribers=10, updates=20, payload_kb=payload_kb), "instant")
    extra_dynamodb = result.cost_per_month["dynamodb"] - plain.cost_per_month["dynamodb"]
    assert extra_dynamodb == pytest.approx(month * units * 0.10 / 1e6)
    assert result.usage_per_month.kinesis_stream_hours == pytest.approx(730)


def test_a_price_file_without_the_feed_prices_refuses_only_the_kinesis_feed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    prices = load_prices()
    lean = {k: v for k, v in prices.prices.items() if not k.startswith(("kinesis", "dynamodb_cdc"))}
    table = dataclasses.replace(prices, prices=lean)
    assert cost_of(Usage(dynamodb_write_units=1), table)["total"] > 0
    with pytest.raises(DataFileError, match="kinesis_stream_hours"):
        cost_of(Usage(kinesis_stream_hours=1), table)


def test_the_kinesis_feed_is_about_0_4_s_later_at_p50_and_1_s_at_p99() -> None:
    """The seed's feed against the default's under the aws profile, same seed: the stream
    stage alone moves (p50 627 vs 213 ms, p99 1,580 vs 552 ms published)."""
    dynamodb = simulate(Scenario(subscribers=100, updates=2000), "aws", seed=3)
    kinesis = simulate(Scenario(subscribers=100, updates=2000, stream="kinesis"), "aws", seed=3)
    first_d, first_k = dynamodb.time_to_first(), kinesis.time_to_first()
    assert 300 < first_k["p50"] - first_d["p50"] < 550
    assert 700 < first_k["p99"] - first_d["p99"] < 1300
    assert kinesis.to_dict()["scenario"]["stream"] == "kinesis"
