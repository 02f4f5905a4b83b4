"""AppSync GraphQL subscriptions (Pattern 1) priced by hand from the price file.

Prices and what counts as a real-time update: https://aws.amazon.com/appsync/pricing/
(outbound messages and WebSocket operations such as connects are real-time updates).
"""

from __future__ import annotations

import pytest

from fanoutsim.aws.pricing import PriceTable
from fanoutsim.model.patterns import appsync_graphql
from fanoutsim.model.patterns.base import Ask, Context
from tests.model.patterns.conftest import (
    MONTH,
    ingest_by_hand,
    sessions,
    stream_function_by_hand,
    usd,
)


@pytest.mark.parametrize("n", [100, 10_000])
def test_monthly_cost_by_hand(ctx: Context, prices: PriceTable, n: int) -> None:
    d = 20 * MONTH
    call_ms = ctx.stages.stage("appsync_mutation_call").mean()
    expected = (
        ingest_by_hand(prices, 20)
        + stream_function_by_hand(prices, d, call_ms)
        + usd(prices, "appsync_graphql_operations", d)  # one mutation per update
        + usd(prices, "appsync_realtime_updates", n * d + 2 * sessions(n))
        + usd(prices, "appsync_connection_minutes", n * MONTH)
    )
    assert appsync_graphql.model(Ask(subscribers=n), ctx).total() == pytest.approx(
        expected, rel=1e-12
    )


def test_per_flight_subscriptions_deliver_only_to_the_flights_subscribers(ctx: Context) -> None:
    everyone = appsync_graphql.model(Ask(subscribers=10_000), ctx)
    filtered = appsync_graphql.model(Ask(subscribers=10_000, subscriptions_per_flight=100), ctx)

    d = 20 * MONTH
    drop = everyone.meter("real-time").quantity - filtered.meter("real-time").quantity
    assert drop == pytest.approx((10_000 - 100) * d)
