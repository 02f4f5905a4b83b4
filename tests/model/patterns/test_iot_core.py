"""IoT Core (Pattern 4) priced by hand from the price file.

Metering: https://aws.amazon.com/iot-core/pricing/additional-details/ (5 KB increments;
PUBLISH sent by the service, CONNECT and SUBSCRIBE are metered);
prices: https://aws.amazon.com/iot-core/pricing/ .
"""

from __future__ import annotations

import pytest

from fanoutsim.aws.pricing import PriceTable
from fanoutsim.model.patterns import iot_core
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
    messages = d + n * d + 2 * sessions(n)  # the publish, each delivery, CONNECT + SUBSCRIBE
    call_ms = ctx.stages.stage("iot_publish_call").mean()
    expected = (
        ingest_by_hand(prices, 20)
        + stream_function_by_hand(prices, d, call_ms)
        + usd(prices, "iot_messages", messages)
        + usd(prices, "iot_connection_minutes", n * MONTH)
    )
    result = iot_core.model(Ask(subscribers=n), ctx)
    assert result.total() == pytest.approx(expected, rel=1e-12)


def test_a_6_kb_update_is_two_messages_per_delivery(ctx: Context) -> None:
    small = iot_core.model(Ask(subscribers=1000, payload_kb=5), ctx)
    large = iot_core.model(Ask(subscribers=1000, payload_kb=6), ctx)
    m5, m6 = small.meter("messages").quantity, large.meter("messages").quantity
    publishes_and_deliveries = 20 * MONTH * 1001
    assert m6 - m5 == pytest.approx(publishes_and_deliveries)


def test_the_outbound_publish_rate_binds_a_large_broadcast(ctx: Context) -> None:
    quota = ctx.limits["iot_outbound_publishes_per_s"].value
    fits = quota * 60 // 20  # subscribers whose copies at 20 updates/min just fit
    assert iot_core.model(Ask(subscribers=fits), ctx).feasible  # exactly at the quota
    over = iot_core.model(Ask(subscribers=fits + 3), ctx)
    assert not over.feasible
    assert any("outbound" in n for n in over.needs())
    under = iot_core.model(Ask(subscribers=fits - 3), ctx)
    assert not any("outbound" in n for n in under.needs())


def test_the_last_subscriber_waits_for_every_copy_at_the_quota_rate(ctx: Context) -> None:
    quota = ctx.limits["iot_outbound_publishes_per_s"].value
    small = iot_core.model(Ask(subscribers=10), ctx)
    big = iot_core.model(Ask(subscribers=10 + quota), ctx)  # one more second of copies
    shift = float((big.time_to_last_ms - small.time_to_last_ms).mean())
    assert shift == pytest.approx(1000.0, abs=1.0)
    assert float((big.time_to_first_ms - small.time_to_first_ms).mean()) == pytest.approx(0.0)
