"""AppSync Events (Pattern 5, the seed's Pipe and Step Functions publisher) priced by hand.

Prices: the AWS Price List's Event API operation row (see prices.toml),
https://aws.amazon.com/step-functions/pricing/ and https://aws.amazon.com/eventbridge/pricing/
(Pipes). The seed's workflow: flight-status/src/workflows/publishEvents.asl.yaml.
"""

from __future__ import annotations

import pytest

from fanoutsim.aws.pricing import PriceTable
from fanoutsim.model.patterns import appsync_events
from fanoutsim.model.patterns.base import Ask, Context
from tests.model.patterns.conftest import MONTH, ingest_by_hand, sessions, usd


@pytest.mark.parametrize("n", [100, 10_000])
def test_monthly_cost_by_hand(ctx: Context, prices: PriceTable, n: int) -> None:
    d = 20 * MONTH
    operations = d + n * d + 2 * sessions(n)  # publish, deliveries, connect + subscribe
    expected = (
        ingest_by_hand(prices, 20)
        + usd(prices, "pipes_requests", d)
        + usd(prices, "stepfunctions_standard_transitions", 2 * d)  # the Map and one task
        + usd(prices, "appsync_events_operations", operations)
        + usd(prices, "appsync_events_connection_minutes", n * MONTH)
    )
    assert appsync_events.model(Ask(subscribers=n), ctx).total() == pytest.approx(
        expected, rel=1e-12
    )


def test_coalescing_shrinks_the_operations_by_the_batch(ctx: Context) -> None:
    """At 20 updates/min a 15 s window holds 5 updates of 1 KB: one 5 KB message."""
    plain = appsync_events.model(Ask(subscribers=1000), ctx)
    held = appsync_events.model(Ask(subscribers=1000, coalesce_s=15), ctx)
    assert Ask(subscribers=1000, coalesce_s=15).batch(5120) == 5

    connects = 2 * sessions(1000)
    assert (held.meter("Event API operations").quantity - connects) * 5 == pytest.approx(
        plain.meter("Event API operations").quantity - connects
    )
    # ...and the wait shows in the latency: up to 15 s more, 7.5 s on average.
    extra = float((held.time_to_last_ms - plain.time_to_last_ms).mean())
    assert 7_000 < extra < 8_000
