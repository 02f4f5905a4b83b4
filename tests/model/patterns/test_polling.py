"""Polling a REST API (Pattern 0) priced by hand, and its freshness.

Prices: https://aws.amazon.com/api-gateway/pricing/ (REST requests, tiered); the seed's
interval and request: flight-status/frontend/src/components/Polling.jsx (GET /flights every
15 s). DynamoDB Scan reads: 4 KB units, half for eventually consistent reads
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fanoutsim.aws.pricing import PriceTable
from fanoutsim.model.patterns import polling
from fanoutsim.model.patterns.base import Ask, Context
from fanoutsim.model.scenario import stack_memory
from tests.model.patterns.conftest import MONTH, ingest_by_hand, usd


@pytest.mark.parametrize("n", [100, 10_000])
def test_monthly_cost_by_hand(ctx: Context, prices: PriceTable, n: int) -> None:
    requests = n * MONTH * 60 / 15
    board = 100 * 1024  # 100 flights of 1 KB in every response
    read_ms = math.ceil(ctx.profile.distribution("dynamodb_read").mean())
    gb_s = requests * read_ms * stack_memory()["stream_fanout"] / 1024 / 1000
    expected = (
        ingest_by_hand(prices, 20)
        + usd(prices, "apigateway_rest_requests", requests)
        + usd(prices, "lambda_requests", requests)
        + usd(prices, "lambda_gb_seconds_x86_64", gb_s)
        + usd(prices, "dynamodb_read_request_units", requests * math.ceil(board / 4096) / 2)
    )
    assert polling.model(Ask(subscribers=n), ctx).total() == pytest.approx(expected, rel=1e-12)


def test_the_bill_does_not_follow_the_update_rate(ctx: Context, prices: PriceTable) -> None:
    slow = polling.model(Ask(subscribers=1000, updates_per_minute=1), ctx)
    fast = polling.model(Ask(subscribers=1000, updates_per_minute=100), ctx)
    assert slow.total() - ingest_by_hand(prices, 1) == pytest.approx(
        fast.total() - ingest_by_hand(prices, 100)
    )


def test_the_last_of_many_clients_waits_about_a_whole_interval(ctx: Context) -> None:
    r = polling.model(Ask(subscribers=10_000, poll_interval_s=10), ctx)
    last = float(np.median(r.time_to_last_ms))
    first = float(np.median(r.time_to_first_ms))
    assert 10_000 < last < 11_500  # the interval, plus the ingest and one request
    assert first < 1_500


def test_the_account_throttle_binds_many_fast_pollers(ctx: Context) -> None:
    rps = ctx.limits["account_requests_per_s"].value
    ok = polling.model(Ask(subscribers=rps, poll_interval_s=1), ctx)
    over = polling.model(Ask(subscribers=rps + 1, poll_interval_s=1), ctx)
    assert not any("API Gateway throttle" in n for n in ok.needs())
    assert any("API Gateway throttle" in n for n in over.needs())
